"""Converting between tickets and database rows, shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from bot.handoff.tickets import (
    AuditEvent,
    EscalationReason,
    NewTicket,
    Ticket,
    TicketState,
    Turn,
)

#: Ticket columns in insert order (id, state and the claim/resolve columns are set by the store).
INSERT_COLUMNS = (
    "conversation_id",
    "channel",
    "reason",
    "customer_name",
    "topic",
    "summary",
    "last_turns",
    "sentiment",
    "urgency",
    "tier",
    "state",
    "priority",
    "created_at",
)


def insert_values(new: NewTicket, priority: float, created_at: Any) -> tuple[Any, ...]:
    """Values for :data:`INSERT_COLUMNS`; ``created_at`` in the backend's time format."""
    return (
        *(new.conversation_id, new.channel, new.reason.value, new.customer_name, new.topic),
        *(new.summary, turns_to_json(new.last_turns), new.sentiment, new.urgency, new.tier),
        *(TicketState.QUEUED.value, priority, created_at),
    )


def turns_to_json(turns: tuple[Turn, ...]) -> str:
    """The last turns as a JSON list of ``{who, text, at}``."""
    return json.dumps([{"who": t.who, "text": t.text, "at": t.at.isoformat()} for t in turns])


def turns_from_json(text: str) -> tuple[Turn, ...]:
    """The inverse of :func:`turns_to_json`."""
    return tuple(
        Turn(item["who"], item["text"], datetime.fromisoformat(item["at"]))
        for item in json.loads(text)
    )


def micros(at: datetime) -> int:
    """A moment as whole microseconds since the epoch (how SQLite stores times)."""
    delta = at - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """The inverse of :func:`micros`, in UTC."""
    return datetime.fromtimestamp(value // 1_000_000, tz=timezone.utc).replace(
        microsecond=value % 1_000_000
    )


def ticket_from_row(row: Mapping[str, Any], moment: Callable[[Any], datetime]) -> Ticket:
    """A ticket from a row; ``moment`` turns the backend's time values into datetimes."""

    def optional(name: str) -> datetime | None:
        value = row[name]
        return None if value is None else moment(value)

    return Ticket(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        reason=EscalationReason(row["reason"]),
        customer_name=row["customer_name"],
        topic=row["topic"],
        summary=row["summary"],
        last_turns=turns_from_json(row["last_turns"]),
        sentiment=float(row["sentiment"]),
        urgency=float(row["urgency"]),
        tier=row["tier"],
        state=TicketState(row["state"]),
        priority=float(row["priority"]),
        created_at=moment(row["created_at"]),
        claimed_by=row["claimed_by"],
        claimed_at=optional("claimed_at"),
        first_agent_reply_at=optional("first_agent_reply_at"),
        resolved_at=optional("resolved_at"),
        ping_ref=row["ping_ref"],
    )


def event_from_row(row: Mapping[str, Any], moment: Callable[[Any], datetime]) -> AuditEvent:
    """An audit event from a ``handoff_events`` row."""
    return AuditEvent(moment(row["at"]), row["event"], row["actor"], row["detail"])


def utc_now() -> datetime:
    """The stores' default clock."""
    return datetime.now(timezone.utc)
