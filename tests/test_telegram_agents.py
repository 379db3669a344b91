"""Telegram agents without Rasa: the ping's rendering and escaping, callback data, the
membership cache, and the notifier and agents' adapter against the fake Bot API (fast)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import pytest_asyncio
from telegram import Bot, Update

from bot.delivery.retry import DeliveryFailed
from bot.delivery.store import SqliteDeliveryStore
from bot.handoff.desk import Agent, NotTicketOwner
from bot.handoff.priority import PriorityWeights
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import (
    ClaimResult,
    EscalationReason,
    NewTicket,
    Ticket,
    TicketState,
    Turn,
)
from bot.testing.telegram_html import visible_text
from channels.telegram.agent_desk import TelegramAgents, agent_reply
from channels.telegram.agent_render import (
    PingRef,
    agent_html,
    callback_data,
    customer_said_html,
    duration_words,
    is_handoff_callback,
    parse_callback,
    parse_ping_ref,
    ping_html,
    ping_keyboard,
    reminder_html,
    sentiment_words,
    ticket_id_of,
)
from channels.telegram.agents import TelegramAgentNotifier, notifier_from_env
from channels.telegram.settings import SettingsError, TelegramSettings

if TYPE_CHECKING:
    from bot.handoff.service import HandoffServices
    from bot.testing.fake_telegram import FakeTelegram

AGENTS = -1009876543210
OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
DANA, ROBIN, OUTSIDER = 7001, 7002, 7003


def a_ticket(**changes: Any) -> Ticket:
    ticket = Ticket(
        id=7,
        conversation_id="telegram:4242",
        channel="telegram",
        reason=EscalationReason.REQUESTED,
        customer_name="<b>Eve</b> & co",
        topic="billing",
        summary='Requested. First asked: "why is my bill <a href="x">so high</a>?"',
        last_turns=(
            Turn("customer", "why is my bill so high? <i>now</i>", OPENED),
            Turn("bot", "Here is how billing works ...", OPENED),
        ),
        sentiment=-0.45,
        urgency=0.2,
        tier="standard",
        state=TicketState.QUEUED,
        priority=10.0,
        created_at=OPENED,
        ping_ref=f"telegram:{AGENTS}:1000",
    )
    return replace(ticket, **changes)


def params_of(fake: FakeTelegram, method: str) -> list[dict[str, Any]]:
    """The decoded parameters of every ``method`` call the fake received."""
    return [fake.spec.decode_form(method, c.params) for c in fake.calls_of(method)]


def buttons(ticket: Ticket) -> list[tuple[str, str]]:
    keyboard = ping_keyboard(ticket)
    if keyboard is None:
        return []
    return [(b.text, str(b.callback_data)) for row in keyboard.inline_keyboard for b in row]


# --- rendering ----------------------------------------------------------------------


def test_the_ping_shows_the_ticket_and_escapes_what_customers_wrote() -> None:
    html = ping_html(a_ticket(), OPENED + timedelta(minutes=4))
    visible = visible_text(html)  # the fake's HTML parser: raises on what Telegram refuses
    assert "<b>Eve</b>" not in html and "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in html
    assert '<a href="x">' not in html and "<i>now</i>" not in html
    for line in (
        "Ticket 7: <b>Eve</b> & co needs a person",
        "Customer: <b>Eve</b> & co",
        "Channel: telegram",
        "Topic: billing",
        "Sentiment: negative (-0.45)",
        "Waiting since: 2026-03-02 10:00 UTC",
        "Reason: requested",
        "why is my bill so high? <i>now</i>",
        "Customer: why is my bill",
        "Bot: Here is how billing works",
        "Waiting for an agent (4 min)",
    ):
        assert line in visible, line
    assert buttons(a_ticket()) == [
        ("🙋 Claim", "handoff:claim:7"),
        ("✅ Resolve", "handoff:resolve:7"),
    ]


def test_the_ping_follows_the_ticket_state() -> None:
    claimed = a_ticket(
        state=TicketState.CLAIMED,
        claimed_by=f"telegram:{DANA}",
        claimed_at=OPENED + timedelta(minutes=3),
    )
    html = ping_html(claimed, OPENED + timedelta(minutes=5), {f"telegram:{DANA}": "Dana <3"})
    assert f'Claimed by <a href="tg://user?id={DANA}">Dana &lt;3</a>' in html
    assert "after waiting 3 min" in visible_text(html)
    assert buttons(claimed) == [("✅ Resolve", "handoff:resolve:7")]
    resolved = replace(
        claimed, state=TicketState.RESOLVED, resolved_at=OPENED + timedelta(hours=2, minutes=5)
    )
    assert "Resolved by" in ping_html(resolved) and "2 h 5 min after opening" in ping_html(resolved)
    assert buttons(resolved) == []
    assert "Expired: no agent took it" in ping_html(a_ticket(state=TicketState.EXPIRED))
    assert agent_html("cli:sam") == "sam" and agent_html(None) == "nobody"
    assert agent_html("slack:U1<b>") == "U1&lt;b&gt;"


def test_a_long_ping_stays_within_the_message_limit() -> None:
    turns = tuple(Turn("customer", "x" * 2000 + str(i), OPENED) for i in range(30))
    html = ping_html(a_ticket(last_turns=turns, summary="y" * 5000))
    visible = visible_text(html)
    assert len(visible) <= 4096 and "…" in visible
    assert "x29" not in visible  # each turn is shortened


def test_relayed_messages_and_reminders_name_their_ticket() -> None:
    said = customer_said_html(a_ticket(), "Ticket 99 <b>please</b> & thanks")
    assert visible_text(said).startswith("💬 Ticket 7 · <b>Eve</b> & co:\n")
    assert "&lt;b&gt;please&lt;/b&gt; &amp; thanks" in said
    assert ticket_id_of(visible_text(said)) == 7  # the customer cannot spoof the header
    reminder = reminder_html(a_ticket(), OPENED + timedelta(minutes=12))
    assert ticket_id_of(visible_text(reminder)) == 7 and "12 min" in reminder
    assert ticket_id_of("🎫 Ticket 12: Eve needs a person") == 12
    assert ticket_id_of("Hello Ticket 12") is None and ticket_id_of(None) is None
    assert len(visible_text(customer_said_html(a_ticket(), "z" * 9000))) < 4096


def test_words_for_numbers() -> None:
    assert sentiment_words(-0.8) == "very negative (-0.80)"
    assert sentiment_words(0.0) == "neutral (+0.00)"
    assert sentiment_words(0.7) == "very positive (+0.70)"
    assert duration_words(timedelta(seconds=30)) == "just now"
    assert duration_words(timedelta(hours=2)) == "2 h"
    assert duration_words(timedelta(days=3, hours=1, minutes=5)) == "3 d 1 h"


def test_ping_references_and_callback_data() -> None:
    assert str(PingRef(AGENTS, 1000)) == f"telegram:{AGENTS}:1000"
    assert parse_ping_ref(f"telegram:{AGENTS}:1000") == PingRef(AGENTS, 1000)
    for other in ("slack:C1:1700.1", "telegram:x:1", "telegram:1", None, ""):
        assert parse_ping_ref(other) is None, other
    biggest = callback_data("resolve", 10**18 - 1)
    assert len(biggest.encode()) <= 64 and parse_callback(biggest) == ("resolve", 10**18 - 1)
    assert parse_callback("handoff:claim:12") == ("claim", 12)
    for bad in ("handoff:delete:1", "handoff:claim:", "handoff:claim:-1", "k:abc", "/greet", None):
        assert parse_callback(bad) is None, bad
    assert is_handoff_callback("handoff:claim:1") and not is_handoff_callback("/greet")


def test_settings_and_notifier_from_env() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_AGENT_CHAT_ID": str(AGENTS)}
    assert TelegramSettings.load({}, env).agent_chat_id == AGENTS
    assert TelegramSettings.load({}, {"TELEGRAM_BOT_TOKEN": "1:abc"}).agent_chat_id is None
    with pytest.raises(SettingsError, match="numeric id"):
        TelegramSettings.load({}, {**env, "TELEGRAM_AGENT_CHAT_ID": "@agents"})
    notifier = notifier_from_env({**env, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"})
    assert notifier.chat_id == AGENTS
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        notifier_from_env({"TELEGRAM_AGENT_CHAT_ID": "-1"})
    with pytest.raises(ValueError, match="numeric"):
        notifier_from_env({**env, "TELEGRAM_AGENT_CHAT_ID": "agents"})


# --- the notifier against the fake Bot API ------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    await client.initialize()
    yield client
    await client.shutdown()


async def test_the_notifier_pings_edits_and_replies(
    fake_telegram: FakeTelegram, bot: Bot, tmp_path: Path
) -> None:
    delivery = SqliteDeliveryStore(tmp_path / "d.db")
    notifier = TelegramAgentNotifier(
        bot, AGENTS, store_factory=lambda: delivery, clock=lambda: OPENED
    )
    fake_telegram.set_member(AGENTS, {"id": DANA, "is_bot": False, "first_name": "Dana"})
    ref = await notifier.ticket_opened(a_ticket(ping_ref=None))
    [ping] = fake_telegram.messages_to(AGENTS)
    assert ref == f"telegram:{AGENTS}:{ping['message_id']}"
    assert ping["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "handoff:claim:7"
    ticket = a_ticket(ping_ref=ref)

    await notifier.customer_said(ticket, "still <b>broken</b>")
    await notifier.remind(ticket)
    said, reminded = params_of(fake_telegram, "sendMessage")[1:]
    for params in (said, reminded):
        assert params["reply_parameters"]["message_id"] == ping["message_id"]
    assert "&lt;b&gt;broken&lt;/b&gt;" in said["text"]

    claimed = replace(ticket, state=TicketState.CLAIMED, claimed_by=f"telegram:{DANA}")
    await notifier.ticket_changed(claimed)
    assert "Claimed by Dana" in fake_telegram.sent[ping["message_id"]]["text"]
    assert len(fake_telegram.sent[ping["message_id"]]["reply_markup"]["inline_keyboard"][0]) == 1
    await notifier.ticket_changed(replace(claimed, state=TicketState.RESOLVED))
    assert "Resolved by Dana" in fake_telegram.sent[ping["message_id"]]["text"]
    assert fake_telegram.sent[ping["message_id"]].get("reply_markup") is None
    assert len(fake_telegram.calls_of("getChatMember")) == 1  # the name is remembered

    await notifier.ticket_changed(a_ticket(ping_ref="slack:C1:1700.1"))  # not ours: nothing
    assert len(fake_telegram.calls_of("editMessageText")) == 2
    fake_telegram.fail_next("sendMessage", status=400)
    with pytest.raises(DeliveryFailed):
        await notifier.remind(ticket)
    assert (await delivery.failures())[0]["conversation_id"] == "telegram:4242"
    await delivery.close()


# --- the agents' adapter --------------------------------------------------------------


@dataclass
class RecordingDesk:
    """The desk's interface over a real store; records what agents asked for."""

    store: SqliteTicketStore
    done: list[tuple[str, int, Agent, str]] = field(default_factory=list)

    async def claim(self, ticket_id: int, agent: Agent) -> ClaimResult:
        self.done.append(("claim", ticket_id, agent, ""))
        return await self.store.claim(ticket_id, agent.id)

    async def resolve(self, ticket_id: int, agent: Agent) -> Ticket:
        self.done.append(("resolve", ticket_id, agent, ""))
        return await self.store.resolve(ticket_id, agent.id)

    async def reply(self, ticket_id: int, agent: Agent, text: str) -> Ticket:
        ticket = await self.store.get(ticket_id)
        if ticket is None or ticket.claimed_by != agent.id:
            raise NotTicketOwner(f"Ticket {ticket_id} is not yours; claim it first.")
        self.done.append(("reply", ticket_id, agent, text))
        return ticket


@dataclass
class Services:
    store: SqliteTicketStore
    desk: RecordingDesk


@dataclass
class Adapter:
    agents: TelegramAgents
    services: Services
    ticket_id: int
    ping: dict[str, Any]
    fake: FakeTelegram
    bot: Bot

    async def deliver(self, update: dict[str, Any]) -> None:
        await self.fake.inject(update)  # validated; a press must then be answered
        await self.agents.on_update(Update.de_json(update, self.bot))

    def press(self, user: int, data: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        update = self.fake.make.callback(message or self.ping, data, user_id=user)
        update["callback_query"]["from"]["first_name"] = NAMES.get(user, "Someone")
        return update

    def reply(self, user: int, text: str, to: dict[str, Any] | None = None) -> dict[str, Any]:
        update = self.fake.make.text(text, user_id=user, chat_id=AGENTS, reply_to=to or self.ping)
        update["message"]["from"]["first_name"] = NAMES.get(user, "Someone")
        return update

    def answers(self) -> list[dict[str, Any]]:
        return params_of(self.fake, "answerCallbackQuery")


NAMES = {DANA: "Dana", ROBIN: "Robin", OUTSIDER: "Olly"}


@pytest_asyncio.fixture(loop_scope="session")
async def adapter(fake_telegram: FakeTelegram, bot: Bot, tmp_path: Path) -> AsyncIterator[Adapter]:
    store = SqliteTicketStore(tmp_path / "bot.db", weights=PriorityWeights())
    opened = await store.open(
        NewTicket("telegram:4242", "telegram", EscalationReason.REQUESTED, customer_name="Casey")
    )
    delivery = SqliteDeliveryStore(tmp_path / "d.db")
    notifier = TelegramAgentNotifier(bot, AGENTS, store_factory=lambda: delivery)
    ref = await notifier.ticket_opened(opened.ticket)
    assert ref is not None
    await store.set_ping_ref(opened.ticket.id, ref)
    for user, status in ((DANA, "member"), (ROBIN, "administrator"), (OUTSIDER, "left")):
        fake_telegram.set_member(
            AGENTS, {"id": user, "is_bot": False, "first_name": NAMES[user]}, status
        )
    services = Services(store, RecordingDesk(store))
    agents = TelegramAgents(
        bot, AGENTS, delivery, services=lambda: cast("HandoffServices", services)
    )
    [ping] = fake_telegram.messages_to(AGENTS)
    yield Adapter(agents, services, opened.ticket.id, ping, fake_telegram, bot)
    await store.close()
    await delivery.close()


async def test_members_claim_once_and_the_loser_is_told(adapter: Adapter) -> None:
    claim = f"handoff:claim:{adapter.ticket_id}"
    await asyncio.gather(
        adapter.deliver(adapter.press(DANA, claim)), adapter.deliver(adapter.press(ROBIN, claim))
    )
    claims = [d for d in adapter.services.desk.done if d[0] == "claim"]
    assert {d[2] for d in claims} == {
        Agent(f"telegram:{DANA}", "Dana"),
        Agent(f"telegram:{ROBIN}", "Robin"),
    }
    ticket = await adapter.services.store.get(adapter.ticket_id)
    assert ticket is not None and ticket.state is TicketState.CLAIMED
    answers = adapter.answers()
    assert len(answers) == 2  # every press answered, once
    [lost] = [a for a in answers if "already claimed by" in a.get("text", "")]
    winner = "Dana" if ticket.claimed_by == f"telegram:{DANA}" else "Robin"
    assert lost["text"] == f"Ticket {adapter.ticket_id} is already claimed by {winner}."
    assert lost["show_alert"] is True


async def test_replies_to_the_ping_or_a_relayed_message_reach_the_desk(adapter: Adapter) -> None:
    await adapter.deliver(adapter.press(DANA, f"handoff:claim:{adapter.ticket_id}"))
    await adapter.deliver(adapter.reply(DANA, "Please restart the hub"))
    # a relayed customer message, posted by the bot as a reply to the ping
    relayed = await adapter.bot.send_message(
        AGENTS, f"💬 Ticket {adapter.ticket_id} · Casey:\nstill broken"
    )
    relayed_dict = adapter.fake.sent[relayed.message_id]
    await adapter.deliver(adapter.reply(DANA, "And then?", to=relayed_dict))
    await adapter.deliver(adapter.reply(ROBIN, "Me too"))  # not the owner: told in the group
    await adapter.deliver(adapter.reply(DANA, "/resolve@lumen_support_test_bot"))
    done = [(d[0], d[2].name, d[3]) for d in adapter.services.desk.done]
    assert done == [
        ("claim", "Dana", ""),
        ("reply", "Dana", "Please restart the hub"),
        ("reply", "Dana", "And then?"),
        ("resolve", "Dana", ""),
    ]
    told = params_of(adapter.fake, "sendMessage")[-1]
    assert "claim it first" in told["text"] and int(told["chat_id"]) == AGENTS


async def test_outsiders_and_wrong_messages_change_nothing(adapter: Adapter) -> None:
    await adapter.deliver(adapter.press(OUTSIDER, f"handoff:claim:{adapter.ticket_id}"))
    [refused] = adapter.answers()
    assert "Only members" in refused["text"] and refused["show_alert"] is True
    await adapter.deliver(adapter.reply(OUTSIDER, "I can help"))
    assert "Only members" in params_of(adapter.fake, "sendMessage")[-1]["text"]
    # a button on another of the bot's messages, and unknown data: answered, nothing done
    other = await adapter.bot.send_message(AGENTS, "Ticket 1 copy")
    copy = adapter.fake.sent[other.message_id]
    await adapter.deliver(adapter.press(DANA, f"handoff:resolve:{adapter.ticket_id}", copy))
    await adapter.deliver(adapter.press(DANA, "handoff:delete:1"))
    # agents chatting (no reply) and replies to people are not for the desk
    await adapter.deliver(adapter.fake.make.text("lunch?", user_id=DANA, chat_id=AGENTS))
    person = adapter.fake.make.text("hi", user_id=ROBIN, chat_id=AGENTS)["message"]
    await adapter.deliver(adapter.reply(DANA, "hi Robin", to=person))
    assert adapter.services.desk.done == []
    assert len(adapter.answers()) == 3
    assert "does not belong" in adapter.answers()[1]["text"]
    ticket = await adapter.services.store.get(adapter.ticket_id)
    assert ticket is not None and ticket.state is TicketState.QUEUED


async def test_the_membership_cache(adapter: Adapter) -> None:
    now = [100.0]
    agents = TelegramAgents(
        adapter.bot,
        AGENTS,
        cast(Any, None),
        services=lambda: cast("HandoffServices", adapter.services),
        members_ttl=30,
        clock=lambda: now[0],
    )
    assert await agents.is_member(DANA) and await agents.is_member(ROBIN)
    assert not await agents.is_member(OUTSIDER)
    assert await agents.is_member(DANA)
    assert len(adapter.fake.calls_of("getChatMember")) == 3  # cached
    adapter.fake.set_member(AGENTS, {"id": DANA, "is_bot": False, "first_name": "Dana"}, "left")
    assert await agents.is_member(DANA)  # still trusted ...
    now[0] += 31
    assert not await agents.is_member(DANA)  # ... until the cache expires
    adapter.fake.set_member(AGENTS, {"id": 7009, "is_bot": False, "first_name": "K"}, "kicked")
    assert not await agents.is_member(7009)


def test_agents_group_messages_that_are_not_replies_to_the_bot_are_ignored(
    fake_telegram: FakeTelegram,
) -> None:
    make = fake_telegram.make
    bot_id = int(fake_telegram.token.split(":")[0])
    ping = {
        "message_id": 5,
        "from": fake_telegram.bot_user,
        "date": 1,
        "chat": make.chat_of(AGENTS),
    }
    reply = Update.de_json(make.text("ok", user_id=DANA, chat_id=AGENTS, reply_to=ping), None)
    assert reply.message is not None
    decision = agent_reply(reply.message, AGENTS, bot_id)
    assert not isinstance(decision, str) and decision.replied_to == 5
    plain = Update.de_json(make.text("ok", user_id=DANA, chat_id=AGENTS), None)
    assert plain.message is not None and isinstance(agent_reply(plain.message, AGENTS, bot_id), str)
    elsewhere = Update.de_json(make.text("ok", user_id=DANA, chat_id=-1001, reply_to=ping), None)
    assert elsewhere.message is not None
    assert isinstance(agent_reply(elsewhere.message, AGENTS, bot_id), str)
