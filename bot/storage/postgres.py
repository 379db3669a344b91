"""``PostgresPool``: an asyncpg pool that creates its store's schema on first use."""

from __future__ import annotations

import asyncio
from typing import Any


def quoted(identifier: str) -> str:
    """``identifier`` as a quoted SQL name."""
    return '"' + identifier.replace('"', '""') + '"'


class PostgresPool:
    """An asyncpg pool opened on first use, with ``schema_sql`` run (idempotently) then.

    ``lock_key`` names the advisory lock that serialises schema creation between processes
    (``IF NOT EXISTS`` alone races in PostgreSQL); each store passes its own.
    ``search_path_schema`` (created if missing) becomes the connections' search_path, so the
    tables can live apart from others, e.g. one schema per test.
    """

    def __init__(
        self,
        dsn: str,
        schema_sql: str,
        lock_key: str,
        search_path_schema: str | None = None,
        max_connections: int = 10,
    ) -> None:
        self._dsn, self._schema_sql, self._lock_key = dsn, schema_sql, lock_key
        self._schema, self._max = search_path_schema, max_connections
        self._pool: Any = None
        self._lock = asyncio.Lock()

    async def get(self) -> Any:
        """The pool (an ``asyncpg.Pool``)."""
        async with self._lock:
            if self._pool is None:
                import asyncpg

                settings = {"search_path": quoted(self._schema)} if self._schema else None
                pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=self._max, server_settings=settings
                )
                try:
                    async with pool.acquire() as db, db.transaction():
                        await db.execute(
                            "SELECT pg_advisory_xact_lock(hashtext($1))", self._lock_key
                        )
                        if self._schema:
                            await db.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(self._schema)}")
                        await db.execute(self._schema_sql)
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
