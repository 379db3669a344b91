"""The seams to the event log: reading it (:class:`EventSource`) and pruning it
(:class:`ConversationPruner`), with an in-memory implementation for tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.analytics.events import Period, SenderHistory, StoredEvent, split_sessions


class EventSource(Protocol):
    """Reads the tracker store's events."""

    def histories(self, period: Period) -> AsyncIterator[SenderHistory]:
        """Every sender with an event in the period: its events from ``since`` to
        ``until + horizon``, one sender at a time, in stored order."""
        ...

    async def sender_events(self, sender_id: str) -> list[StoredEvent]:
        """All events of one sender, in stored order."""
        ...


@dataclass(frozen=True)
class PruneResult:
    """What a retention run deleted (or would delete, on a dry run)."""

    conversations: int
    events: int
    senders: int


class ConversationPruner(Protocol):
    """Deletes whole conversations from the tracker store."""

    async def prune(self, cutoff: float, dry_run: bool = False) -> PruneResult:
        """Deletes every conversation whose last event is older than ``cutoff``."""
        ...


def history_in_period(
    sender_id: str, events: list[StoredEvent], period: Period
) -> SenderHistory | None:
    """The part of one sender's full history a source returns for ``period``, if any."""
    if not period.has_sender(sender_id) or not any(period.contains(e.timestamp) for e in events):
        return None
    since, read_until = period.since, period.read_until
    kept = [
        e
        for e in events
        if (since is None or e.timestamp >= since)
        and (read_until is None or e.timestamp < read_until)
    ]
    started_before = since is not None and any(e.timestamp < since for e in events)
    return SenderHistory(sender_id, kept, started_before)


def expired_sessions(events: Iterable[StoredEvent], cutoff: float) -> list[list[StoredEvent]]:
    """The conversations among ``events`` whose last event is older than ``cutoff``."""
    return [s for s in split_sessions(events) if max(e.timestamp for e in s) < cutoff]


class MemoryEventSource:
    """An :class:`EventSource` and :class:`ConversationPruner` over a list of events."""

    def __init__(self, events: Iterable[StoredEvent] = ()) -> None:
        self._by_sender: dict[str, list[StoredEvent]] = defaultdict(list)
        self.add(events)

    def add(self, events: Iterable[StoredEvent]) -> None:
        """Appends events (as a tracker store would store them)."""
        for event in events:
            self._by_sender[event.sender_id].append(event)

    async def histories(self, period: Period) -> AsyncIterator[SenderHistory]:
        for sender_id in sorted(self._by_sender):
            history = history_in_period(sender_id, self._by_sender[sender_id], period)
            if history is not None:
                yield history

    async def sender_events(self, sender_id: str) -> list[StoredEvent]:
        return list(self._by_sender.get(sender_id, []))

    async def prune(self, cutoff: float, dry_run: bool = False) -> PruneResult:
        conversations = events = senders = 0
        for sender_id, stored in list(self._by_sender.items()):
            expired = expired_sessions(stored, cutoff)
            if not expired:
                continue
            senders += 1
            conversations += len(expired)
            doomed = {id(e) for session in expired for e in session}
            events += len(doomed)
            if not dry_run:
                self._by_sender[sender_id] = [e for e in stored if id(e) not in doomed]
        return PruneResult(conversations, events, senders)
