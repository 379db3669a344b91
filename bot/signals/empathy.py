"""Empathy where it matters: an acknowledgement before the answer for an upset customer,
never for a neutral question, and never the same line twice in a row."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from bot.signals.frustration import frustration, is_negative

FRUSTRATED = "utter_empathy_frustrated"
NEGATIVE = "utter_empathy_negative"


def empathy_response(user_turns: Sequence[Mapping[str, Any]]) -> str | None:
    """Which acknowledgement (a domain response) fits the latest message, if any."""
    if not user_turns:
        return None
    if frustration(user_turns).frustrated:
        return FRUSTRATED
    if is_negative(user_turns[-1]):
        return NEGATIVE
    return None


def pick_line(
    variants: Sequence[Mapping[str, Any]],
    already_said: Sequence[str],
    rng: random.Random | None = None,
) -> str:
    """A variant's text that is not the last empathy line the customer heard."""
    texts = [str(v["text"]) for v in variants if v.get("text")]
    last = next((t for t in reversed(already_said) if t in texts), None)
    choices = [t for t in texts if t != last] or texts
    return (rng or random).choice(choices)
