"""``SqliteCheckinStore``: check-ins in the embedded SQLite file (the default)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from bot.followup.store import Checkin, CheckinState
from bot.storage.sqlite import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS followup_checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL, topic TEXT NOT NULL, response TEXT NOT NULL,
    due_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'cancelled', 'failed')),
    created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, delivered_at REAL);
CREATE UNIQUE INDEX IF NOT EXISTS followup_checkins_one_pending
    ON followup_checkins (conversation_id, topic) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS followup_checkins_due
    ON followup_checkins (next_attempt_at) WHERE state = 'pending';
"""


class SqliteCheckinStore:
    """One SQLite file (WAL); each change is one ``BEGIN IMMEDIATE`` transaction in a thread."""

    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, SCHEMA)

    def _select(self, sql: str, params: Sequence[Any]) -> list[Checkin]:
        return [Checkin.from_row(r) for r in self._db.fetch(sql, params)]

    def _schedule(
        self, conversation_id: str, topic: str, response: str, due_at: float, now: float
    ) -> tuple[Checkin, bool]:
        with self._db.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO followup_checkins (conversation_id, topic, response,"
                " due_at, state, created_at, next_attempt_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (conversation_id, topic, response, due_at, now, due_at),
            )
            row = db.execute(
                "SELECT * FROM followup_checkins WHERE conversation_id = ? AND topic = ?"
                " AND state = 'pending'",
                (conversation_id, topic),
            ).fetchone()
        return Checkin.from_row(row), cursor.rowcount == 1

    async def schedule(
        self, conversation_id: str, topic: str, response: str, due_at: float, now: float
    ) -> tuple[Checkin, bool]:
        return await asyncio.to_thread(
            self._schedule, conversation_id, topic, response, due_at, now
        )

    async def get(self, checkin_id: int) -> Checkin | None:
        found = await asyncio.to_thread(
            self._select, "SELECT * FROM followup_checkins WHERE id = ?", (checkin_id,)
        )
        return found[0] if found else None

    async def pending(self, limit: int = 1000) -> Sequence[Checkin]:
        return await asyncio.to_thread(
            self._select,
            "SELECT * FROM followup_checkins WHERE state = 'pending' ORDER BY due_at, id LIMIT ?",
            (limit,),
        )

    async def due(self, cutoff: float, limit: int = 100) -> Sequence[Checkin]:
        return await asyncio.to_thread(
            self._select,
            "SELECT * FROM followup_checkins WHERE state = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (cutoff, limit),
        )

    def _change(self, sql: str, params: Sequence[Any]) -> int:
        with self._db.write() as db:
            return db.execute(sql, params).rowcount

    async def mark_delivered(self, checkin_id: int, now: float) -> bool:
        changed = await asyncio.to_thread(
            self._change,
            "UPDATE followup_checkins SET state = 'delivered', delivered_at = ?"
            " WHERE id = ? AND state = 'pending'",
            (now, checkin_id),
        )
        return changed == 1

    def _cancel(self, conversation_id: str, topic: str | None) -> list[Checkin]:
        with self._db.write() as db:
            rows = db.execute(
                "UPDATE followup_checkins SET state = 'cancelled' WHERE conversation_id = ?"
                " AND state = 'pending' AND (? IS NULL OR topic = ?) RETURNING *",
                (conversation_id, topic, topic),
            ).fetchall()
        return [Checkin.from_row(r) for r in rows]

    async def cancel(self, conversation_id: str, topic: str | None = None) -> Sequence[Checkin]:
        return await asyncio.to_thread(self._cancel, conversation_id, topic)

    async def record_attempt(self, checkin_id: int, next_attempt_at: float, give_up: bool) -> None:
        state = CheckinState.FAILED.value if give_up else CheckinState.PENDING.value
        await asyncio.to_thread(
            self._change,
            "UPDATE followup_checkins SET attempts = attempts + 1, next_attempt_at = ?,"
            " state = ? WHERE id = ? AND state = 'pending'",
            (next_attempt_at, state, checkin_id),
        )

    async def prune_before(self, cutoff: float) -> int:
        return await asyncio.to_thread(
            self._change,
            "DELETE FROM followup_checkins WHERE state <> 'pending' AND due_at < ?",
            [cutoff],
        )

    async def delete_customer(self, conversation_ids: Collection[str]) -> int:
        ids = list(conversation_ids)
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        return await asyncio.to_thread(
            self._change, f"DELETE FROM followup_checkins WHERE conversation_id IN ({marks})", ids
        )

    async def close(self) -> None:
        return None
