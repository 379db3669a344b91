"""End to end: escalation, the queue, agents' replies, hand-back and CSAT, with real servers.

The agents' side is the webhook notifier (an HTTP server here that records every ping) and
the agent desk (what Slack buttons, Telegram replies and `bot agent` call).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml
from aiohttp import web

from bot.faq.knowledge_base import load_knowledge_base
from bot.handoff.config import load_handoff_config
from bot.handoff.desk import Agent, AgentDesk, NotTicketOwner
from bot.handoff.exits import HandoffExits
from bot.handoff.notifier import LogNotifier
from bot.handoff.priority import PriorityWeights
from bot.handoff.service import HandoffServices
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import TicketState
from bot.handoff.watcher import WaitWatcher
from bot.handoff.webhook_notifier import WebhookNotifier
from bot.testing.servers import PROJECT_ROOT, RunningBot, free_port, running_bot

pytestmark = pytest.mark.e2e

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
SAM, ALEX = Agent("cli:sam", "Sam"), Agent("cli:alex", "Alex")
HANDOFF = ("utter_handoff_queued", "utter_handoff_queued_no_estimate", "utter_handoff_closed")


def said(text: str | None, *responses: str) -> bool:
    """Whether ``text`` is one of these domain responses with placeholders filled in."""
    for response in responses:
        for variant in DOMAIN["responses"][response]:
            parts = re.split(r"\{\w+\}", variant["text"])
            if text and re.fullmatch(".+".join(re.escape(p) for p in parts), text, flags=re.S):
                return True
    return False


class AgentPings:
    """A stand-in agents' tool: records the webhook notifier's JSON posts."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.json_response({"ok": True})

    async def wait_for(
        self, event: str, conversation_id: str, timeout: float = 10.0
    ) -> dict[str, Any]:
        for _ in range(int(timeout * 10)):
            for ping in self.received:
                if ping["event"] == event and ping["ticket"]["conversation_id"] == conversation_id:
                    return ping
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {event} ping for {conversation_id}; got {self.received}")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pings() -> AsyncIterator[AgentPings]:
    recorder = AgentPings()
    app = web.Application()
    app.router.add_post("/pings", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    recorder.url = f"http://127.0.0.1:{port}/pings"  # type: ignore[attr-defined]
    yield recorder
    await runner.cleanup()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("handoff-state")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(pings: AgentPings, state: Path) -> AsyncIterator[RunningBot]:
    env = {"BOT_AGENT_WEBHOOK_URL": pings.url}  # type: ignore[attr-defined]
    async with running_bot(env=env, state=state) as running:
        yield running


def desk_for(bot: RunningBot) -> tuple[AgentDesk, SqliteTicketStore]:
    store = SqliteTicketStore(bot.state / "bot.db", weights=PriorityWeights())
    return AgentDesk(
        store,
        bot.conversations(),
        LogNotifier(),
        domain_texts(str(PROJECT_ROOT / "domain.yml")),
    ), store


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


async def events(bot: RunningBot, sender: str) -> list[dict[str, Any]]:
    return list((await bot.conversations().tracker(bot.rest_conversation(sender)))["events"])


def customer() -> str:
    return f"rest-{uuid.uuid4().hex[:10]}"


async def escalated(
    bot: RunningBot, pings: AgentPings, text: str = "I want to talk to a real person"
) -> tuple[str, int]:
    sender = customer()
    answers = [m.get("text") for m in await say(bot, sender, text)]
    assert any(said(a, *HANDOFF) for a in answers), answers
    ping = await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender))
    return sender, int(ping["ticket"]["id"])


async def test_asking_for_a_person_opens_a_ticket_pauses_the_bot_and_pings_agents(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    log = await events(bot, sender)
    assert {"event": "pause"}.items() <= next(e for e in log if e["event"] == "pause").items()
    state_events = [e for e in log if e["event"] == "slot" and e["name"] == "handoff_state"]
    assert state_events[-1]["value"] == "queued"
    ping = await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender))
    assert ping["ticket"]["reason"] == "requested"
    assert "I want to talk to a real person" in ping["ticket"]["summary"]
    assert ping["ticket"]["id"] == ticket_id


async def test_while_waiting_the_customers_words_reach_the_agents_not_the_bot(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, _ = await escalated(bot, pings)
    assert await say(bot, sender, "my router shows a red light") == []
    ping = await pings.wait_for("customer_said", RunningBot.rest_conversation(sender))
    assert ping["text"] == "my router shows a red light"


async def test_two_agents_claiming_at_once_give_one_owner(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    desk, store = desk_for(bot)
    first, second = await asyncio.gather(desk.claim(ticket_id, SAM), desk.claim(ticket_id, ALEX))
    assert [first.won, second.won].count(True) == 1
    loser = second if first.won else first
    assert "already claimed by" in loser.message
    joined = [
        e
        for e in await events(bot, sender)
        if e["event"] == "bot" and "has joined" in (e.get("text") or "")
    ]
    assert len(joined) == 1
    await store.close()


async def test_agent_and_customer_talk_then_the_bot_takes_over_and_asks_for_a_rating(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    desk, store = desk_for(bot)
    assert (await desk.claim(ticket_id, SAM)).won
    with pytest.raises(NotTicketOwner):
        await desk.reply(ticket_id, ALEX, "I'll take it from here")
    await desk.reply(ticket_id, SAM, "Hi! Could you restart your Lumen Hub?")
    agent_message = [
        e for e in await events(bot, sender) if (e.get("metadata") or {}).get("source") == "agent"
    ]
    assert agent_message[-1]["text"] == "Sam from support: Hi! Could you restart your Lumen Hub?"
    assert agent_message[-1]["metadata"]["agent"] == {"id": "cli:sam", "name": "Sam"}

    resolved = await desk.resolve(ticket_id, SAM)
    assert resolved.state is TicketState.RESOLVED
    log = await events(bot, sender)
    assert any(e["event"] == "resume" for e in log)
    bot_texts = [e.get("text") for e in log if e["event"] == "bot"]
    assert any(said(t, "utter_handback") for t in bot_texts)
    assert any(said(t, "utter_ask_csat") for t in bot_texts)

    rating = bot.sealed(sender, '/csat{"csat_score": 5}')  # the 5-star button it was sent
    answers = [m.get("text") for m in await say(bot, sender, rating)]
    assert any(said(a, "utter_csat_thanks") for a in answers)
    rating = [
        e for e in await events(bot, sender) if e["event"] == "slot" and e["name"] == "csat_score"
    ]
    assert rating[-1]["value"] == 5
    await store.close()


async def test_persistent_low_confidence_ends_with_a_person(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender = customer()
    replies = [
        [m.get("text") for m in await say(bot, sender, text)]
        for text in ("qwzx vbnm plok", "zzzt frrp", "xkcd qqq jjj")
    ]
    # words unrelated to every FAQ entry hear what the bot can help with, never a menu
    # of unrelated entries (bot/faq/offtopic.py); the ladder to a person is the same
    assert any(
        said(a, "utter_clarify", "utter_offer_human", "utter_out_of_scope") for a in replies[0]
    )
    assert any(said(a, *HANDOFF) for a in replies[2]), replies
    ping = await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender))
    assert ping["ticket"]["reason"] == "low_confidence"


async def test_a_human_only_topic_goes_straight_to_a_person(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender = customer()
    answers = [m.get("text") for m in await say(bot, sender, "I want to cancel my contract")]
    assert any(said(a, *HANDOFF) for a in answers), answers
    assert (await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender)))["ticket"][
        "reason"
    ] == "human_only_topic"


async def test_an_angry_customer_threatening_action_gets_a_person(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender = customer()
    answers = [
        m.get("text")
        for m in await say(bot, sender, "my internet is down again, I'm contacting the ombudsman")
    ]
    assert any(said(a, *HANDOFF) for a in answers), answers
    assert (await pings.wait_for("ticket_opened", RunningBot.rest_conversation(sender)))["ticket"][
        "reason"
    ] == "negative_sentiment"


# -- ways out of a handoff (docs/handoff.md, "No dead ends") ----------------------------------


async def bot_texts(bot: RunningBot, sender: str) -> list[str]:
    return [str(e.get("text")) for e in await events(bot, sender) if e["event"] == "bot"]


async def ticket_state(pings: AgentPings, sender: str, state: str) -> dict[str, Any]:
    """The ``ticket_changed`` ping that shows the ticket in ``state``."""
    for _ in range(100):
        for ping in pings.received:
            ticket = ping["ticket"]
            if (
                ping["event"] == "ticket_changed"
                and ticket["conversation_id"] == RunningBot.rest_conversation(sender)
                and ticket["state"] == state
            ):
                return ping
        await asyncio.sleep(0.1)
    raise AssertionError(f"agents never saw {sender}'s ticket {state}; got {pings.received}")


async def handed_back(bot: RunningBot, sender: str, response: str) -> list[dict[str, Any]]:
    """Waits until the relay resumed the conversation with ``response``; returns the log."""
    for _ in range(100):
        log = await events(bot, sender)
        if any(e["event"] == "bot" and said(e.get("text"), response) for e in log):
            return log
        await asyncio.sleep(0.1)
    raise AssertionError(f"{sender} never heard {response}")


@pytest.mark.parametrize("words", ["never mind", "I don't need help anymore", "/handoff_cancel"])
async def test_a_waiting_customer_can_cancel_and_the_bot_takes_over_again(
    bot: RunningBot, pings: AgentPings, words: str
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    assert await say(bot, sender, words) == []  # paused: the answer comes from the relay
    ping = await ticket_state(pings, sender, "abandoned")
    assert ping["ticket"]["id"] == ticket_id
    log = await handed_back(bot, sender, "utter_handoff_cancelled")
    assert [e for e in log if e["event"] == "resume"]
    assert [e["value"] for e in log if e.get("name") == "handoff_state"][-1] == "cancelled"
    _, store = desk_for(bot)
    trail = await store.history(ticket_id)
    assert (trail[-1].event, trail[-1].actor, trail[-1].detail) == (
        "abandoned",
        "customer",
        "cancelled by customer",
    )
    await store.close()
    answers = [m.get("text") for m in await say(bot, sender, "hello")]
    assert any(said(a, "utter_greet") for a in answers), answers  # the bot answers again


async def test_the_waiting_message_has_a_cancel_button(bot: RunningBot) -> None:
    replies = await say(bot, customer(), "talk to a human")
    buttons = [b["payload"] for m in replies for b in m.get("buttons") or []]
    assert any(b.startswith("/handoff_cancel~") for b in buttons)  # sealed to the customer


async def test_never_mind_without_a_request_is_just_acknowledged(bot: RunningBot) -> None:
    sender = customer()
    answers = [m.get("text") for m in await say(bot, sender, "/handoff_cancel")]
    assert any(said(a, "utter_handoff_nothing_to_cancel") for a in answers), answers


async def test_restart_during_a_handoff_closes_the_ticket_and_does_not_escalate_again(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    await say(bot, sender, "are you still there?")
    await say(bot, sender, "/restart")
    await ticket_state(pings, sender, "abandoned")
    answers = [m.get("text") for m in await say(bot, sender, "hello")]
    assert any(said(a, "utter_greet") for a in answers), answers
    opened = [p for p in pings.received if p["event"] == "ticket_opened"]
    conversation = RunningBot.rest_conversation(sender)
    assert [
        p["ticket"]["id"] for p in opened if p["ticket"]["conversation_id"] == conversation
    ] == [ticket_id]


async def test_leaving_a_message_becomes_a_callback_request_agents_see(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    await say(bot, sender, bot.sealed(sender, "/handoff_leave_message"))  # its button
    ping = await pings.wait_for("callback_requested", RunningBot.rest_conversation(sender))
    assert ping["ticket"]["id"] == ticket_id
    await handed_back_said(bot, sender, "utter_handoff_leave_message")
    await say(bot, sender, "please call me back about my bill")
    relayed = await pings.wait_for("customer_said", RunningBot.rest_conversation(sender))
    assert relayed["text"] == "please call me back about my bill"


async def handed_back_said(bot: RunningBot, sender: str, response: str) -> None:
    for _ in range(100):
        if any(said(t, response) for t in await bot_texts(bot, sender)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{sender} never heard {response}")


async def test_outside_a_handoff_a_photo_still_gets_the_polite_reply(bot: RunningBot) -> None:
    sender = customer()  # REST carries no files: the marker a channel sends for a photo
    answers = [
        m.get("text") for m in await say(bot, sender, bot.sealed(sender, "/unsupported_content"))
    ]
    assert any(said(a, "utter_unsupported_content") for a in answers), answers


async def test_an_unclaimed_ticket_expires_honestly_and_a_message_can_be_left(
    bot: RunningBot, pings: AgentPings
) -> None:
    sender, ticket_id = await escalated(bot, pings)
    _, store = desk_for(bot)
    config = load_handoff_config(bot.state / "handoff.yml")
    conversations = bot.conversations()
    texts = domain_texts(str(PROJECT_ROOT / "domain.yml"))
    notifier = WebhookNotifier(pings.url)  # type: ignore[attr-defined]
    watcher = WaitWatcher(
        HandoffServices(
            config,
            store,
            notifier,
            AgentDesk(store, conversations, notifier, texts),
            load_knowledge_base([PROJECT_ROOT / "data"]),
            HandoffExits(store, conversations, notifier, texts),
        )
    )
    ticket = await store.get(ticket_id)
    assert ticket is not None
    await watcher.tick(ticket.created_at + config.expire_after + timedelta(seconds=1))
    assert (await store.get(ticket_id)).state is TicketState.EXPIRED  # type: ignore[union-attr]
    await ticket_state(pings, sender, "expired")
    log = await handed_back(bot, sender, "utter_handoff_expired")
    assert [e for e in log if e["event"] == "resume"]
    answers = [m.get("text") for m in await say(bot, sender, "hello")]
    assert any(said(a, "utter_greet") for a in answers), answers  # not paused any more

    leave = bot.sealed(sender, "/handoff_leave_message")  # the button on the expiry message
    answers = [m.get("text") for m in await say(bot, sender, leave)]
    assert any(said(a, "utter_handoff_leave_message") for a in answers), answers
    reopened = await store.find_open(RunningBot.rest_conversation(sender))
    assert reopened is not None and reopened.id != ticket_id
    assert [e.event for e in await store.history(reopened.id)][-1] == "callback_requested"
    assert (await pings.wait_for("callback_requested", RunningBot.rest_conversation(sender)))[
        "ticket"
    ]["id"] == reopened.id
    await store.close()
