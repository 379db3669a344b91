"""The delivery store behaves the same on every backend (SQLite and PostgreSQL)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.delivery.store import (
    MAX_ATTEMPTS,
    DeliveryStore,
    PostgresDeliveryStore,
    SqliteDeliveryStore,
)
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


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def crashed(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DeliveryStore]:
    """A store whose claims lapse at once: every holder behaves like a crashed process."""
    backend: DeliveryStore
    if request.param == "sqlite":
        backend = SqliteDeliveryStore(tmp_path / "bot.db", claim_seconds=-1)
    else:
        backend = PostgresDeliveryStore(require_postgres(), claim_seconds=-1)
    yield backend
    await backend.close()


class TestIntakeContract:
    async def test_a_message_is_recorded_before_processing_and_a_redelivery_is_dropped(
        self, store: DeliveryStore
    ) -> None:
        event = key()
        assert await store.receive(event, "telegram", "telegram:1", {"text": "hi"}) is True
        assert await store.receive(event, "telegram", "telegram:1", {"text": "hi"}) is False
        await store.finish(event)
        assert await store.receive(event, "telegram", "telegram:1", {"text": "hi"}) is False

    async def test_concurrent_deliveries_of_one_message_give_it_one_holder(
        self, store: DeliveryStore
    ) -> None:
        event = key()
        results = await asyncio.gather(
            *(store.receive(event, "slack", "slack:C1", {}) for _ in range(20))
        )
        assert results.count(True) == 1

    async def test_a_message_left_unfinished_by_a_crash_is_handed_out_again(
        self, crashed: DeliveryStore
    ) -> None:
        channel = f"test-{uuid.uuid4().hex[:8]}"
        first, second, done = key(), key(), key()
        for event, text in ((first, "one"), (second, "two"), (done, "three")):
            await crashed.receive(event, channel, f"{channel}:1", {"text": text})
        await crashed.finish(done)

        again = await crashed.claim_unfinished(channel)

        assert [(m.key, m.payload, m.attempts) for m in again] == [
            (first, {"text": "one"}, 2),
            (second, {"text": "two"}, 2),
        ]

    async def test_a_message_that_keeps_failing_is_handed_out_at_most_max_attempts(
        self, crashed: DeliveryStore
    ) -> None:
        channel = f"test-{uuid.uuid4().hex[:8]}"
        await crashed.receive(key(), channel, f"{channel}:1", {"text": "poison"})
        handed = [len(await crashed.claim_unfinished(channel)) for _ in range(MAX_ATTEMPTS + 1)]
        assert sum(handed) == MAX_ATTEMPTS - 1  # the first attempt was the live one

    async def test_a_claimed_message_is_not_handed_out_while_its_holder_lives(
        self, store: DeliveryStore
    ) -> None:
        channel = f"test-{uuid.uuid4().hex[:8]}"
        await store.receive(key(), channel, f"{channel}:1", {"text": "busy"})
        assert await store.claim_unfinished(channel) == []

    async def test_forget_me_deletes_the_intake_records_of_the_conversation(
        self, crashed: DeliveryStore
    ) -> None:
        channel = f"test-{uuid.uuid4().hex[:8]}"
        await crashed.receive(key(), channel, f"{channel}:gone", {"text": "my address"})
        await crashed.delete_conversations([f"{channel}:gone"])
        assert await crashed.claim_unfinished(channel) == []
