"""Reading a conversation's events: was a question asked right before the latest message?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def asked_right_before(events: Iterable[Mapping[str, Any]], response: str) -> bool:
    """Whether the bot's last message before the customer's latest one was ``response``
    (so a confirmation answers that very question, not an old one)."""
    seen_latest_user = False
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "user":
            if seen_latest_user:
                return False
            seen_latest_user = True
        elif kind == "bot" and seen_latest_user:
            return (event.get("metadata") or {}).get("utter_action") == response
    return False
