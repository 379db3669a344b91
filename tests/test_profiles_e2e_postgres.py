"""Personalisation and forget-me end to end on the production stores: the tracker store and
the bot's data on PostgreSQL (a database of its own), the lock store on Redis. After
forget-me no table and no Redis key holds anything about the customer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
import redis.asyncio as redis
from profiles_platforms import Platforms, serving_both, traces, until

from bot.runtime.settings import LOCK_STORE
from bot.testing.services import require_postgres, require_redis
from bot.testing.telegram_updates import GROUP_ID

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]
REDIS_DB = 1


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def production(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platforms]:
    server, _ = require_postgres(), require_redis()
    database = f"profiles_e2e_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = f"{server.rsplit('/', 1)[0]}/{database}"
    endpoints = {
        "tracker_store": {
            "type": "bot.storage.remembering_tracker_store.RememberingTrackerStore",
            "dialect": "postgresql",
            "url": "127.0.0.1",
            "port": 5432,
            "db": database,
            "username": "postgres",
            "password": "",
        },
        "lock_store": {
            "type": LOCK_STORE,
            "url": "127.0.0.1",
            "port": 6379,
            "db": REDIS_DB,
            "key_prefix": f"profiles{uuid.uuid4().hex[:6]}",
        },
    }
    env = {"BOT_DATABASE_URL": url, "BOT_TRACKER_STORE_URL": url}
    try:
        async with serving_both(
            tmp_path_factory.mktemp("profiles-pg"), endpoints=endpoints, env=env, databases=(url,)
        ) as platforms:
            yield platforms
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def redis_keys() -> list[str]:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    try:
        return [key.decode() for key in await client.keys("*")]
    finally:
        await client.close()


async def test_forget_me_on_postgresql_and_redis_leaves_nothing_behind(
    production: Platforms,
) -> None:
    both, gil = production, 918273605
    username = both.telegram.bot_user["username"]
    await both.telegram_says("hello", gil)
    await both.telegram_says("how can I pay my bill?", gil)
    await both.telegram_restarts(gil)
    [welcome] = await both.telegram_says("hello", gil)
    assert welcome["text"].startswith(f"Hi Customer{gil}, welcome back! Last time we talked")
    await both.telegram_says(f"talk to a human @{username}", gil, chat=GROUP_ID)  # a ticket

    needles = [str(gil), f"Customer{gil}"]
    stored = {row.split(": ")[0] for row in traces(both.every_row(), needles)}
    assert {"profile_identities", "profile_conversations", "handoff_tickets", "events"} <= stored

    [question] = await both.telegram_says("/forgetme", gil)
    [done] = await both.telegram_presses(question, "Yes, delete everything", gil)
    assert done["text"].startswith("Done: I've deleted everything I had about you")
    left: list[str] = []

    def nothing_left() -> bool:
        left[:] = traces(both.every_row(), needles)
        return not left

    assert await until(nothing_left), left
    assert [key for key in await redis_keys() if str(gil) in key] == []
