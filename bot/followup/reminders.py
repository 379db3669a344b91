"""Check-ins as Rasa reminders: the events that schedule and cancel them, and the intent
a due check-in triggers (answered by ``action_checkin``, see data/followup.yml)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.followup.store import Checkin

TRIGGER_INTENT = "followup_checkin"
CHECKIN_ENTITY = "checkin_id"


def trigger_entities(checkin: Checkin) -> dict[str, str]:
    """The entities the trigger intent carries: which check-in is due."""
    return {CHECKIN_ENTITY: str(checkin.id)}


def reminder_event(checkin: Checkin) -> dict[str, Any]:
    """A ``ReminderScheduled`` event for ``checkin``. A later customer message does not
    cancel it: a check-in asks about the topic, whatever else was said in between."""
    due = datetime.fromtimestamp(checkin.due_at, tz=timezone.utc)
    return {
        "event": "reminder",
        "intent": TRIGGER_INTENT,
        "entities": [{"entity": k, "value": v} for k, v in trigger_entities(checkin).items()],
        "date_time": due.isoformat(),
        "name": checkin.reminder_name,
        "kill_on_user_msg": False,
        "timestamp": None,
    }


def cancel_event(checkin: Checkin) -> dict[str, Any]:
    """A ``ReminderCancelled`` event for ``checkin``."""
    return {"event": "cancel_reminder", "name": checkin.reminder_name, "timestamp": None}
