"""Rasa's SQL tracker store, remembering each conversation's current session between turns.

Stock Rasa reads a conversation's whole session from SQL, and parses it, on every message;
with an event broker it reads it once more on every save, to find the new events. Both
reads grow with the conversation (docs/benchmarks.md). This store writes the same rows to
Rasa's SQL table (``SQLTrackerStore.SQLEvent``) and keeps, per conversation, the stored
JSON of the session's events in memory:

- ``retrieve`` asks SQL only how many events the conversation has and the highest id. When
  that is what this process last wrote or read, the remembered events are the answer: the
  same rows, in the same order, with the same session filter as a fresh read. Otherwise
  (another Rasa instance wrote to the conversation, forget-me deleted it, or it was never
  seen) it reads from SQL.
- ``save`` inserts the events after the retrieved ones, without reading the session back
  or counting it first, and then sends them to the event broker. A failure of the
  database raises (the turn fails and is apologised for: :mod:`bot.runtime.no_fallback`);
  nothing is kept or published in its place. On PostgreSQL, pooled connections are
  checked before use, so a restarted server costs no failed turn.
- At most ``remember`` conversations are kept (least recently used go first), each for at
  most ``remember_seconds`` after its last turn, so a forgotten customer's words do not
  linger in memory.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa  # type: ignore[import-untyped]
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

DEFAULT_REMEMBER = 1000
DEFAULT_REMEMBER_SECONDS = 600.0


@dataclass
class _Session:
    """A conversation's stored events: all-session count and highest id (the marker that
    tells whether the table changed), and the latest session's rows as stored."""

    count: int
    last_id: int | None
    rows: list[tuple[str, float | None, str]] = field(default_factory=list)  # type, time, json
    used: float = 0.0


def latest_session(
    rows: list[tuple[str, float | None, str]],
) -> list[tuple[str, float | None, str]]:
    """The rows Rasa's SQL store reads back: those from the latest ``session_started`` on
    (by timestamp, as its query filters), or all of them when there is none."""
    starts = [at for kind, at, _ in rows if kind == SessionStarted.type_name and at is not None]
    if not starts:
        return rows
    start = max(starts)
    return [row for row in rows if row[1] is not None and row[1] >= start]


class RememberingTrackerStore(TrackerStore):
    """Rasa's SQL tracker store with each conversation's session remembered between turns.

    Configured like Rasa's ``SQL`` store (``dialect``, ``db``, ``url``, ``port``,
    ``username``, ``password``, ...), plus ``remember`` and ``remember_seconds``.
    """

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        host: str | None = None,
        remember: int = DEFAULT_REMEMBER,
        remember_seconds: float = DEFAULT_REMEMBER_SECONDS,
        **sql: Any,
    ) -> None:
        super().__init__(domain, event_broker)
        self._sql = SQLTrackerStore(domain=domain, host=host, event_broker=None, **sql)
        # Rasa's store creates the table and serves the rare calls (keys, full trackers).
        # Reads and writes here keep their connection: Rasa's engine opens a new SQLite
        # connection for every session (about 1.6 ms each).
        engine = self._sql.engine
        if engine.dialect.name == "sqlite":
            engine = sa.create_engine(engine.url, poolclass=sa.pool.SingletonThreadPool)
        else:  # a pooled connection cut by a server restart is replaced, not used and failed
            engine = sa.create_engine(
                engine.url, pool_pre_ping=True, **create_engine_kwargs(engine.url)
            )
            self._sql.engine.dispose()
            self._sql.engine = engine
            self._sql.sessionmaker = sa.orm.session.sessionmaker(bind=engine)
        self._engine = engine
        self._remember, self._remember_seconds = int(remember), float(remember_seconds)
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._sweep: asyncio.TimerHandle | None = None

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._domain = domain or Domain.empty()
        self._sql.domain = domain

    def remembered(self) -> list[str]:
        """The conversations held in memory, least recently used first."""
        return list(self._sessions)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        session = self._session(sender_id)
        if not session.rows:
            return None
        events = [json.loads(data) for _, _, data in session.rows]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        session = self._session(sender_id)
        new_events = list(itertools.islice(tracker.events, len(session.rows), None))
        if not new_events:
            return
        rows, stored, published = [], [], []
        for event in new_events:  # the columns Rasa's SQL store writes, the same way
            data = event.as_dict()
            published.append({"sender_id": sender_id, **data})
            text, at = json.dumps(data), data.get("timestamp")
            intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
            rows.append(
                {
                    "sender_id": sender_id,
                    "type_name": event.type_name,
                    "timestamp": at,
                    "intent_name": intent,
                    "action_name": data.get("name"),
                    "data": text,
                }
            )
            stored.append((event.type_name, at, text))
        with self._engine.begin() as db:
            db.execute(sa.insert(SQLTrackerStore.SQLEvent.__table__), rows)
            count, last_id = db.execute(_marker_query(sender_id)).one()
        if self.event_broker is not None:  # only what is stored: a failed save raised above
            for event in published:
                self.event_broker.publish(event)
        if count != session.count + len(rows):  # someone else wrote meanwhile
            self._sessions.pop(sender_id, None)
            return
        self._keep(sender_id, _Session(count, last_id, latest_session(session.rows + stored)))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._sql.retrieve_full_tracker(conversation_id)

    async def keys(self) -> list[str]:
        return list(await self._sql.keys())

    # -- memory ---------------------------------------------------------------------------
    def _session(self, sender_id: str) -> _Session:
        """The conversation's session: remembered if the table still matches, else read."""
        remembered = self._sessions.get(sender_id)
        if remembered is not None:
            count, last_id = self._marker(sender_id)
            if (count, last_id) == (remembered.count, remembered.last_id):
                self._keep(sender_id, remembered)
                return remembered
        session = self._read(sender_id)
        self._keep(sender_id, session)
        return session

    def _keep(self, sender_id: str, session: _Session) -> None:
        now = time.monotonic()
        session.used = now
        self._sessions[sender_id] = session
        self._sessions.move_to_end(sender_id)
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if (
                len(self._sessions) <= self._remember
                and now - oldest.used <= self._remember_seconds
            ):
                break
            self._sessions.popitem(last=False)
        self._schedule_sweep(now)

    def _schedule_sweep(self, now: float) -> None:
        """Expiry without traffic: a timer on the event loop for the oldest session's end."""
        if self._sweep is not None or not self._sessions:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script): expiry happens at the next call
            return
        oldest = next(iter(self._sessions.values()))
        delay = max(0.0, oldest.used + self._remember_seconds - now) + 0.01
        self._sweep = loop.call_later(delay, self._swept)

    def _swept(self) -> None:
        self._sweep = None
        self._expire(time.monotonic())

    # -- SQL --------------------------------------------------------------------------------
    def _marker(self, sender_id: str) -> tuple[int, int | None]:
        with self._engine.connect() as db:
            count, last_id = db.execute(_marker_query(sender_id)).one()
        return int(count), last_id

    def _read(self, sender_id: str) -> _Session:
        events = SQLTrackerStore.SQLEvent
        query = (
            sa.select(events.id, events.type_name, events.timestamp, events.data)
            .where(events.sender_id == sender_id)
            .order_by(events.id)
        )
        with self._engine.connect() as db:
            rows = db.execute(query).all()
        stored = [(kind, at, data) for _, kind, at, data in rows]
        return _Session(len(rows), rows[-1][0] if rows else None, latest_session(stored))


def _marker_query(sender_id: str) -> Any:
    """The conversation's event count and highest id: they change with any write."""
    events = SQLTrackerStore.SQLEvent
    return sa.select(sa.func.count(events.id), sa.func.max(events.id)).where(
        events.sender_id == sender_id
    )
