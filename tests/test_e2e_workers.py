"""Several Rasa workers (``SANIC_WORKERS=2`` with the Redis lock store, as Rasa requires):
both serve, and one conversation's messages are still handled one turn at a time."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bench.cpu import process_cpu_seconds, process_tree, settle
from bot.runtime.settings import redis_store
from bot.testing.servers import RunningBot, running_bot
from bot.testing.services import require_redis

pytestmark = pytest.mark.e2e
CONVERSATIONS = 16
MESSAGES = ("hi", "how do I pay my bill", "my internet keeps dropping", "thanks")


async def say(session: aiohttp.ClientSession, bot: RunningBot, sender: str, text: str) -> Any:
    payload = {"sender": sender, "message": text}
    async with session.post(
        f"{bot.rasa_url}/webhooks/rest/webhook", json=payload, headers=bot.rest_headers
    ) as reply:
        assert reply.status == 200
        return await reply.json()


async def events(session: aiohttp.ClientSession, bot: RunningBot, sender: str) -> list[Any]:
    url = f"{bot.rasa_url}/conversations/{bot.rest_conversation(sender)}/tracker"
    async with session.get(url, params=bot.api_params) as reply:
        assert reply.status == 200
        return list((await reply.json())["events"])


def turns_interleaved(tracker_events: list[dict[str, Any]]) -> bool:
    """Whether a user message arrived before the previous turn ended with action_listen."""
    listening = True
    for event in tracker_events:
        if event["event"] == "user":
            if not listening:
                return True
            listening = False
        elif event["event"] == "action" and event.get("name") == "action_listen":
            listening = True
    return False


async def test_two_workers_share_the_load_and_keep_each_conversation_in_order(
    tmp_path: Path,
) -> None:
    lock_store = redis_store(require_redis())
    async with running_bot(
        endpoints={"lock_store": lock_store}, env={"SANIC_WORKERS": "2"}, state=tmp_path
    ) as bot:
        rasa = bot.pids[1]
        workers = [pid for pid in process_tree(rasa) if pid != rasa]
        assert len(workers) >= 2, "Rasa did not start its Sanic workers"
        await settle(workers, timeout=120)  # /status answers once the first worker is up
        before = {pid: process_cpu_seconds(pid) for pid in workers}
        senders = [f"workers-{uuid.uuid4()}" for _ in range(CONVERSATIONS)]
        async with aiohttp.ClientSession() as session:
            # every message of every conversation at once: the lock store must serialise them
            answers = await asyncio.gather(
                *(say(session, bot, sender, text) for sender in senders for text in MESSAGES)
            )
            trackers = [await events(session, bot, sender) for sender in senders]
        busy = [pid for pid in workers if process_cpu_seconds(pid) - before[pid] > 0.5]

    pairs = [(s, t) for s in senders for t in MESSAGES]
    assert all(answers), [(p, a) for p, a in zip(pairs, answers, strict=True) if not a]
    for tracker in trackers:
        assert sorted(e["text"] for e in tracker if e["event"] == "user") == sorted(MESSAGES)
        assert not turns_interleaved(tracker)
    assert len(busy) >= 2, "only one worker served the messages"
