"""The PostgreSQL side of ``PostgresTicketStore``: schema, queue order and the connection pool."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

#: Serialises schema creation between processes (IF NOT EXISTS alone races in PostgreSQL).
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('handoff_schema'))"

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


def quoted(identifier: str) -> str:
    """``identifier`` as a quoted SQL name."""
    return '"' + identifier.replace('"', '""') + '"'


class PostgresPool:
    """An asyncpg pool opened on first use, with the schema created (idempotently) then.

    ``schema`` (created if missing) becomes the connections' search_path, so the tables can
    live apart from others, e.g. one schema per test run.
    """

    def __init__(self, dsn: str, schema: str | None = None, max_connections: int = 10) -> None:
        self._dsn, self._schema, self._max = dsn, schema, max_connections
        self._pool: Any = None
        self._lock = asyncio.Lock()

    async def get(self) -> Any:
        """The pool (an ``asyncpg.Pool``)."""
        async with self._lock:
            if self._pool is None:
                settings = {"search_path": quoted(self._schema)} if self._schema else None
                pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=self._max, server_settings=settings
                )
                try:
                    async with pool.acquire() as db, db.transaction():
                        await db.execute(SCHEMA_LOCK)
                        if self._schema:
                            await db.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(self._schema)}")
                        await db.execute(SCHEMA)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
            return self._pool

    async def close(self) -> None:
        """Closes the pool if it is open."""
        async with self._lock:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
