"""The production ticket store on PostgreSQL (asyncpg).

Claims are conditional updates (``UPDATE ... WHERE state = 'queued' RETURNING``): of
simultaneous claims on one ticket the first commits and the rest see it taken.
``claim_next`` picks its row with ``FOR UPDATE SKIP LOCKED``, so agents pulling from the queue
at the same moment get different tickets without waiting for each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from bot.handoff.priority import PriorityWeights
from bot.handoff.rows import INSERT_COLUMNS, event_from_row, insert_values, ticket_from_row, utc_now
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
from bot.storage.postgres import PostgresPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff_tickets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL, channel TEXT NOT NULL, reason TEXT NOT NULL,
    customer_name TEXT NOT NULL, topic TEXT NOT NULL, summary TEXT NOT NULL,
    last_turns JSONB NOT NULL, sentiment DOUBLE PRECISION NOT NULL,
    urgency DOUBLE PRECISION NOT NULL, tier TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'resolved', 'abandoned', 'expired')),
    priority DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, claimed_by TEXT, claimed_at TIMESTAMPTZ,
    first_agent_reply_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ, ping_ref TEXT UNIQUE);
CREATE UNIQUE INDEX IF NOT EXISTS handoff_tickets_one_open
    ON handoff_tickets (conversation_id) WHERE state IN ('queued', 'claimed');
CREATE INDEX IF NOT EXISTS handoff_tickets_by_state ON handoff_tickets (state);
CREATE TABLE IF NOT EXISTS handoff_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES handoff_tickets (id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS handoff_events_by_ticket ON handoff_events (ticket_id);
"""

#: A conversation's open ticket is in one of these states (at most one, by a unique index).
OPEN = "state IN ('queued', 'claimed')"


def queue_order(weight: str, now: str) -> str:
    """ORDER BY terms: effective priority (base + weight x minutes waited), then oldest first.

    ``weight`` and ``now`` are the query's parameter placeholders, e.g. ``"$3"``.
    """
    return (
        f"priority + {weight} * (extract(epoch FROM {now}::timestamptz - created_at) / 60)::float8"
        " DESC, created_at, id"
    )


def _ticket(row: Any) -> Ticket:
    return ticket_from_row(row, lambda moment: moment)


class PostgresTicketStore:
    """Handoff tickets in PostgreSQL; ``schema`` (created if missing) keeps them apart."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        weights: PriorityWeights | None = None,
        clock: Callable[[], datetime] = utc_now,
        max_connections: int = 10,
    ) -> None:
        self._pool = PostgresPool(dsn, SCHEMA, "handoff_schema", schema, max_connections)
        self._weights = weights or PriorityWeights()
        self._clock = clock

    async def _db(self) -> Any:
        return await self._pool.get()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        async with (await self._db()).acquire() as db, db.transaction():
            yield db

    async def _one(self, sql: str, *args: Any) -> Ticket | None:
        row = await (await self._db()).fetchrow(sql, *args)
        return None if row is None else _ticket(row)

    @staticmethod
    async def _current(db: Any, ticket_id: int) -> Ticket:
        row = await db.fetchrow("SELECT * FROM handoff_tickets WHERE id = $1", ticket_id)
        if row is None:
            raise TicketNotFound(ticket_id)
        return _ticket(row)

    @staticmethod
    async def _record(db: Any, ticket: Ticket, event: AuditEvent) -> None:
        await db.execute(
            "INSERT INTO handoff_events (ticket_id, at, event, actor, detail)"
            " VALUES ($1, $2, $3, $4, $5)",
            *(ticket.id, event.at, event.event, event.actor, event.detail),
        )

    async def open(self, ticket: NewTicket) -> OpenResult:
        marks = ", ".join(
            f"${i}::jsonb" if column == "last_turns" else f"${i}"
            for i, column in enumerate(INSERT_COLUMNS, start=1)
        )
        insert = (
            f"INSERT INTO handoff_tickets ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})"
            f" ON CONFLICT (conversation_id) WHERE {OPEN} DO NOTHING RETURNING *"
        )
        # The loop only repeats if the open ticket we collided with closed in between.
        while True:
            now = self._clock()
            values = insert_values(ticket, self._weights.base(ticket), now)
            async with self._transaction() as db:
                row = await db.fetchrow(insert, *values)
                if row is not None:
                    created = _ticket(row)
                    await self._record(
                        db, created, AuditEvent(now, "queued", "bot", ticket.reason.value)
                    )
                    return OpenResult(created, created=True)
            if existing := await self.find_open(ticket.conversation_id):
                return OpenResult(existing, created=False)

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self._one("SELECT * FROM handoff_tickets WHERE id = $1", ticket_id)

    async def history(self, ticket_id: int) -> Sequence[AuditEvent]:
        rows = await (await self._db()).fetch(
            "SELECT * FROM handoff_events WHERE ticket_id = $1 ORDER BY at, id", ticket_id
        )
        return [event_from_row(row, lambda moment: moment) for row in rows]

    async def find_open(self, conversation_id: str) -> Ticket | None:
        sql = f"SELECT * FROM handoff_tickets WHERE conversation_id = $1 AND {OPEN}"
        return await self._one(sql, conversation_id)

    async def list(
        self, states: Collection[TicketState] | None = None, limit: int = 50
    ) -> Sequence[Ticket]:
        wanted = [s.value for s in (TicketState if states is None else states)]
        rows = await (await self._db()).fetch(
            "SELECT * FROM handoff_tickets WHERE state = ANY($1::text[])"
            " ORDER BY state <> 'queued', CASE WHEN state = 'queued' THEN NULL ELSE created_at END"
            f" DESC NULLS FIRST, {queue_order('$3', '$4')} LIMIT $2",
            wanted,
            limit,
            self._weights.waiting_minutes,
            self._clock(),
        )
        return [_ticket(row) for row in rows]

    async def _claim_in(self, db: Any, ticket_id: int, agent: str) -> ClaimResult:
        now = self._clock()
        row = await db.fetchrow(
            "UPDATE handoff_tickets SET state = 'claimed', claimed_by = $2, claimed_at = $3"
            " WHERE id = $1 AND state = 'queued' RETURNING *",
            ticket_id,
            agent,
            now,
        )
        if row is None:
            return ClaimResult(await self._current(db, ticket_id), won=False)
        ticket = _ticket(row)
        await self._record(db, ticket, AuditEvent(now, TicketState.CLAIMED.value, agent))
        return ClaimResult(ticket, won=True)

    async def claim(self, ticket_id: int, agent: str) -> ClaimResult:
        async with self._transaction() as db:
            return await self._claim_in(db, ticket_id, agent)

    async def claim_next(self, agent: str) -> Ticket | None:
        now = self._clock()
        async with self._transaction() as db:
            row = await db.fetchrow(
                "WITH next AS (SELECT id FROM handoff_tickets WHERE state = 'queued'"
                f" ORDER BY {queue_order('$3', '$2')} LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " UPDATE handoff_tickets AS t SET state = 'claimed', claimed_by = $1,"
                " claimed_at = $2 FROM next WHERE t.id = next.id RETURNING t.*",
                agent,
                now,
                self._weights.waiting_minutes,
            )
            if row is None:
                return None
            ticket = _ticket(row)
            await self._record(db, ticket, AuditEvent(now, TicketState.CLAIMED.value, agent))
            return ticket

    async def _move(self, ticket_id: int, target: TicketState, actor: str, detail: str) -> Ticket:
        now = self._clock()
        resolved_at = now if target is TicketState.RESOLVED else None
        sources = [state.value for state in sources_of(target)]
        async with self._transaction() as db:
            row = await db.fetchrow(
                "UPDATE handoff_tickets SET state = $2,"
                " resolved_at = coalesce($3::timestamptz, resolved_at)"
                " WHERE id = $1 AND state = ANY($4::text[]) RETURNING *",
                ticket_id,
                target.value,
                resolved_at,
                sources,
            )
            if row is None:
                current = await self._current(db, ticket_id)
                raise InvalidTransition(ticket_id, current.state, target)
            ticket = _ticket(row)
            await self._record(db, ticket, AuditEvent(now, target.value, actor, detail))
            return ticket

    async def record_agent_reply(self, ticket_id: int, agent: str) -> Ticket:
        now = self._clock()
        async with self._transaction() as db:
            row = await db.fetchrow(
                "UPDATE handoff_tickets SET first_agent_reply_at = $2 WHERE id = $1"
                " AND state = 'claimed' AND first_agent_reply_at IS NULL RETURNING *",
                ticket_id,
                now,
            )
            if row is None:
                ticket = await self._current(db, ticket_id)
                if ticket.state is not TicketState.CLAIMED:
                    raise NotClaimed(ticket_id, ticket.state)
                return ticket
            ticket = _ticket(row)
            await self._record(db, ticket, AuditEvent(now, "agent_replied", agent))
            return ticket

    async def resolve(self, ticket_id: int, agent: str, detail: str = "") -> Ticket:
        return await self._move(ticket_id, TicketState.RESOLVED, agent, detail)

    async def abandon(self, ticket_id: int, actor: str = "customer", detail: str = "") -> Ticket:
        return await self._move(ticket_id, TicketState.ABANDONED, actor, detail)

    async def expire(self, ticket_id: int, detail: str = "") -> Ticket:
        return await self._move(ticket_id, TicketState.EXPIRED, "system", detail)

    async def note(self, ticket_id: int, event: str, actor: str, detail: str = "") -> Ticket:
        async with self._transaction() as db:
            ticket = await self._current(db, ticket_id)
            if ticket.state not in OPEN_STATES:
                raise NotOpen(ticket_id, ticket.state)
            await self._record(db, ticket, AuditEvent(self._clock(), event, actor, detail))
            return ticket

    async def expire_unclaimed(self, older_than: timedelta) -> Sequence[Ticket]:
        now = self._clock()
        async with self._transaction() as db:
            rows = await db.fetch(
                "UPDATE handoff_tickets SET state = 'expired'"
                " WHERE state = 'queued' AND created_at <= $1 RETURNING *",
                now - older_than,
            )
            tickets = sorted((_ticket(row) for row in rows), key=lambda t: t.id)
            for ticket in tickets:
                detail = f"no agent claimed it within {older_than}"
                await self._record(
                    db, ticket, AuditEvent(now, TicketState.EXPIRED.value, "system", detail)
                )
            return tickets

    async def position(self, ticket_id: int) -> int | None:
        place = await (await self._db()).fetchval(
            "SELECT place FROM (SELECT id, row_number() OVER"
            f" (ORDER BY {queue_order('$2', '$3')}) AS place"
            " FROM handoff_tickets WHERE state = 'queued') AS queue WHERE id = $1",
            ticket_id,
            self._weights.waiting_minutes,
            self._clock(),
        )
        return None if place is None else int(place)

    async def _durations(self, start: str, end: str, limit: int) -> Sequence[timedelta]:
        rows = await (await self._db()).fetch(
            f"SELECT {start} AS since, {end} AS until FROM handoff_tickets"
            f" WHERE {start} IS NOT NULL AND {end} IS NOT NULL ORDER BY {end} DESC, id DESC"
            " LIMIT $1",
            limit,
        )
        return [row["until"] - row["since"] for row in rows]

    async def recent_waits(self, limit: int = RECENT_SAMPLE) -> Sequence[timedelta]:
        return await self._durations("created_at", "claimed_at", limit)

    async def recent_handling_times(self, limit: int = RECENT_SAMPLE) -> Sequence[timedelta]:
        return await self._durations("claimed_at", "resolved_at", limit)

    async def estimated_wait(self, ticket_id: int) -> timedelta | None:
        return estimate_wait(await self.recent_waits(), await self.position(ticket_id))

    async def set_ping_ref(self, ticket_id: int, ref: str) -> None:
        try:
            status = await (await self._db()).execute(
                "UPDATE handoff_tickets SET ping_ref = $2 WHERE id = $1", ticket_id, ref
            )
        except asyncpg.UniqueViolationError:
            raise HandoffError(f"the ping {ref!r} already belongs to another ticket") from None
        if status == "UPDATE 0":
            raise TicketNotFound(ticket_id)

    async def find_by_ping_ref(self, ref: str) -> Ticket | None:
        return await self._one("SELECT * FROM handoff_tickets WHERE ping_ref = $1", ref)

    async def tickets_of(self, conversation_ids: Collection[str]) -> Sequence[Ticket]:
        rows = await (await self._db()).fetch(
            "SELECT * FROM handoff_tickets WHERE conversation_id = ANY($1::text[]) ORDER BY id",
            sorted(conversation_ids),
        )
        return [_ticket(row) for row in rows]

    async def prune_before(self, cutoff: datetime) -> int:
        chosen = f"SELECT id FROM handoff_tickets WHERE NOT ({OPEN}) AND created_at < $1"
        async with self._transaction() as db:
            await db.execute(f"DELETE FROM handoff_events WHERE ticket_id IN ({chosen})", cutoff)
            status = await db.execute(f"DELETE FROM handoff_tickets WHERE id IN ({chosen})", cutoff)
        return int(status.split()[-1])

    async def delete_customer(self, conversation_ids: Collection[str]) -> int:
        ids = list(conversation_ids)
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM handoff_events WHERE ticket_id IN"
                " (SELECT id FROM handoff_tickets WHERE conversation_id = ANY($1::text[]))",
                ids,
            )
            status = await db.execute(
                "DELETE FROM handoff_tickets WHERE conversation_id = ANY($1::text[])", ids
            )
        return int(status.split()[-1])

    async def close(self) -> None:
        """Closes the connection pool (a later call opens a new one)."""
        await self._pool.close()
