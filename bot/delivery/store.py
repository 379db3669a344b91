"""Exactly-once intake (seen event keys) and a record of messages that could not be delivered."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, Protocol

from bot.database import database_url, sqlite_path
from bot.storage.postgres import PostgresPool
from bot.storage.sqlite import SqliteDatabase


class DeliveryStore(Protocol):
    """Remembers handled platform events and records undeliverable messages."""

    async def first_time(self, key: str) -> bool:
        """Records ``key``; True only the first time any process records it."""

    async def record_failure(
        self, channel: str, conversation_id: str, payload: dict[str, Any], error: str
    ) -> None:
        """Keeps a message that finally could not be delivered, with the reason."""

    async def failures(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent undeliverable messages, newest first."""

    async def prune_before(self, cutoff: float) -> int:
        """Deletes seen platform ids and recorded failures older than ``cutoff`` (epoch
        seconds; ``bot retention``). Returns how many records."""
        ...

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        """Deletes the undeliverable messages of these conversations (privacy); returns how
        many. Seen event keys hold platform event ids only and stay."""

    async def close(self) -> None:
        """Releases connections."""


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, channel TEXT NOT NULL,
    conversation_id TEXT NOT NULL, payload TEXT NOT NULL, error TEXT NOT NULL);
"""
_POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_seen (key TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_failures (
    id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, channel TEXT NOT NULL,
    conversation_id TEXT NOT NULL, payload TEXT NOT NULL, error TEXT NOT NULL);
"""


class SqliteDeliveryStore:
    """The embedded backend: one SQLite file, safe across processes."""

    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SQLITE_SCHEMA)

    def _first_time(self, key: str) -> bool:
        with self._db.connect() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO delivery_seen (key, seen_at) VALUES (?, ?)",
                (key, time.time()),
            )
            return cursor.rowcount == 1

    async def first_time(self, key: str) -> bool:
        return await asyncio.to_thread(self._first_time, key)

    def _record(self, row: tuple[float, str, str, str, str]) -> None:
        with self._db.connect() as connection:
            connection.execute(
                "INSERT INTO delivery_failures (at, channel, conversation_id, payload, error)"
                " VALUES (?, ?, ?, ?, ?)",
                row,
            )

    async def record_failure(
        self, channel: str, conversation_id: str, payload: dict[str, Any], error: str
    ) -> None:
        row = (time.time(), channel, conversation_id, json.dumps(payload), error)
        await asyncio.to_thread(self._record, row)

    def _failures(self, limit: int) -> list[dict[str, Any]]:
        with self._db.connect() as connection:
            rows = connection.execute(
                "SELECT at, channel, conversation_id, payload, error FROM delivery_failures"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_failure(**row) for row in rows]

    async def failures(self, limit: int = 100) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._failures, limit)

    def _delete(self, conversation_ids: list[str]) -> int:
        with self._db.connect() as connection:
            marks = ",".join("?" * len(conversation_ids))
            cursor = connection.execute(
                f"DELETE FROM delivery_failures WHERE conversation_id IN ({marks})",
                conversation_ids,
            )
            return cursor.rowcount

    def _prune(self, cutoff: float) -> int:
        with self._db.connect() as connection:
            seen = connection.execute("DELETE FROM delivery_seen WHERE seen_at < ?", (cutoff,))
            failed = connection.execute("DELETE FROM delivery_failures WHERE at < ?", (cutoff,))
            return int(seen.rowcount) + int(failed.rowcount)

    async def prune_before(self, cutoff: float) -> int:
        return await asyncio.to_thread(self._prune, cutoff)

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        ids = list(conversation_ids)
        return await asyncio.to_thread(self._delete, ids) if ids else 0

    async def close(self) -> None:
        return None


class PostgresDeliveryStore:
    """The production backend on PostgreSQL (asyncpg)."""

    def __init__(self, dsn: str) -> None:
        self._pool = PostgresPool(dsn, _POSTGRES_SCHEMA, "delivery_schema", max_connections=5)

    async def first_time(self, key: str) -> bool:
        pool = await self._pool.get()
        status = await pool.execute(
            "INSERT INTO delivery_seen (key, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            key,
            time.time(),
        )
        return bool(status == "INSERT 0 1")

    async def record_failure(
        self, channel: str, conversation_id: str, payload: dict[str, Any], error: str
    ) -> None:
        pool = await self._pool.get()
        await pool.execute(
            "INSERT INTO delivery_failures (at, channel, conversation_id, payload, error)"
            " VALUES ($1, $2, $3, $4, $5)",
            time.time(),
            channel,
            conversation_id,
            json.dumps(payload),
            error,
        )

    async def failures(self, limit: int = 100) -> list[dict[str, Any]]:
        pool = await self._pool.get()
        rows = await pool.fetch(
            "SELECT at, channel, conversation_id, payload, error FROM delivery_failures"
            " ORDER BY id DESC LIMIT $1",
            limit,
        )
        return [_failure(*row) for row in rows]

    async def prune_before(self, cutoff: float) -> int:
        pool = await self._pool.get()
        seen = await pool.execute("DELETE FROM delivery_seen WHERE seen_at < $1", cutoff)
        failed = await pool.execute("DELETE FROM delivery_failures WHERE at < $1", cutoff)
        return int(seen.split()[-1]) + int(failed.split()[-1])

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        pool = await self._pool.get()
        status = await pool.execute(
            "DELETE FROM delivery_failures WHERE conversation_id = ANY($1::text[])",
            list(conversation_ids),
        )
        return int(status.split()[-1])

    async def close(self) -> None:
        await self._pool.close()


def _failure(
    at: float, channel: str, conversation_id: str, payload: str, error: str
) -> dict[str, Any]:
    return {
        "at": at,
        "channel": channel,
        "conversation_id": conversation_id,
        "payload": json.loads(payload),
        "error": error,
    }


def delivery_store_from_env() -> DeliveryStore:
    """PostgreSQL when ``BOT_DATABASE_URL`` is set, else the SQLite file."""
    url = database_url()
    return PostgresDeliveryStore(url) if url else SqliteDeliveryStore(sqlite_path())
