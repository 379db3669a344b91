"""Backend fixtures for the store contract tests: every backend, one fresh database each.

A test module declares its ``make_store`` fixture with ``params=BACKENDS`` and yields from
``store_factory``; the contract class then runs once per backend.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from bot.storage.postgres import quoted
from bot.testing.services import require_postgres

#: ``params`` of a ``make_store`` fixture: the embedded backend and PostgreSQL.
BACKENDS: list[Any] = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class _Closable(Protocol):
    async def close(self) -> None: ...


S = TypeVar("S", bound=_Closable)


@asynccontextmanager
async def store_factory(
    backend: str,
    tmp_path: Path,
    prefix: str,
    sqlite: Callable[[Path], S],
    postgres: Callable[[str, str], S],
) -> AsyncIterator[Callable[[], S]]:
    """Makes stores on one fresh database: ``sqlite(tmp_path / "bot.db")``, or
    ``postgres(url, schema)`` on a PostgreSQL schema of its own (``prefix`` + a random
    suffix), dropped afterwards. Every store made is closed at the end."""
    url, schema = "", f"{prefix}_{uuid.uuid4().hex[:12]}"
    if backend == "postgresql":
        url = require_postgres()  # skips on a laptop without the server, fails on CI
    made: list[S] = []

    def new() -> S:
        store = sqlite(tmp_path / "bot.db") if backend == "sqlite" else postgres(url, schema)
        made.append(store)
        return store

    try:
        yield new
    finally:
        for store in made:
            await store.close()
        if backend == "postgresql":
            import asyncpg

            connection = await asyncpg.connect(url)
            try:
                await connection.execute(f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE")
            finally:
                await connection.close()
