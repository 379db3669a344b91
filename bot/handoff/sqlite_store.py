"""The embedded ticket store: one SQLite file (default .state/bot.db), safe across processes.

Each call runs in a worker thread on its own connection. Every change runs in a
``BEGIN IMMEDIATE`` transaction, so SQLite serialises writers and a claim checks and sets the
state atomically; WAL mode lets readers proceed meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.database import DEFAULT_SQLITE_PATH
from bot.handoff.priority import PriorityWeights
from bot.handoff.rows import (
    INSERT_COLUMNS,
    event_from_row,
    from_micros,
    insert_values,
    micros,
    ticket_from_row,
    utc_now,
)
from bot.handoff.tickets import (
    OPEN_STATES,
    AuditEvent,
    ClaimResult,
    HandoffError,
    InvalidTransition,
    NewTicket,
    NotClaimed,
    NotOpen,
    OpenResult,
    Ticket,
    TicketNotFound,
    TicketState,
    sources_of,
)
from bot.handoff.waits import RECENT_SAMPLE, estimate_wait
from bot.storage.sqlite import SqliteDatabase

# Times are integer microseconds since the epoch, UTC (see rows.micros): exact and sortable.
SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL, channel TEXT NOT NULL, reason TEXT NOT NULL,
    customer_name TEXT NOT NULL, topic TEXT NOT NULL, summary TEXT NOT NULL,
    last_turns TEXT NOT NULL, sentiment REAL NOT NULL, urgency REAL NOT NULL, tier TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'resolved', 'abandoned', 'expired')),
    priority REAL NOT NULL,
    created_at INTEGER NOT NULL, claimed_by TEXT, claimed_at INTEGER,
    first_agent_reply_at INTEGER, resolved_at INTEGER, ping_ref TEXT UNIQUE);
CREATE UNIQUE INDEX IF NOT EXISTS handoff_tickets_one_open
    ON handoff_tickets (conversation_id) WHERE state IN ('queued', 'claimed');
CREATE INDEX IF NOT EXISTS handoff_tickets_by_state ON handoff_tickets (state);
CREATE TABLE IF NOT EXISTS handoff_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES handoff_tickets (id) ON DELETE CASCADE,
    at INTEGER NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS handoff_events_by_ticket ON handoff_events (ticket_id);
"""

#: Queue order: effective priority (base + weight x minutes waited), then oldest first.
_QUEUE_ORDER = "priority + :weight * ((:now - created_at) / 60000000.0) DESC, created_at, id"
_OPEN = "state IN ('queued', 'claimed')"


def _ticket(row: dict[str, Any]) -> Ticket:
    return ticket_from_row(row, from_micros)


def _current(db: sqlite3.Connection, ticket_id: int) -> Ticket:
    row = db.execute("SELECT * FROM handoff_tickets WHERE id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise TicketNotFound(ticket_id)
    return _ticket(row)


def _record(db: sqlite3.Connection, ticket: Ticket, event: AuditEvent) -> None:
    db.execute(
        "INSERT INTO handoff_events (ticket_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
        (ticket.id, micros(event.at), event.event, event.actor, event.detail),
    )


class SqliteTicketStore:
    """Handoff tickets in a SQLite file."""

    def __init__(
        self,
        path: Path = DEFAULT_SQLITE_PATH,
        *,
        weights: PriorityWeights | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._file = SqliteDatabase(Path(path), SCHEMA)
        self._weights = weights or PriorityWeights()
        self._clock = clock

    def _order(self) -> dict[str, Any]:
        return {"weight": self._weights.waiting_minutes, "now": micros(self._clock())}

    async def _rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._file.fetch, sql, params)

    async def _one(self, sql: str, params: Any = ()) -> Ticket | None:
        rows = await self._rows(sql, params)
        return _ticket(rows[0]) if rows else None

    # -- writes (each runs in a worker thread, in one BEGIN IMMEDIATE transaction) ----------

    def _open(self, new: NewTicket) -> OpenResult:
        now = self._clock()
        with self._file.write() as db:
            sql = f"SELECT * FROM handoff_tickets WHERE conversation_id = ? AND {_OPEN}"
            row = db.execute(sql, (new.conversation_id,)).fetchone()
            if row is not None:
                return OpenResult(_ticket(row), created=False)
            values = insert_values(new, self._weights.base(new), micros(now))
            columns, marks = ", ".join(INSERT_COLUMNS), ", ".join("?" * len(INSERT_COLUMNS))
            sql = f"INSERT INTO handoff_tickets ({columns}) VALUES ({marks}) RETURNING *"
            ticket = _ticket(db.execute(sql, values).fetchall()[0])
            _record(db, ticket, AuditEvent(now, TicketState.QUEUED.value, "bot", new.reason.value))
            return OpenResult(ticket, created=True)

    def _claim_in(self, db: sqlite3.Connection, ticket_id: int, agent: str) -> ClaimResult:
        now = self._clock()
        rows = db.execute(
            "UPDATE handoff_tickets SET state = 'claimed', claimed_by = ?, claimed_at = ?"
            " WHERE id = ? AND state = 'queued' RETURNING *",
            (agent, micros(now), ticket_id),
        ).fetchall()
        if not rows:
            return ClaimResult(_current(db, ticket_id), won=False)
        ticket = _ticket(rows[0])
        _record(db, ticket, AuditEvent(now, TicketState.CLAIMED.value, agent))
        return ClaimResult(ticket, won=True)

    def _claim(self, ticket_id: int, agent: str) -> ClaimResult:
        with self._file.write() as db:
            return self._claim_in(db, ticket_id, agent)

    def _claim_next(self, agent: str) -> Ticket | None:
        with self._file.write() as db:
            sql = f"SELECT id FROM handoff_tickets WHERE state = 'queued' ORDER BY {_QUEUE_ORDER}"
            row = db.execute(sql, self._order()).fetchone()
            return None if row is None else self._claim_in(db, row["id"], agent).ticket

    def _move(self, ticket_id: int, target: TicketState, actor: str, detail: str) -> Ticket:
        now = self._clock()
        resolved_at = micros(now) if target is TicketState.RESOLVED else None
        sources = ", ".join(f"'{state.value}'" for state in sources_of(target))
        with self._file.write() as db:
            rows = db.execute(
                "UPDATE handoff_tickets SET state = ?, resolved_at = coalesce(?, resolved_at)"
                f" WHERE id = ? AND state IN ({sources}) RETURNING *",
                (target.value, resolved_at, ticket_id),
            ).fetchall()
            if not rows:
                raise InvalidTransition(ticket_id, _current(db, ticket_id).state, target)
            ticket = _ticket(rows[0])
            _record(db, ticket, AuditEvent(now, target.value, actor, detail))
            return ticket

    def _record_reply(self, ticket_id: int, agent: str) -> Ticket:
        now = self._clock()
        with self._file.write() as db:
            ticket = _current(db, ticket_id)
            if ticket.state is not TicketState.CLAIMED:
                raise NotClaimed(ticket_id, ticket.state)
            if ticket.first_agent_reply_at is not None:
                return ticket
            sql = "UPDATE handoff_tickets SET first_agent_reply_at = ? WHERE id = ?"
            db.execute(sql, (micros(now), ticket_id))
            _record(db, ticket, AuditEvent(now, "agent_replied", agent))
            return _current(db, ticket_id)

    def _expire(self, older_than: timedelta) -> Sequence[Ticket]:
        now = self._clock()
        with self._file.write() as db:
            rows = db.execute(
                "UPDATE handoff_tickets SET state = 'expired'"
                " WHERE state = 'queued' AND created_at <= ? RETURNING *",
                (micros(now - older_than),),
            ).fetchall()
            tickets = sorted((_ticket(row) for row in rows), key=lambda t: t.id)
            for ticket in tickets:
                detail = f"no agent claimed it within {older_than}"
                _record(db, ticket, AuditEvent(now, TicketState.EXPIRED.value, "system", detail))
            return tickets

    def _note(self, ticket_id: int, event: str, actor: str, detail: str) -> Ticket:
        with self._file.write() as db:
            ticket = _current(db, ticket_id)
            if ticket.state not in OPEN_STATES:
                raise NotOpen(ticket_id, ticket.state)
            _record(db, ticket, AuditEvent(self._clock(), event, actor, detail))
            return ticket

    def _set_ping(self, ticket_id: int, ref: str) -> None:
        with self._file.write() as db:
            try:
                sql = "UPDATE handoff_tickets SET ping_ref = ? WHERE id = ?"
                cursor = db.execute(sql, (ref, ticket_id))
            except sqlite3.IntegrityError:
                raise HandoffError(f"the ping {ref!r} already belongs to another ticket") from None
            if cursor.rowcount == 0:
                raise TicketNotFound(ticket_id)

    def _delete(self, conversation_ids: Sequence[str]) -> int:
        chosen = (
            "SELECT id FROM handoff_tickets"
            " WHERE conversation_id IN (SELECT value FROM json_each(?))"
        )
        params = (json.dumps(list(conversation_ids)),)
        with self._file.write() as db:
            db.execute(f"DELETE FROM handoff_events WHERE ticket_id IN ({chosen})", params)
            return db.execute(
                f"DELETE FROM handoff_tickets WHERE id IN ({chosen})", params
            ).rowcount

    # -- the TicketStore API -----------------------------------------------------------------

    async def open(self, ticket: NewTicket) -> OpenResult:
        return await asyncio.to_thread(self._open, ticket)

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self._one("SELECT * FROM handoff_tickets WHERE id = ?", (ticket_id,))

    async def history(self, ticket_id: int) -> Sequence[AuditEvent]:
        sql = "SELECT * FROM handoff_events WHERE ticket_id = ? ORDER BY at, id"
        return [event_from_row(row, from_micros) for row in await self._rows(sql, (ticket_id,))]

    async def find_open(self, conversation_id: str) -> Ticket | None:
        sql = f"SELECT * FROM handoff_tickets WHERE conversation_id = ? AND {_OPEN}"
        return await self._one(sql, (conversation_id,))

    async def list(
        self, states: Collection[TicketState] | None = None, limit: int = 50
    ) -> Sequence[Ticket]:
        wanted = json.dumps([s.value for s in (TicketState if states is None else states)])
        rows = await self._rows(
            "SELECT * FROM handoff_tickets WHERE state IN (SELECT value FROM json_each(:states))"
            " ORDER BY state <> 'queued', CASE WHEN state = 'queued' THEN 0 ELSE -created_at END,"
            f" {_QUEUE_ORDER} LIMIT :limit",
            {"states": wanted, "limit": limit, **self._order()},
        )
        return [_ticket(row) for row in rows]

    async def claim(self, ticket_id: int, agent: str) -> ClaimResult:
        return await asyncio.to_thread(self._claim, ticket_id, agent)

    async def claim_next(self, agent: str) -> Ticket | None:
        return await asyncio.to_thread(self._claim_next, agent)

    async def record_agent_reply(self, ticket_id: int, agent: str) -> Ticket:
        return await asyncio.to_thread(self._record_reply, ticket_id, agent)

    async def resolve(self, ticket_id: int, agent: str, detail: str = "") -> Ticket:
        return await asyncio.to_thread(self._move, ticket_id, TicketState.RESOLVED, agent, detail)

    async def abandon(self, ticket_id: int, actor: str = "customer", detail: str = "") -> Ticket:
        return await asyncio.to_thread(self._move, ticket_id, TicketState.ABANDONED, actor, detail)

    async def expire_unclaimed(self, older_than: timedelta) -> Sequence[Ticket]:
        return await asyncio.to_thread(self._expire, older_than)

    async def expire(self, ticket_id: int, detail: str = "") -> Ticket:
        return await asyncio.to_thread(self._move, ticket_id, TicketState.EXPIRED, "system", detail)

    async def note(self, ticket_id: int, event: str, actor: str, detail: str = "") -> Ticket:
        return await asyncio.to_thread(self._note, ticket_id, event, actor, detail)

    async def position(self, ticket_id: int) -> int | None:
        rows = await self._rows(
            f"SELECT place FROM (SELECT id, row_number() OVER (ORDER BY {_QUEUE_ORDER}) AS place"
            " FROM handoff_tickets WHERE state = 'queued') WHERE id = :id",
            {"id": ticket_id, **self._order()},
        )
        return int(rows[0]["place"]) if rows else None

    async def _durations(self, start: str, end: str, limit: int) -> Sequence[timedelta]:
        rows = await self._rows(
            f"SELECT {end} - {start} AS took FROM handoff_tickets WHERE {start} IS NOT NULL"
            f" AND {end} IS NOT NULL ORDER BY {end} DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [timedelta(microseconds=row["took"]) for row in rows]

    async def recent_waits(self, limit: int = RECENT_SAMPLE) -> Sequence[timedelta]:
        return await self._durations("created_at", "claimed_at", limit)

    async def recent_handling_times(self, limit: int = RECENT_SAMPLE) -> Sequence[timedelta]:
        return await self._durations("claimed_at", "resolved_at", limit)

    async def estimated_wait(self, ticket_id: int) -> timedelta | None:
        return estimate_wait(await self.recent_waits(), await self.position(ticket_id))

    async def set_ping_ref(self, ticket_id: int, ref: str) -> None:
        await asyncio.to_thread(self._set_ping, ticket_id, ref)

    async def find_by_ping_ref(self, ref: str) -> Ticket | None:
        return await self._one("SELECT * FROM handoff_tickets WHERE ping_ref = ?", (ref,))

    async def tickets_of(self, conversation_ids: Collection[str]) -> Sequence[Ticket]:
        rows = await self._rows(
            "SELECT * FROM handoff_tickets WHERE conversation_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(sorted(conversation_ids)),),
        )
        return [_ticket(row) for row in rows]

    def _prune(self, cutoff: datetime) -> int:
        chosen = f"SELECT id FROM handoff_tickets WHERE NOT ({_OPEN}) AND created_at < ?"
        with self._file.write() as db:
            db.execute(
                f"DELETE FROM handoff_events WHERE ticket_id IN ({chosen})", (micros(cutoff),)
            )
            sql = f"DELETE FROM handoff_tickets WHERE id IN ({chosen})"
            return int(db.execute(sql, (micros(cutoff),)).rowcount)

    async def prune_before(self, cutoff: datetime) -> int:
        return await asyncio.to_thread(self._prune, cutoff)

    async def delete_customer(self, conversation_ids: Collection[str]) -> int:
        return await asyncio.to_thread(self._delete, list(conversation_ids))

    async def close(self) -> None:
        """Nothing to release: connections live for one call."""
