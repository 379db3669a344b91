"""How urgent a customer message is (0..1), from its topic, its words and its sentiment."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_LETTERS = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class UrgencyRules:
    """Designer-declared urgent topics and phrases (``data/signals.yml``)."""

    urgent_topics: Mapping[str, float] = field(default_factory=dict)
    urgent_phrases: Mapping[str, float] = field(default_factory=dict)
    negative_weight: float = 0.4

    @classmethod
    def load(cls, path: Path) -> UrgencyRules:
        raw: dict[str, Any] = {}
        if path.exists():
            raw = (yaml.safe_load(path.read_text()) or {}).get("urgency") or {}
        return cls(
            urgent_topics={str(k): float(v) for k, v in (raw.get("topics") or {}).items()},
            urgent_phrases={
                str(k).lower(): float(v) for k, v in (raw.get("phrases") or {}).items()
            },
            negative_weight=float(raw.get("negative_weight", cls.negative_weight)),
        )

    def as_config(self) -> dict[str, Any]:
        return {
            "topics": dict(self.urgent_topics),
            "phrases": dict(self.urgent_phrases),
            "negative_weight": self.negative_weight,
        }


def shouting(text: str) -> bool:
    """Mostly capitals over at least eight letters ("THIS IS RIDICULOUS")."""
    letters = _LETTERS.findall(text)
    return len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= 0.7


def urgency(
    text: str,
    topic: str,
    sentiment_score: float | None,
    rules: UrgencyRules,
    irony: bool = False,
) -> float:
    """The strongest urgent cue, raised by negative sentiment, shouting and sarcasm; 0..1."""
    lowered = text.lower()
    cues: Iterable[float] = [
        rules.urgent_topics.get(topic, 0.0),
        *(w for p, w in rules.urgent_phrases.items() if re.search(rf"\b{re.escape(p)}\b", lowered)),
    ]
    score = max(cues, default=0.0)
    if sentiment_score is not None and sentiment_score < 0:
        score += rules.negative_weight * -sentiment_score
    if shouting(text) or text.count("!") >= 3:
        score += 0.1
    if irony and sentiment_score is not None and sentiment_score < 0:
        score += 0.1  # "Great, it died again. Thanks a lot." is as pressing as shouting
    return round(min(1.0, score), 3)
