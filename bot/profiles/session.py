"""The events of our ``action_session_start``: Rasa's default ones (a session start, the
slots carried over, then listening) plus the greeting slots for this customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.profiles.greeting import GREETING_SLOT, NAME_SLOT, TICKET_SLOT, TOPIC_SLOT, Greeting

#: Slots that belong to one session and are never carried into the next.
SESSION_ONLY_SLOTS = frozenset(
    {GREETING_SLOT, NAME_SLOT, TOPIC_SLOT, TICKET_SLOT, "profile_link_code"}
)


def starting_metadata(
    slot_value: Any, events: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The metadata of the customer's message that starts the session: Rasa puts it in the
    ``session_started_metadata`` slot; after a /restart Rasa starts the session itself, and
    the customer's /restart message has it. None when the bot started it (a reminder, an
    agent's message): such a session is not a conversation the customer started."""
    if isinstance(slot_value, Mapping) and slot_value:
        return slot_value
    if events and events[-1].get("event") == "restart":
        user = next((e for e in reversed(events) if e.get("event") == "user"), None)
        metadata = (user or {}).get("metadata")
        return metadata if isinstance(metadata, Mapping) and metadata else None
    return None


def session_start_events(
    applied_events: Iterable[Mapping[str, Any]], carry_over_slots: bool, greeting: Greeting
) -> list[dict[str, Any]]:
    """``session_started``, the previous session's slot events (with their metadata, as
    Rasa's own action does) unless ``carry_over_slots`` is off, the greeting's slots, and
    ``action_listen``."""
    events: list[dict[str, Any]] = [{"event": "session_started"}]
    if carry_over_slots:
        for event in _since_session_start(applied_events):
            if event.get("event") == "slot" and event.get("name") not in SESSION_ONLY_SLOTS:
                carried = {"event": "slot", "name": event.get("name"), "value": event.get("value")}
                if event.get("metadata"):
                    carried["metadata"] = event["metadata"]
                events.append(carried)
    events += greeting.slot_events()
    events.append({"event": "action", "name": "action_listen"})
    return events


def _since_session_start(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events after the last ``session_started`` (rasa_sdk's applied events only reset
    at a restart; Rasa's own at a session start too)."""
    listed = list(events)
    starts = [i for i, event in enumerate(listed) if event.get("event") == "session_started"]
    return listed[starts[-1] + 1 :] if starts else listed
