"""Short, persistent keys for button payloads longer than Telegram's 64-byte callback_data.

A key is derived from the payload (``k:`` + 32 characters of its SHA-256), so the same
payload always gets the same key and no press is ever lost to a restart: keys live in the
bot's database (PostgreSQL with ``BOT_DATABASE_URL``, else the SQLite file).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from bot.database import database_url, sqlite_path

KEY_PREFIX = "k:"
_TABLE = (
    "CREATE TABLE IF NOT EXISTS telegram_payload_keys (key TEXT PRIMARY KEY, payload TEXT NOT NULL)"
)


def key_for(payload: str) -> str:
    """The stable short key of ``payload`` (34 bytes)."""
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode()[:32]


class PayloadKeys:
    """Stores ``key -> payload`` and resolves pressed keys back to payloads."""

    def __init__(self, sqlite: Path | None = None, dsn: str | None = None) -> None:
        self._sqlite, self._dsn = sqlite, dsn
        self._pool: Any = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_env(cls) -> PayloadKeys:
        url = database_url()
        return cls(dsn=url) if url else cls(sqlite=sqlite_path())

    async def remember(self, payload: str) -> str:
        """The key for ``payload``, stored before any button carries it."""
        key = key_for(payload)
        if self._dsn:
            pool = await self._postgres()
            await pool.execute(
                "INSERT INTO telegram_payload_keys VALUES ($1, $2) ON CONFLICT DO NOTHING",
                key,
                payload,
            )
        else:
            await asyncio.to_thread(
                self._sqlite_run,
                "INSERT OR IGNORE INTO telegram_payload_keys VALUES (?, ?)",
                (key, payload),
            )
        return key

    async def resolve(self, data: str) -> str | None:
        """The payload behind pressed ``data``: itself when not a key, None when unknown."""
        if not data.startswith(KEY_PREFIX):
            return data
        if self._dsn:
            pool = await self._postgres()
            row = await pool.fetchval(
                "SELECT payload FROM telegram_payload_keys WHERE key = $1", data
            )
            return str(row) if row is not None else None
        rows = await asyncio.to_thread(
            self._sqlite_run, "SELECT payload FROM telegram_payload_keys WHERE key = ?", (data,)
        )
        return str(rows[0][0]) if rows else None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _sqlite_run(self, sql: str, args: tuple[str, ...]) -> list[Any]:
        assert self._sqlite is not None
        self._sqlite.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._sqlite, timeout=30, isolation_level=None)
        try:
            connection.execute(_TABLE)
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()

    async def _postgres(self) -> Any:
        async with self._lock:
            if self._pool is None:
                import asyncpg

                self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=3)
                await self._pool.execute(_TABLE)
            return self._pool
