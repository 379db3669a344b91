"""End to end, outside business hours: the customer is told when a person can reply, keeps
using the bot meanwhile, and the ticket waits for the agents (who pause the bot on claim)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml
from aiohttp import web

from bot.handoff.config import CONFIG_PATH_VARIABLE, load_handoff_config
from bot.handoff.desk import Agent, AgentDesk
from bot.handoff.escalation import format_opening
from bot.handoff.notifier import LogNotifier
from bot.handoff.schedule import WEEKDAYS
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.testing.servers import PROJECT_ROOT, RunningBot, free_port, handoff_settings, running_bot

pytestmark = pytest.mark.e2e

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def said(text: str | None, response: str) -> bool:
    for variant in DOMAIN["responses"][response]:
        parts = re.split(r"\{\w+\}", variant["text"])
        if text and re.fullmatch(".+".join(re.escape(p) for p in parts), text, flags=re.S):
            return True
    return False


class Pings:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.json_response({"ok": True})

    async def wait_for(self, event: str, sender: str, **ticket: Any) -> dict[str, Any]:
        for _ in range(100):
            for ping in self.received:
                if (
                    ping["event"] == event
                    and ping["ticket"]["conversation_id"] == sender
                    and ticket.items() <= ping["ticket"].items()
                ):
                    return ping
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {event} ping for {sender}; got {self.received}")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pings() -> AsyncIterator[Pings]:
    recorder = Pings()
    app = web.Application()
    app.router.add_post("/pings", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    recorder.url = f"http://127.0.0.1:{port}/pings"
    yield recorder
    await runner.cleanup()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("handoff-closed")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(pings: Pings, state: Path) -> AsyncIterator[RunningBot]:
    # open one minute a week, three days from now: closed whenever the test runs
    day = WEEKDAYS[(datetime.now(timezone.utc).weekday() + 3) % 7]
    settings = handoff_settings(state, weekly={day: "12:00-12:01"})
    env = {"BOT_AGENT_WEBHOOK_URL": pings.url, CONFIG_PATH_VARIABLE: str(settings)}
    async with running_bot(env=env, state=state) as running:
        yield running


async def say(bot: RunningBot, sender: str, text: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{bot.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=bot.rest_headers,
        ) as reply,
    ):
        return [str(m.get("text")) for m in await reply.json()]


async def events(bot: RunningBot, sender: str) -> list[dict[str, Any]]:
    return list((await bot.conversations().tracker(bot.rest_conversation(sender)))["events"])


async def test_the_customer_hears_when_a_person_can_reply_and_keeps_using_the_bot(
    bot: RunningBot, pings: Pings
) -> None:
    sender = f"rest-{uuid.uuid4().hex[:10]}"
    (closed,) = await say(bot, sender, "talk to a human")
    assert said(closed, "utter_handoff_closed")
    hours = load_handoff_config(bot.state / "handoff.yml").hours
    opening = hours.next_opening(datetime.now(timezone.utc))
    assert format_opening(opening) in closed  # e.g. "Thursday at 12:00 (GMT)"
    assert opening - datetime.now(timezone.utc) > timedelta(days=1)
    await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender))
    assert not [e for e in await events(bot, sender) if e["event"] == "pause"]

    answers = await say(bot, sender, "how do I reset my router?")
    assert answers, "the bot answers while the team is away"
    relayed = await pings.wait_for(
        "customer_said", RunningBot.rest_conversation(sender)
    )  # and the agents see it later
    assert relayed["text"] == "how do I reset my router?"

    store = SqliteTicketStore(bot.state / "bot.db")
    ticket = await store.find_open(RunningBot.rest_conversation(sender))
    assert ticket is not None and ticket.state.value == "queued"  # it waits for the agents
    desk = AgentDesk(
        store,
        bot.conversations(),
        LogNotifier(),
        domain_texts(str(PROJECT_ROOT / "domain.yml")),
    )
    assert (await desk.claim(ticket.id, Agent("cli:sam", "Sam"))).won
    assert [e for e in await events(bot, sender) if e["event"] == "pause"]  # a person has it
    assert await say(bot, sender, "hi Sam") == []
    await store.close()


async def test_cancelling_while_the_team_is_away_is_answered_once(
    bot: RunningBot, pings: Pings
) -> None:
    sender = f"rest-{uuid.uuid4().hex[:10]}"
    await say(bot, sender, "talk to a human")
    await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender))
    assert await say(bot, sender, "/handoff_cancel") == []  # the action leaves it to the relay
    await pings.wait_for("ticket_changed", RunningBot.rest_conversation(sender), state="abandoned")
    for _ in range(100):
        heard = [e.get("text") for e in await events(bot, sender) if e["event"] == "bot"]
        if any(said(t, "utter_handoff_cancelled") for t in heard):
            break
        await asyncio.sleep(0.1)
    assert sum(said(t, "utter_handoff_cancelled") for t in heard) == 1
    assert not any(said(t, "utter_handoff_nothing_to_cancel") for t in heard)
