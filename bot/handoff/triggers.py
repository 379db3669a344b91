"""When the bot hands over to a person: pure rules over the customer's recent messages.

Shared by the dialogue policy (which decides to escalate) and the escalation action
(which records why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.faq.corrections import correction
from bot.faq.knowledge_base import load_knowledge_base
from bot.handoff.tickets import EscalationReason
from bot.signals.frustration import frustration

HANDOFF_INTENT = "human_handoff"
ESCALATE_ACTION = "action_escalate"  # the action that hands a conversation to a person
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class EscalationRules:
    """What makes the bot escalate (set in data/handoff.yml and the FAQ topic files)."""

    low_confidence_turns: int = 3
    negative_score: float = -0.7
    negative_turns: int = 3
    keywords: tuple[str, ...] = ()
    human_only: frozenset[str] = field(default_factory=frozenset)  # FAQ ids and intents

    @classmethod
    def load(cls, data: Path = Path("data")) -> EscalationRules:
        """Reads ``data/handoff.yml`` (``escalation:``) and FAQ ``human_only`` markings."""
        settings_file = data / "handoff.yml"
        raw: dict[str, Any] = {}
        if settings_file.exists():
            raw = (yaml.safe_load(settings_file.read_text()) or {}).get("escalation") or {}
        human_only = set(raw.get("human_only_intents") or [])
        for topic in load_knowledge_base([data]).topics:
            for entry in topic.entries:
                if topic.options.get("human_only") or entry.id in set(
                    topic.options.get("human_only_entries") or []
                ):
                    human_only.add(entry.intent_response_key)
        return cls(
            low_confidence_turns=int(raw.get("low_confidence_turns", cls.low_confidence_turns)),
            negative_score=float(raw.get("negative_score", cls.negative_score)),
            negative_turns=int(raw.get("negative_turns", cls.negative_turns)),
            keywords=tuple(str(k).lower() for k in raw.get("frustration_keywords") or ()),
            human_only=frozenset(human_only),
        )

    def as_config(self) -> dict[str, Any]:
        """A JSON-friendly form (persisted with the trained policy)."""
        return {
            "low_confidence_turns": self.low_confidence_turns,
            "negative_score": self.negative_score,
            "negative_turns": self.negative_turns,
            "keywords": list(self.keywords),
            "human_only": sorted(self.human_only),
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EscalationRules:
        return cls(
            low_confidence_turns=int(config["low_confidence_turns"]),
            negative_score=float(config["negative_score"]),
            negative_turns=int(config["negative_turns"]),
            keywords=tuple(config["keywords"]),
            human_only=frozenset(config["human_only"]),
        )


@lru_cache(maxsize=1)
def escalation_rules(data_path: str = "data") -> EscalationRules:
    """The rules as the action server sees them: read once, on first use (like the
    knowledge base, they change with a deployment)."""
    return EscalationRules.load(Path(data_path))


def escalation_reason(
    user_turns: Sequence[Mapping[str, Any]], rules: EscalationRules
) -> EscalationReason | None:
    """Why the latest customer message calls for a person, or None.

    ``user_turns`` are the parse data of the customer's messages in this session, oldest first.
    """
    if not user_turns:
        return None
    latest = user_turns[-1]
    if _intent(latest) == HANDOFF_INTENT:
        return EscalationReason.REQUESTED
    if _label(latest) in rules.human_only and correction(str(latest.get("text") or "")) is None:
        return EscalationReason.HUMAN_ONLY_TOPIC  # "I don't want to cancel, ..." is no request
    recent = user_turns[-rules.low_confidence_turns :]
    if len(recent) == rules.low_confidence_turns and all(
        _intent(t) == FALLBACK_INTENT for t in recent
    ):
        return EscalationReason.LOW_CONFIDENCE
    if _is_negative(user_turns, rules):
        return EscalationReason.NEGATIVE_SENTIMENT
    return None


def _is_negative(user_turns: Sequence[Mapping[str, Any]], rules: EscalationRules) -> bool:
    latest = user_turns[-1]
    text = str(latest.get("text") or "").lower()
    if any(re.search(rf"\b{re.escape(k)}\b", text) for k in rules.keywords):
        return True
    if frustration(user_turns).frustrated and frustration(user_turns[:-1]).frustrated:
        return True  # repeatedly frustrated
    recent = user_turns[-rules.negative_turns :]
    scores = [_sentiment(t) for t in recent]
    return len(recent) == rules.negative_turns and all(
        s is not None and s <= rules.negative_score for s in scores
    )


def _intent(parse_data: Mapping[str, Any]) -> str:
    return str((parse_data.get("intent") or {}).get("name") or "")


def _label(parse_data: Mapping[str, Any]) -> str:
    """The FAQ entry (``faq/<id>``) of a message, else its intent."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    key = (selector.get("response") or {}).get("intent_response_key")
    return str(key) if key and _intent(parse_data) == "faq" else _intent(parse_data)


def _sentiment(parse_data: Mapping[str, Any]) -> float | None:
    score = (parse_data.get("sentiment") or {}).get("score")
    return float(score) if isinstance(score, (int, float)) else None
