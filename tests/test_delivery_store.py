"""The delivery store behaves the same on every backend (SQLite and PostgreSQL)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.delivery.store import DeliveryStore, PostgresDeliveryStore, SqliteDeliveryStore
from bot.testing.services import require_postgres


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DeliveryStore]:
    backend: DeliveryStore
    if request.param == "sqlite":
        backend = SqliteDeliveryStore(tmp_path / "bot.db")
    else:
        backend = PostgresDeliveryStore(require_postgres())
    yield backend
    await backend.close()


def key() -> str:
    return f"test:{uuid.uuid4()}"


class TestDeliveryStoreContract:
    async def test_an_event_is_new_only_the_first_time(self, store: DeliveryStore) -> None:
        event = key()
        assert await store.first_time(event) is True
        assert await store.first_time(event) is False
        assert await store.first_time(key()) is True

    async def test_concurrent_deliveries_of_one_event_let_exactly_one_through(
        self, store: DeliveryStore
    ) -> None:
        event = key()
        results = await asyncio.gather(*(store.first_time(event) for _ in range(20)))
        assert results.count(True) == 1

    async def test_an_undeliverable_message_is_kept_with_its_reason(
        self, store: DeliveryStore
    ) -> None:
        conversation = key()
        await store.record_failure("slack", conversation, {"text": "Hello"}, "channel_not_found")
        latest = [f for f in await store.failures(50) if f["conversation_id"] == conversation]
        assert latest == [
            {
                "at": latest[0]["at"],
                "channel": "slack",
                "conversation_id": conversation,
                "payload": {"text": "Hello"},
                "error": "channel_not_found",
            }
        ]


async def test_sqlite_remembers_events_across_restarts(tmp_path: Path) -> None:
    event = key()
    assert await SqliteDeliveryStore(tmp_path / "bot.db").first_time(event)
    assert not await SqliteDeliveryStore(tmp_path / "bot.db").first_time(event)
