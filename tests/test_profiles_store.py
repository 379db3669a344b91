"""Customer profiles: the store contract on every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from profiles_contract import ProfileStoreContract

from bot.profiles.postgres_store import PostgresProfileStore
from bot.profiles.sqlite_store import SqliteProfileStore
from bot.profiles.store import ProfileStore, profile_store_from_env
from bot.testing.stores import BACKENDS, store_factory


@pytest_asyncio.fixture(params=BACKENDS)
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], ProfileStore]]:
    """Makes stores on one fresh database: a SQLite file, or a PostgreSQL schema of its own."""
    async with store_factory(
        request.param,
        tmp_path,
        "profiles_test",
        sqlite=SqliteProfileStore,
        postgres=lambda url, schema: PostgresProfileStore(url, schema=schema),
    ) as new:
        yield new


@pytest.fixture
def store(make_store: Callable[[], ProfileStore]) -> ProfileStore:
    return make_store()


class TestProfileStoreContract(ProfileStoreContract):
    """Every test of ``ProfileStoreContract``, once per backend (see ``make_store``)."""


def test_the_backend_follows_the_bot_database_setting(tmp_path: Path) -> None:
    sqlite = profile_store_from_env({"BOT_SQLITE_PATH": str(tmp_path / "bot.db")})
    postgres = profile_store_from_env({"BOT_DATABASE_URL": "postgresql://u@h/db"})
    assert isinstance(sqlite, SqliteProfileStore) and isinstance(postgres, PostgresProfileStore)
