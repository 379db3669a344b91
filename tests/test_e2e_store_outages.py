"""When the tracker store (PostgreSQL) or the lock store (Redis) goes away, a customer's
message gets the apology, never an answer from a substitute store; when the server is back,
the next message is answered normally, with nothing stale in the way. Against PostgreSQL
and Redis servers of the test's own, crashed and restarted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from bot.handoff.texts import domain_texts
from bot.runtime.settings import LOCK_STORE, TRACKER_STORE
from bot.testing.servers import RunningBot, running_bot
from bot.testing.services import OwnPostgres, OwnRedis, own_postgres, own_redis

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Production:
    bot: RunningBot
    postgres: OwnPostgres
    redis: OwnRedis

    async def says(self, sender: str, text: str) -> list[str]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.bot.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                headers=self.bot.rest_headers,
            ) as reply,
        ):
            assert reply.status == 200
            return [str(m.get("text")) for m in await reply.json()]

    async def stored_texts(self, sender: str) -> list[str]:
        connection = await asyncpg.connect(self.postgres.url)
        try:
            rows = await connection.fetch(
                "SELECT data::json->>'text' AS text FROM events"
                " WHERE sender_id = $1 AND type_name = 'user' ORDER BY id",
                self.bot.rest_conversation(sender),
            )
        finally:
            await connection.close()
        return [row["text"] for row in rows]


@pytest_asyncio.fixture(scope="module")
async def production(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Production]:
    with own_postgres() as postgres, own_redis() as redis:
        endpoints = {
            "tracker_store": {
                "type": TRACKER_STORE,
                "dialect": "postgresql",
                "url": "127.0.0.1",
                "port": postgres.port,
                "db": "postgres",
                "username": "postgres",
                "password": "",
            },
            "lock_store": {"type": LOCK_STORE, "url": "127.0.0.1", "port": redis.port},
        }
        state = tmp_path_factory.mktemp("outages")
        env = {"BOT_TRACKER_STORE_URL": postgres.url}
        async with running_bot(endpoints=endpoints, env=env, state=state) as bot:
            yield Production(bot, postgres, redis)


def apologies() -> set[str]:
    return {
        v["text"].format(position=n)
        for v in domain_texts().responses["utter_bot_failure"]
        for n in range(1, 10)
    }


async def test_with_postgresql_down_the_customer_gets_the_apology_not_a_forgetful_answer(
    production: Production,
) -> None:
    sender = f"pg-{uuid.uuid4().hex[:8]}"
    assert not set(await production.says(sender, "hello")) & apologies()

    production.postgres.crash()
    try:
        during = await production.says(sender, "how do I pay my bill")
    finally:
        production.postgres.start()
    after = await production.says(sender, "how do I pay my bill")

    assert len(during) == 1 and during[0] in apologies()
    assert after and not set(after) & apologies()
    assert await production.stored_texts(sender) == ["hello", "how do I pay my bill"]
    log = (production.bot.state / "rasa.log").read_text()
    assert "Falling back to use the InMemoryTrackerStore" not in log


async def test_with_redis_down_the_customer_gets_the_apology_and_then_answers_again(
    production: Production,
) -> None:
    sender = f"redis-{uuid.uuid4().hex[:8]}"
    assert not set(await production.says(sender, "hello")) & apologies()

    production.redis.kill()
    try:
        during = await production.says(sender, "how do I pay my bill")
    finally:
        production.redis.start()
    after = await production.says(sender, "how do I pay my bill")

    assert len(during) == 1 and during[0] in apologies()
    assert after and not set(after) & apologies()
