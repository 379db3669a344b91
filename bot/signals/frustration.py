"""Frustration across a conversation: repeated negative turns, the same question again,
shouting, profanity. Pure functions over the customer's recent messages (parse data)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.signals.urgency import shouting

WINDOW = 3
#: The shipped sentiment model (trained on tweets) scores plain questions such as "how do I
#: pay my bill" at -0.4..-0.65 and problem reports ("the broadband has stopped") at -0.9 and
#: below: -0.7 separates them, so neutral questions never get fake empathy.
NEGATIVE = -0.7
_PROFANITY = re.compile(
    r"\b(damn|crap|shit\w*|fuck\w*|bloody|hell|wtf|ffs|piss\w*|bullshit|useless|rubbish|pathetic)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Frustration:
    """How frustrated the customer seems now: the cues found in the last few messages."""

    cues: tuple[str, ...]

    @property
    def level(self) -> int:
        return len(self.cues)

    @property
    def frustrated(self) -> bool:
        return self.level >= 2


def frustration(user_turns: Sequence[Mapping[str, Any]]) -> Frustration:
    """Cues in the last ``WINDOW`` messages, strongest evidence first."""
    recent = list(user_turns[-WINDOW:])
    if not recent:
        return Frustration(())
    cues: list[str] = []
    scores = [_score(t) for t in recent]
    if sum(1 for s in scores if s is not None and s <= NEGATIVE) >= 2:
        cues.append("repeated_negative")
    labels = [
        _label(t)
        for t in recent
        if _label(t) not in {"", "nlu_fallback", "greet", "affirm", "deny"}
    ]
    if len(labels) != len(set(labels)):
        cues.append("repeated_question")
    latest_text = str(recent[-1].get("text") or "")
    if shouting(latest_text):
        cues.append("shouting")
    if _PROFANITY.search(latest_text):
        cues.append("profanity")
    if (recent[-1].get("sentiment") or {}).get("irony") and (_score(recent[-1]) or 0) < 0:
        cues.append("sarcasm")
    return Frustration(tuple(cues))


def is_negative(turn: Mapping[str, Any]) -> bool:
    """A clearly negative message, sarcasm included ("Great, it died again" is not praise)."""
    score = _score(turn) or 0.0
    return score <= NEGATIVE or (bool((turn.get("sentiment") or {}).get("irony")) and score < 0)


def _score(turn: Mapping[str, Any]) -> float | None:
    score = (turn.get("sentiment") or {}).get("score")
    return float(score) if isinstance(score, (int, float)) else None


def _label(turn: Mapping[str, Any]) -> str:
    intent = str((turn.get("intent") or {}).get("name") or "")
    key = (((turn.get("response_selector") or {}).get("faq") or {}).get("response") or {}).get(
        "intent_response_key"
    )
    return str(key) if intent == "faq" and key else intent
