"""``PostgresCheckinStore``: check-ins in PostgreSQL (production, asyncpg)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from bot.followup.store import Checkin, CheckinState
from bot.storage.postgres import PostgresPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS followup_checkins (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL, topic TEXT NOT NULL, response TEXT NOT NULL,
    due_at DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'cancelled', 'failed')),
    created_at DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL, delivered_at DOUBLE PRECISION);
CREATE UNIQUE INDEX IF NOT EXISTS followup_checkins_one_pending
    ON followup_checkins (conversation_id, topic) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS followup_checkins_due
    ON followup_checkins (next_attempt_at) WHERE state = 'pending';
"""


class PostgresCheckinStore:
    """An asyncpg pool opened on first use; ``schema`` (created if missing) keeps the table
    apart, e.g. one schema per test."""

    def __init__(self, dsn: str, schema: str | None = None) -> None:
        self._pool = PostgresPool(dsn, SCHEMA, "followup_schema", schema, max_connections=5)

    async def _get(self) -> Any:
        return await self._pool.get()

    async def _select(self, sql: str, *params: Any) -> list[Checkin]:
        pool = await self._get()
        return [Checkin.from_row(dict(r)) for r in await pool.fetch(sql, *params)]

    async def schedule(
        self, conversation_id: str, topic: str, response: str, due_at: float, now: float
    ) -> tuple[Checkin, bool]:
        pool = await self._get()
        async with pool.acquire() as db, db.transaction():
            created = await db.fetchrow(
                "INSERT INTO followup_checkins (conversation_id, topic, response, due_at, state,"
                " created_at, next_attempt_at) VALUES ($1, $2, $3, $4, 'pending', $5, $4)"
                " ON CONFLICT (conversation_id, topic) WHERE state = 'pending' DO NOTHING"
                " RETURNING *",
                conversation_id,
                topic,
                response,
                due_at,
                now,
            )
            if created is not None:
                return Checkin.from_row(dict(created)), True
            existing = await db.fetchrow(
                "SELECT * FROM followup_checkins WHERE conversation_id = $1 AND topic = $2"
                " AND state = 'pending'",
                conversation_id,
                topic,
            )
        if existing is None:  # delivered or cancelled between the two statements
            return await self.schedule(conversation_id, topic, response, due_at, now)
        return Checkin.from_row(dict(existing)), False

    async def get(self, checkin_id: int) -> Checkin | None:
        found = await self._select("SELECT * FROM followup_checkins WHERE id = $1", checkin_id)
        return found[0] if found else None

    async def pending(self, limit: int = 1000) -> Sequence[Checkin]:
        return await self._select(
            "SELECT * FROM followup_checkins WHERE state = 'pending' ORDER BY due_at, id LIMIT $1",
            limit,
        )

    async def due(self, cutoff: float, limit: int = 100) -> Sequence[Checkin]:
        return await self._select(
            "SELECT * FROM followup_checkins WHERE state = 'pending' AND next_attempt_at <= $1"
            " ORDER BY next_attempt_at, id LIMIT $2",
            cutoff,
            limit,
        )

    async def mark_delivered(self, checkin_id: int, now: float) -> bool:
        pool = await self._get()
        status = await pool.execute(
            "UPDATE followup_checkins SET state = 'delivered', delivered_at = $1"
            " WHERE id = $2 AND state = 'pending'",
            now,
            checkin_id,
        )
        return bool(status == "UPDATE 1")

    async def cancel(self, conversation_id: str, topic: str | None = None) -> Sequence[Checkin]:
        return await self._select(
            "UPDATE followup_checkins SET state = 'cancelled' WHERE conversation_id = $1"
            " AND state = 'pending' AND ($2::text IS NULL OR topic = $2) RETURNING *",
            conversation_id,
            topic,
        )

    async def record_attempt(self, checkin_id: int, next_attempt_at: float, give_up: bool) -> None:
        pool = await self._get()
        state = CheckinState.FAILED.value if give_up else CheckinState.PENDING.value
        await pool.execute(
            "UPDATE followup_checkins SET attempts = attempts + 1, next_attempt_at = $1,"
            " state = $2 WHERE id = $3 AND state = 'pending'",
            next_attempt_at,
            state,
            checkin_id,
        )

    async def prune_before(self, cutoff: float) -> int:
        pool = await self._get()
        status = await pool.execute(
            "DELETE FROM followup_checkins WHERE state <> 'pending' AND due_at < $1", cutoff
        )
        return int(str(status).split()[-1])

    async def delete_customer(self, conversation_ids: Collection[str]) -> int:
        pool = await self._get()
        status = await pool.execute(
            "DELETE FROM followup_checkins WHERE conversation_id = ANY($1::text[])",
            list(conversation_ids),
        )
        return int(str(status).split()[-1])

    async def close(self) -> None:
        await self._pool.close()
