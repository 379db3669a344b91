"""Handoff reliability: a restart mid-handoff loses nothing; two Rasa servers share
PostgreSQL (tracker store, queue) and Redis (lock store) without losing or duplicating."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.handoff.desk import Agent, AgentDesk
from bot.handoff.notifier import LogNotifier
from bot.handoff.postgres_store import PostgresTicketStore
from bot.handoff.priority import PriorityWeights
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import TicketState
from bot.runtime.settings import LOCK_STORE
from bot.testing.servers import PROJECT_ROOT, RunningBot, running_bot
from bot.testing.services import require_postgres, require_redis

pytestmark = pytest.mark.e2e


async def say(bot: RunningBot, sender: str, text: str) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{bot.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=bot.rest_headers,
        ) as reply,
    ):
        assert reply.status == 200
        return list(await reply.json())


async def user_texts(bot: RunningBot, sender: str) -> list[str]:
    tracker = await bot.conversations().tracker(bot.rest_conversation(sender))
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


async def test_a_restart_mid_handoff_keeps_the_queue_the_pause_and_the_relay(
    tmp_path: Path,
) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    async with running_bot(state=tmp_path) as bot:
        assert await say(bot, sender, "I want to speak to a human") != []
    store = SqliteTicketStore(tmp_path / "bot.db", weights=PriorityWeights())
    ticket = await store.find_open(RunningBot.rest_conversation(sender))
    assert ticket is not None and ticket.state is TicketState.QUEUED

    async with running_bot(state=tmp_path) as bot:
        assert await say(bot, sender, "are you still there?") == [], "the bot must stay paused"
        desk = AgentDesk(
            store,
            bot.conversations(),
            LogNotifier(),
            domain_texts(str(PROJECT_ROOT / "domain.yml")),
        )
        assert (await desk.claim(ticket.id, Agent("cli:sam", "Sam"))).won
        await desk.reply(ticket.id, Agent("cli:sam", "Sam"), "Yes, I'm here.")
        assert "are you still there?" in await user_texts(bot, sender)
        tracker = await bot.conversations().tracker(bot.rest_conversation(sender))
        assert tracker["events"][-1]["text"] == "Sam from support: Yes, I'm here."
    await store.close()


async def test_two_rasa_servers_share_postgres_and_redis_without_losing_or_duplicating(
    tmp_path: Path,
) -> None:
    postgres, _ = require_postgres(), require_redis()
    host_db = postgres.rsplit("/", 1)
    endpoints = {
        "tracker_store": {
            "type": "SQL",
            "dialect": "postgresql",
            "url": "127.0.0.1",
            "port": 5432,
            "db": host_db[1],
            "username": "postgres",
            "password": "",
        },
        "lock_store": {
            "type": LOCK_STORE,
            "url": "127.0.0.1",
            "port": 6379,
            "db": 1,
            "key_prefix": f"test{uuid.uuid4().hex[:6]}",
        },
    }
    env = {"BOT_DATABASE_URL": postgres}
    async with (
        running_bot(endpoints=endpoints, env=env, state=tmp_path / "a") as first,
        running_bot(endpoints=endpoints, env=env, state=tmp_path / "b") as second,
    ):
        servers = [first, second]
        senders = [f"rest-{uuid.uuid4().hex[:8]}" for _ in range(6)]
        questions = [
            "how do I pay my bill",
            "how can I change my plan",
            "how do I reset my password",
            "what does the tv add-on cost",
        ]
        messages = {s: [f"{q} ({s[-4:]})" for q in questions] for s in senders}

        async def conversation(index: int, sender: str) -> None:
            for turn, text in enumerate(messages[sender]):
                # alternate servers within one conversation as a load balancer would
                assert await say(servers[(index + turn) % 2], sender, text)

        await asyncio.gather(*(conversation(i, s) for i, s in enumerate(senders)))
        for sender in senders:
            assert await user_texts(first, sender) == messages[sender]

        escalating = senders[:3]
        await asyncio.gather(
            *(
                say(servers[i % 2], s, "let me talk to a real person")
                for i, s in enumerate(escalating)
            )
        )
        store = PostgresTicketStore(postgres, weights=PriorityWeights())
        tickets = [await store.find_open(RunningBot.rest_conversation(s)) for s in escalating]
        assert all(t is not None and t.state is TicketState.QUEUED for t in tickets)
        desks = [
            AgentDesk(
                store,
                b.conversations(),
                LogNotifier(),
                domain_texts(str(PROJECT_ROOT / "domain.yml")),
            )
            for b in servers
        ]
        agents = [Agent(f"cli:agent{i}", f"Agent {i}") for i in range(4)]
        for ticket in tickets:
            assert ticket is not None
            results = await asyncio.gather(
                *(desks[i % 2].claim(ticket.id, a) for i, a in enumerate(agents))
            )
            assert [r.won for r in results].count(True) == 1
        for sender in escalating:
            joined = [
                e
                for e in (await second.conversations().tracker(second.rest_conversation(sender)))[
                    "events"
                ]
                if e["event"] == "bot" and "has joined" in (e.get("text") or "")
            ]
            assert len(joined) == 1
        await store.delete_customer([RunningBot.rest_conversation(s) for s in escalating])
        await store.close()
