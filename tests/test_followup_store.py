"""The check-in store keeps the same promises on every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot.followup.postgres_store import PostgresCheckinStore
from bot.followup.sqlite_store import SqliteCheckinStore
from bot.followup.store import CheckinState, CheckinStore, checkin_store_from_env
from bot.testing.stores import BACKENDS, store_factory

NOW = 1_750_000_000.0
DAY = 86_400.0


@pytest_asyncio.fixture(params=BACKENDS)
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], CheckinStore]]:
    """Makes stores on one fresh database: a SQLite file, or a PostgreSQL schema of its own."""
    async with store_factory(
        request.param,
        tmp_path,
        "followup_test",
        sqlite=SqliteCheckinStore,
        postgres=lambda url, schema: PostgresCheckinStore(url, schema=schema),
    ) as new:
        yield new


@pytest.fixture
def store(make_store: Callable[[], CheckinStore]) -> CheckinStore:
    return make_store()


class TestCheckinStoreContract:
    async def test_a_scheduled_check_in_is_pending_until_its_time(
        self, store: CheckinStore
    ) -> None:
        checkin, created = await store.schedule(
            "slack:D1", "outages", "utter_checkin_outages", NOW + DAY, NOW
        )
        assert created and checkin.state is CheckinState.PENDING
        assert (checkin.conversation_id, checkin.topic, checkin.due_at) == (
            "slack:D1",
            "outages",
            NOW + DAY,
        )
        assert await store.get(checkin.id) == checkin
        assert await store.due(NOW + DAY - 1) == []
        assert [c.id for c in await store.due(NOW + DAY)] == [checkin.id]

    async def test_retention_prunes_finished_check_ins_due_before_the_cutoff(
        self, store: CheckinStore
    ) -> None:
        done, _ = await store.schedule("slack:D1", "outages", "utter_checkin_outages", NOW, NOW)
        await store.mark_delivered(done.id, NOW + 1)
        waiting, _ = await store.schedule("slack:D2", "outages", "utter_checkin_outages", NOW, NOW)
        later, _ = await store.schedule(
            "slack:D3", "outages", "utter_checkin_outages", NOW + DAY, NOW
        )
        await store.mark_delivered(later.id, NOW + DAY)
        assert await store.prune_before(NOW + 10) == 1
        assert await store.get(done.id) is None
        assert await store.get(waiting.id) is not None  # still pending: kept
        assert await store.get(later.id) is not None  # due after the cutoff

    async def test_one_pending_check_in_per_conversation_and_topic(
        self, store: CheckinStore
    ) -> None:
        first, _ = await store.schedule("telegram:7", "outages", "utter_a", NOW + 10, NOW)
        again, created = await store.schedule("telegram:7", "outages", "utter_a", NOW + 99, NOW)
        assert not created and again.id == first.id and again.due_at == NOW + 10
        other_topic, created_topic = await store.schedule(
            "telegram:7", "billing", "utter_b", NOW + 10, NOW
        )
        other_customer, created_customer = await store.schedule(
            "telegram:8", "outages", "utter_a", NOW + 10, NOW
        )
        assert created_topic and created_customer
        assert len({first.id, other_topic.id, other_customer.id}) == 3

    async def test_simultaneous_schedules_create_one_check_in(
        self, make_store: Callable[[], CheckinStore]
    ) -> None:
        stores = [make_store() for _ in range(4)]
        results = await asyncio.gather(
            *(
                stores[i % 4].schedule("rest:race", "outages", "utter_a", NOW + 10, NOW)
                for i in range(12)
            )
        )
        assert [created for _, created in results].count(True) == 1
        assert len({checkin.id for checkin, _ in results}) == 1

    async def test_a_check_in_is_delivered_exactly_once(
        self, make_store: Callable[[], CheckinStore]
    ) -> None:
        stores = [make_store() for _ in range(4)]
        checkin, _ = await stores[0].schedule("rest:once", "outages", "utter_a", NOW, NOW)
        won = await asyncio.gather(*(s.mark_delivered(checkin.id, NOW + 1) for s in stores * 3))
        assert won.count(True) == 1
        delivered = await stores[0].get(checkin.id)
        assert delivered is not None and delivered.state is CheckinState.DELIVERED
        assert delivered.delivered_at == NOW + 1
        assert await stores[0].due(NOW + DAY) == []
        _, created = await stores[0].schedule("rest:once", "outages", "utter_a", NOW + 5, NOW)
        assert created  # a delivered check-in no longer blocks a new one

    async def test_cancelling_stops_only_that_conversations_pending_check_ins(
        self, store: CheckinStore
    ) -> None:
        outage, _ = await store.schedule("rest:c", "outages", "utter_a", NOW + 10, NOW)
        billing, _ = await store.schedule("rest:c", "billing", "utter_b", NOW + 10, NOW)
        neighbour, _ = await store.schedule("rest:d", "outages", "utter_a", NOW + 10, NOW)
        assert [c.id for c in await store.cancel("rest:c", "outages")] == [outage.id]
        assert await store.cancel("rest:c", "outages") == []
        assert not await store.mark_delivered(outage.id, NOW + 11)
        assert [c.id for c in await store.pending()] == [billing.id, neighbour.id]
        assert [c.id for c in await store.cancel("rest:c")] == [billing.id]

    async def test_attempts_postpone_and_finally_fail_a_check_in(self, store: CheckinStore) -> None:
        checkin, _ = await store.schedule("rest:e", "outages", "utter_a", NOW, NOW)
        await store.record_attempt(checkin.id, NOW + 100, give_up=False)
        assert await store.due(NOW + 99) == []
        [retry] = await store.due(NOW + 100)
        assert retry.attempts == 1 and retry.state is CheckinState.PENDING
        await store.record_attempt(checkin.id, NOW + 200, give_up=True)
        failed = await store.get(checkin.id)
        assert failed is not None and failed.state is CheckinState.FAILED
        assert failed.attempts == 2 and await store.pending() == []

    async def test_pending_lists_the_soonest_first(self, store: CheckinStore) -> None:
        late, _ = await store.schedule("rest:f", "outages", "utter_a", NOW + 50, NOW)
        soon, _ = await store.schedule("rest:g", "outages", "utter_a", NOW + 5, NOW)
        assert [c.id for c in await store.pending()] == [soon.id, late.id]

    async def test_forgetting_a_customer_deletes_their_check_ins(self, store: CheckinStore) -> None:
        await store.schedule("slack:D9", "outages", "utter_a", NOW + 10, NOW)
        await store.schedule("slack:D9:1700.1", "outages", "utter_a", NOW + 10, NOW)
        kept, _ = await store.schedule("slack:D10", "outages", "utter_a", NOW + 10, NOW)
        assert await store.delete_customer(["slack:D9", "slack:D9:1700.1"]) == 2
        assert await store.delete_customer([]) == 0
        assert [c.id for c in await store.pending()] == [kept.id]


def test_the_backend_follows_the_environment(tmp_path: Path) -> None:
    assert isinstance(
        checkin_store_from_env({"BOT_SQLITE_PATH": str(tmp_path / "b.db")}), SqliteCheckinStore
    )
    assert isinstance(
        checkin_store_from_env({"BOT_DATABASE_URL": "postgresql://u@h/db"}), PostgresCheckinStore
    )
