"""The conversation lock: one turn at a time per conversation, in arrival order, across
processes. One contract, run on Rasa's in-memory store (one process) and on
``RedisTicketLockStore`` (several instances standing for several processes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlparse

import pytest
import pytest_asyncio
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.storage.redis_lock_store import LEASE_SECONDS, RedisTicketLockStore
from bot.testing.services import OwnRedis, own_redis, require_redis

Stores = Callable[[], LockStore]  # each call: the store of another process


def _redis_config(prefix: str) -> EndpointConfig:
    url = urlparse(require_redis())
    return EndpointConfig(
        url=url.hostname, port=url.port, db=int(url.path.lstrip("/") or 0), key_prefix=prefix
    )


@pytest_asyncio.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    if request.param == "memory":
        shared = InMemoryLockStore()
        yield lambda: shared
        return
    prefix = f"test:lock:{uuid.uuid4().hex[:8]}:"
    made: list[RedisTicketLockStore] = []

    def another() -> LockStore:
        made.append(RedisTicketLockStore(_redis_config(prefix)))
        return made[-1]

    yield another
    left = [key async for key in made[0].client.scan_iter(f"{prefix}*")] if made else []
    for store in made:
        await store.close()
    assert not left, f"keys left in Redis: {left}"


async def test_turns_of_one_conversation_never_overlap_and_keep_their_order(
    stores: Stores,
) -> None:
    processes = [stores() for _ in range(3)]
    inside, order, overlaps = 0, [], 0

    async def turn(n: int) -> None:
        nonlocal inside, overlaps
        async with processes[n % 3].lock("conversation", wait_time_in_seconds=0.02):
            inside += 1
            overlaps += inside > 1
            order.append(n)
            await asyncio.sleep(0.01)
            inside -= 1

    tasks = []
    for n in range(12):  # tickets are taken in this order
        tasks.append(asyncio.create_task(turn(n)))
        await asyncio.sleep(0.005)
    await asyncio.gather(*tasks)

    assert overlaps == 0
    assert order == list(range(12))


async def take_turn(store: LockStore, conversation: str, **options: float) -> None:
    async with store.lock(conversation, **options):
        pass


async def test_another_conversation_does_not_wait(stores: Stores) -> None:
    first, second = stores(), stores()
    async with first.lock("busy"):
        await asyncio.wait_for(take_turn(second, "free"), 0.5)


async def test_a_holder_that_never_finishes_is_overtaken_after_its_lifetime(
    stores: Stores,
) -> None:
    crashed, next_one = stores(), stores()
    holding = asyncio.Event()

    async def hold_forever() -> None:
        async with crashed.lock("stuck", lock_lifetime=0.3):
            holding.set()
            await asyncio.sleep(3600)

    holder = asyncio.create_task(hold_forever())
    await holding.wait()
    await asyncio.wait_for(take_turn(next_one, "stuck", wait_time_in_seconds=0.05), 2)
    holder.cancel()
    await asyncio.gather(holder, return_exceptions=True)


async def test_rasas_own_redis_store_gives_two_processes_the_same_ticket() -> None:
    """Why RedisTicketLockStore exists (RasaHQ/rasa#9213): Rasa's store reads the lock,
    adds a ticket and writes it back; two processes in between both get ticket 1."""
    config = _redis_config(f"test{uuid.uuid4().hex[:8]}")
    first = RedisLockStore(host=config.url, **config.kwargs)
    second = RedisLockStore(host=config.url, **config.kwargs)
    seen_by_first = first.get_or_create_lock("c")
    seen_by_second = second.get_or_create_lock("c")  # before the first wrote its ticket
    tickets = [lock.issue_ticket(60) for lock in (seen_by_first, seen_by_second)]
    first.save_lock(seen_by_first)
    second.save_lock(seen_by_second)
    first.delete_lock("c")
    assert tickets[0] == tickets[1]


# -- a lock on Redis survives crashes: of a Rasa process, and of Redis itself -------------


def _own_store(server: OwnRedis, prefix: str, lease_seconds: float) -> RedisTicketLockStore:
    config = EndpointConfig(url="127.0.0.1", port=server.port, key_prefix=prefix)
    return RedisTicketLockStore(config, lease_seconds=lease_seconds)


async def test_the_ticket_of_a_killed_process_lapses_after_its_lease_not_the_lifetime() -> None:
    with own_redis() as server:
        killed, survivor = (_own_store(server, "kill:", 0.3) for _ in range(2))
        await killed.issue("c", 0.3)  # its turn, then kill -9: never released nor renewed
        await killed.client.close()
        try:
            await asyncio.wait_for(take_turn(survivor, "c", wait_time_in_seconds=0.05), 10)
        finally:
            await survivor.close()


async def test_a_turn_longer_than_its_lease_keeps_the_lock_while_it_runs() -> None:
    with own_redis() as server:
        slow, next_one = (_own_store(server, "slow:", 0.2) for _ in range(2))
        order: list[str] = []

        async def long_turn() -> None:
            async with slow.lock("c", lock_lifetime=60):
                order.append("slow starts")
                await asyncio.sleep(1.0)  # five leases
                order.append("slow ends")

        holder = asyncio.create_task(long_turn())
        await asyncio.sleep(0.1)
        async with next_one.lock("c", lock_lifetime=60, wait_time_in_seconds=0.05):
            order.append("next")
        await holder
        await slow.close()
        await next_one.close()
    assert order == ["slow starts", "slow ends", "next"]


async def test_while_redis_is_down_taking_a_turn_fails_loudly() -> None:
    with own_redis() as server:
        store = _own_store(server, "down:", LEASE_SECONDS)
        try:
            await take_turn(store, "c")
            server.kill()
            with pytest.raises(LockError):
                await take_turn(store, "c")
        finally:
            await store.close()


async def test_after_a_redis_restart_idle_pooled_connections_are_not_stale() -> None:
    with own_redis() as server:
        store = _own_store(server, "restart:", LEASE_SECONDS)
        try:
            await take_turn(store, "c")
            server.kill()  # while the store's pooled connection sits idle
            server.start()
            await take_turn(store, "c")  # a plain client fails here with ConnectionError
        finally:
            await store.close()
