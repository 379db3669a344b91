"""The event log as the analytics see it: rows of Rasa's ``events`` table, decoded."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

SESSION_STARTED = "session_started"
SESSION_START_ACTION = "action_session_start"

#: Event types whose JSON the analytics never read (the columns say enough).
_SKIP_DATA = frozenset({"action", SESSION_STARTED})


class StoredEvent(NamedTuple):
    """One row of the tracker store's ``events`` table with its JSON ``data`` decoded."""

    sender_id: str
    type_name: str
    timestamp: float
    intent_name: str | None
    action_name: str | None  # the action's name, or the slot's name for ``slot`` events
    data: Mapping[str, Any]


def decode_row(row: Sequence[Any]) -> StoredEvent:
    """A :class:`StoredEvent` from the table's columns ``sender_id, type_name, timestamp,
    intent_name, action_name, data`` (JSON is decoded only where the analytics use it)."""
    sender_id, type_name, timestamp, intent_name, action_name, data = row
    decoded = json.loads(data) if data and type_name not in _SKIP_DATA else {}
    return StoredEvent(
        sender_id, type_name, float(timestamp or 0.0), intent_name, action_name, decoded
    )


def from_rasa_dict(sender_id: str, event: Mapping[str, Any]) -> StoredEvent:
    """A :class:`StoredEvent` from a Rasa event dictionary (``Event.as_dict()``)."""
    intent = event.get("parse_data", {}).get("intent", {}).get("name")
    return StoredEvent(
        sender_id,
        str(event["event"]),
        float(event.get("timestamp") or 0.0),
        intent,
        event.get("name"),
        dict(event),
    )


def starts_conversation(previous: StoredEvent | None, event: StoredEvent) -> bool:
    """Whether ``event`` opens a new conversation (a Rasa session) of its sender.

    Rasa logs ``action_session_start`` just before ``session_started``; the pair opens
    one conversation, not two.
    """
    if previous is None:
        return True
    if event.type_name == "action" and event.action_name == SESSION_START_ACTION:
        return True
    if event.type_name == SESSION_STARTED:
        return not (previous.type_name == "action" and previous.action_name == SESSION_START_ACTION)
    return False


def split_sessions(events: Iterable[StoredEvent]) -> Iterator[list[StoredEvent]]:
    """Groups one sender's events (in stored order) into conversations."""
    current: list[StoredEvent] = []
    previous: StoredEvent | None = None
    for event in events:
        if current and starts_conversation(previous, event):
            yield current
            current = []
        current.append(event)
        previous = event
    if current:
        yield current


@dataclass(frozen=True)
class Period:
    """Conversations that start in ``[since, until)``; ``horizon`` seconds after ``until``
    are read too, for the windows that look ahead (reopen, assumed resolution)."""

    since: float | None = None
    until: float | None = None
    horizon: float = 0.0
    senders: tuple[str | None, str | None] = (None, None)  # a shard: first <= id < last

    def has_sender(self, sender_id: str) -> bool:
        """Whether the sender falls in the period's shard of senders."""
        first, last = self.senders
        return (first is None or sender_id >= first) and (last is None or sender_id < last)

    def contains(self, timestamp: float) -> bool:
        """Whether a conversation starting at ``timestamp`` belongs to the period."""
        return (self.since is None or timestamp >= self.since) and (
            self.until is None or timestamp < self.until
        )

    @property
    def read_until(self) -> float | None:
        """The end of what must be read: ``until`` plus the look-ahead horizon."""
        return None if self.until is None else self.until + self.horizon


@dataclass(frozen=True)
class SenderHistory:
    """One sender's events for a period, in stored order.

    ``started_before`` says the sender has events before ``Period.since``: events ahead
    of the first session start then belong to a conversation that began earlier.
    """

    sender_id: str
    events: list[StoredEvent]
    started_before: bool = False


def utc(timestamp: float) -> datetime:
    """An epoch timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)
