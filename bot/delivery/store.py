"""Durable, effectively-once intake, seen event keys, and a record of messages that could
not be delivered.

The intake: a channel records each inbound customer message (:meth:`DeliveryStore.receive`,
state ``received``, with its payload) *before* it acknowledges the platform, processes it,
and marks it done (:meth:`DeliveryStore.finish`, the payload dropped). A platform id is
processed by one holder at a time: a redelivery while it is claimed or done is a
duplicate. A record still ``received`` when its claim lapses (the process died mid-turn)
is handed out again by :meth:`DeliveryStore.claim_unfinished`, at most
``MAX_ATTEMPTS`` times. When :meth:`receive` raises, the message is not recorded and the
channel must answer the platform with a non-2xx status so it redelivers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.database import database_url, sqlite_path
from bot.storage.postgres import PostgresPool
from bot.storage.sqlite import SqliteDatabase

#: How long a claimed intake record belongs to its holder before another may take it
#: (longer than a turn can take: Rasa's lock lifetime is 60 s).
CLAIM_SECONDS = 120.0
#: How often an unfinished record is handed out in all (the first time included).
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Inbound:
    """An intake record handed out again: what to process."""

    key: str
    channel: str
    conversation_id: str
    payload: dict[str, Any]
    attempts: int


class DeliveryStore(Protocol):
    """Remembers handled platform events and records undeliverable messages."""

    async def receive(
        self, key: str, channel: str, conversation_id: str, payload: dict[str, Any]
    ) -> bool:
        """Records the inbound message durably (or finds it); True when the caller holds it
        now and must process it: a new key, or an unfinished one whose claim lapsed. Raises
        when it cannot be recorded."""

    async def finish(self, key: str) -> None:
        """Marks the message processed (its payload is dropped; the key stays, for
        duplicates)."""

    async def claim_unfinished(self, channel: str, limit: int = 100) -> list[Inbound]:
        """Claims the channel's messages left ``received`` by a holder whose claim lapsed,
        oldest first (each at most ``MAX_ATTEMPTS`` times in all)."""

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
CREATE TABLE IF NOT EXISTS delivery_intake (
    key TEXT PRIMARY KEY, channel TEXT NOT NULL, conversation_id TEXT NOT NULL,
    payload TEXT, state TEXT NOT NULL, received_at REAL NOT NULL,
    claimed_until REAL NOT NULL, attempts INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS delivery_intake_unfinished
    ON delivery_intake (channel, state, claimed_until);
"""
_POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_seen (key TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_failures (
    id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, channel TEXT NOT NULL,
    conversation_id TEXT NOT NULL, payload TEXT NOT NULL, error TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_intake (
    key TEXT PRIMARY KEY, channel TEXT NOT NULL, conversation_id TEXT NOT NULL,
    payload TEXT, state TEXT NOT NULL, received_at DOUBLE PRECISION NOT NULL,
    claimed_until DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS delivery_intake_unfinished
    ON delivery_intake (channel, state, claimed_until);
"""
# A new key is inserted; a known one is taken over only when unfinished and its claim lapsed.
_RECEIVE = """
INSERT INTO delivery_intake
    (key, channel, conversation_id, payload, state, received_at, claimed_until, attempts)
VALUES ({0}, {1}, {2}, {3}, 'received', {4}, {5}, 1)
ON CONFLICT (key) DO UPDATE SET claimed_until = excluded.claimed_until,
    attempts = delivery_intake.attempts + 1
WHERE delivery_intake.state = 'received' AND delivery_intake.claimed_until < excluded.received_at
    AND delivery_intake.attempts < {6}
"""


class SqliteDeliveryStore:
    """The embedded backend: one SQLite file, safe across processes."""

    def __init__(self, path: Path, claim_seconds: float = CLAIM_SECONDS) -> None:
        self._db = SqliteDatabase(path, _SQLITE_SCHEMA)
        self._claim = claim_seconds

    def _receive(self, row: tuple[str, str, str, str]) -> bool:
        now = time.time()
        sql = _RECEIVE.format(*"?????", "?", MAX_ATTEMPTS)
        with self._db.connect() as connection:
            cursor = connection.execute(sql, (*row, now, now + self._claim))
            return cursor.rowcount == 1

    async def receive(
        self, key: str, channel: str, conversation_id: str, payload: dict[str, Any]
    ) -> bool:
        row = (key, channel, conversation_id, json.dumps(payload))
        return await asyncio.to_thread(self._receive, row)

    def _finish(self, key: str) -> None:
        with self._db.connect() as connection:
            connection.execute(
                "UPDATE delivery_intake SET state = 'done', payload = NULL WHERE key = ?", (key,)
            )

    async def finish(self, key: str) -> None:
        await asyncio.to_thread(self._finish, key)

    def _claim_unfinished(self, channel: str, limit: int) -> list[Inbound]:
        now = time.time()
        with self._db.connect() as connection:
            rows = connection.execute(
                "UPDATE delivery_intake SET claimed_until = ?, attempts = attempts + 1"
                " WHERE key IN (SELECT key FROM delivery_intake WHERE channel = ?"
                " AND state = 'received' AND claimed_until < ? AND attempts < ?"
                " ORDER BY received_at LIMIT ?)"
                " RETURNING key, channel, conversation_id, payload, attempts, received_at",
                (now + self._claim, channel, now, MAX_ATTEMPTS, limit),
            ).fetchall()
        rows = sorted(rows, key=lambda row: row["received_at"])
        return [_inbound(row) for row in rows]

    async def claim_unfinished(self, channel: str, limit: int = 100) -> list[Inbound]:
        return await asyncio.to_thread(self._claim_unfinished, channel, limit)

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
            deleted = cursor.rowcount
            connection.execute(
                f"DELETE FROM delivery_intake WHERE conversation_id IN ({marks})",
                conversation_ids,
            )
            return deleted

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

    def __init__(self, dsn: str, claim_seconds: float = CLAIM_SECONDS) -> None:
        self._pool = PostgresPool(dsn, _POSTGRES_SCHEMA, "delivery_schema", max_connections=5)
        self._claim = claim_seconds

    async def receive(
        self, key: str, channel: str, conversation_id: str, payload: dict[str, Any]
    ) -> bool:
        pool = await self._pool.get()
        now = time.time()
        sql = _RECEIVE.format("$1", "$2", "$3", "$4", "$5", "$6", MAX_ATTEMPTS)
        status = await pool.execute(
            sql, key, channel, conversation_id, json.dumps(payload), now, now + self._claim
        )
        return bool(status == "INSERT 0 1")

    async def finish(self, key: str) -> None:
        pool = await self._pool.get()
        await pool.execute(
            "UPDATE delivery_intake SET state = 'done', payload = NULL WHERE key = $1", key
        )

    async def claim_unfinished(self, channel: str, limit: int = 100) -> list[Inbound]:
        pool = await self._pool.get()
        now = time.time()
        rows = await pool.fetch(
            "UPDATE delivery_intake SET claimed_until = $1, attempts = attempts + 1"
            " WHERE key IN (SELECT key FROM delivery_intake WHERE channel = $2"
            " AND state = 'received' AND claimed_until < $3 AND attempts < $4"
            " ORDER BY received_at LIMIT $5 FOR UPDATE SKIP LOCKED)"
            " RETURNING key, channel, conversation_id, payload, attempts, received_at",
            now + self._claim,
            channel,
            now,
            MAX_ATTEMPTS,
            limit,
        )
        rows = sorted(rows, key=lambda row: row["received_at"])
        return [_inbound(row) for row in rows]

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
        await pool.execute(
            "DELETE FROM delivery_intake WHERE conversation_id = ANY($1::text[])",
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


def _inbound(row: Any) -> Inbound:
    return Inbound(
        row["key"],
        row["channel"],
        row["conversation_id"],
        json.loads(row["payload"] or "{}"),
        int(row["attempts"]),
    )


def delivery_store_from_env() -> DeliveryStore:
    """PostgreSQL when ``BOT_DATABASE_URL`` is set, else the SQLite file."""
    url = database_url()
    return PostgresDeliveryStore(url) if url else SqliteDeliveryStore(sqlite_path())
