"""Customer profiles: the store contract on every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from profiles_contract import ProfileStoreContract

from bot.profiles.postgres_store import PostgresProfileStore
from bot.profiles.sqlite_store import SqliteProfileStore
from bot.profiles.store import ProfileStore, profile_store_from_env
from bot.testing.services import require_postgres


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], ProfileStore]]:
    """Makes stores on one fresh database: a SQLite file, or a PostgreSQL schema of its own."""
    backend, url, schema = request.param, "", f"profiles_test_{uuid.uuid4().hex[:12]}"
    if backend == "postgresql":
        url = require_postgres()  # skips on a laptop without the server, fails on CI
    made: list[ProfileStore] = []

    def new() -> ProfileStore:
        store: ProfileStore = (
            SqliteProfileStore(tmp_path / "bot.db")
            if backend == "sqlite"
            else PostgresProfileStore(url, schema=schema)
        )
        made.append(store)
        return store

    yield new
    for store in made:
        await store.close()
    if backend == "postgresql":
        connection = await asyncpg.connect(url)
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


@pytest.fixture
def store(make_store: Callable[[], ProfileStore]) -> ProfileStore:
    return make_store()


class TestProfileStoreContract(ProfileStoreContract):
    """Every test of ``ProfileStoreContract``, once per backend (see ``make_store``)."""


def test_the_backend_follows_the_bot_database_setting(tmp_path: Path) -> None:
    sqlite = profile_store_from_env({"BOT_SQLITE_PATH": str(tmp_path / "bot.db")})
    postgres = profile_store_from_env({"BOT_DATABASE_URL": "postgresql://u@h/db"})
    assert isinstance(sqlite, SqliteProfileStore) and isinstance(postgres, PostgresProfileStore)
