"""Reading a conversation's events: was a question asked right before the latest message?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.latest_turn import events_before_latest_message


def asked_right_before(events: Iterable[Mapping[str, Any]], response: str) -> bool:
    """Whether the bot's last message before the customer's latest one was ``response``
    (so a confirmation answers that very question, not an old one)."""
    said = [e for e in events_before_latest_message(events) if e.get("event") == "bot"]
    return bool(said) and (said[0].get("metadata") or {}).get("utter_action") == response
