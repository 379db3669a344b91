"""End to end: Telegram agents handle handoff tickets in their group (real Rasa + actions,
the fake Bot API, long polling).

A Telegram customer asks for a person; the ping appears in the agents' group with Claim /
Resolve buttons; the customer's next message is posted as a reply to the ping; agents
claim (one wins, the other is told), reply to the ping and resolve; the customer hears it
all in their private chat. Non-members are refused and the group never talks to Rasa.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml

from bot.handoff.priority import PriorityWeights
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import Ticket, TicketState
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import DEFAULT_MODEL, free_port, running_bot
from bot.testing.telegram_net_guard import blocked_in_subprocess, guard_network, subprocess_env
from bot.testing.telegram_plugin import TelegramBot, telegram_credentials
from bot.testing.telegram_spec import BotApiSpec

pytestmark = pytest.mark.e2e

AGENTS = -1009876543210
DANA, ROBIN, OUTSIDER = 7001, 7002, 7003
NAMES = {DANA: "Dana", ROBIN: "Robin", OUTSIDER: "Olly"}
WAIT = 90.0
ASK_FOR_A_PERSON = "I want to talk to a person"
DOMAIN = yaml.safe_load((Path(__file__).parents[1] / "domain.yml").read_text())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def _agents_bot(
    telegram_spec: BotApiSpec, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TelegramBot]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    tmp = tmp_path_factory.mktemp("tg-agents")  # kept by pytest: the servers' logs
    (tmp / "state").mkdir(parents=True, exist_ok=True)
    with guard_network():
        async with FakeTelegram(telegram_spec) as fake:
            port = free_port()
            env = {
                **subprocess_env(tmp),
                # both servers: the action server pings, the Rasa server relays and acts
                "TELEGRAM_AGENT_CHAT_ID": str(AGENTS),
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": fake.base_url,
            }
            credentials = telegram_credentials(fake, "polling", port, None)
            async with running_bot(credentials, env=env, state=tmp / "state", port=port) as server:
                await fake.wait_for(lambda: fake.commands, timeout=120)
                await fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=60)
                for user, status in ((DANA, "member"), (ROBIN, "creator")):
                    fake.set_member(AGENTS, agent_user(user), status)
                fake.set_member(AGENTS, agent_user(OUTSIDER), "left")
                yield TelegramBot(fake, server, None, tmp)


@pytest.fixture
def agents_bot(_agents_bot: TelegramBot) -> Iterator[TelegramBot]:
    """The bot with an agents' group; checked after each test like the plugin's bots."""
    fake = _agents_bot.fake
    before = len(fake.violations)
    with guard_network() as blocked:
        yield _agents_bot
    violations = fake.violations[before:]
    assert not violations, "Bot API spec violations:\n" + "\n".join(violations)
    assert not fake.pending_callbacks, f"unanswered callbacks: {fake.pending_callbacks}"
    assert not blocked, f"real network access attempted: {blocked}"
    from_rasa = blocked_in_subprocess(_agents_bot.folder)
    assert not from_rasa, f"network access from the Rasa processes: {from_rasa}"


# --- helpers -------------------------------------------------------------------------


def agent_user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": NAMES[user_id]}


def params_of(fake: FakeTelegram, method: str) -> list[dict[str, Any]]:
    return [fake.spec.decode_form(method, c.params) for c in fake.calls_of(method)]


async def ticket(bot: TelegramBot, ticket_id: int) -> Ticket:
    store = SqliteTicketStore(bot.server.state / "bot.db", weights=PriorityWeights())
    try:
        found = await store.get(ticket_id)
    finally:
        await store.close()
    assert found is not None
    return found


async def ticket_becomes(bot: TelegramBot, ticket_id: int, state: TicketState) -> Ticket:
    deadline = time.monotonic() + WAIT
    while (found := await ticket(bot, ticket_id)).state is not state:
        assert time.monotonic() < deadline, f"ticket {ticket_id} is {found.state}, not {state}"
        await asyncio.sleep(0.2)
    return found


def pings(fake: FakeTelegram) -> list[dict[str, Any]]:
    """The escalation pings in the agents' group (current state, after edits)."""
    return [m for m in fake.messages_to(AGENTS) if "needs a person" in m["text"]]


def customer_texts(fake: FakeTelegram, customer: int) -> list[str]:
    return [str(m["text"]) for m in fake.messages_to(customer)]


async def customer_hears(fake: FakeTelegram, customer: int, fragment: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((m for m in fake.messages_to(customer) if fragment in m["text"]), None)

    found: dict[str, Any] = await fake.wait_for(find, timeout=WAIT)
    return found


async def escalate(bot: TelegramBot, customer: int) -> tuple[dict[str, Any], int]:
    """A new Telegram customer asks for a person; returns the ping (as stored) and the ticket."""
    fake = bot.fake
    before = len(pings(fake))
    await fake.inject(fake.make.text(ASK_FOR_A_PERSON, user_id=customer))
    await fake.wait_for(lambda: len(pings(fake)) > before, timeout=WAIT)
    ping = pings(fake)[before]
    claim = ping["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    ticket_id = int(claim.rsplit(":", 1)[1])
    await fake.wait_for_messages(customer, timeout=WAIT)  # the queue notice
    deadline = time.monotonic() + WAIT
    while (await ticket(bot, ticket_id)).ping_ref is None:  # kept once the post returned
        assert time.monotonic() < deadline, "the ping reference was never stored"
        await asyncio.sleep(0.1)
    return ping, ticket_id


async def press(bot: TelegramBot, message: dict[str, Any], data: str, user: int) -> str:
    """Presses a button of ``message`` as ``user``; returns the callback query id."""
    update = bot.fake.make.callback(message, data, user_id=user)
    update["callback_query"]["from"]["first_name"] = NAMES.get(user, "Someone")
    await bot.fake.inject(update)
    return str(update["callback_query"]["id"])


async def answer_to(bot: TelegramBot, query_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        answers = params_of(bot.fake, "answerCallbackQuery")
        return next((a for a in answers if a["callback_query_id"] == query_id), None)

    found: dict[str, Any] = await bot.fake.wait_for(find, timeout=WAIT)
    return found


async def agent_replies(bot: TelegramBot, user: int, text: str, to: dict[str, Any]) -> None:
    update = bot.fake.make.text(text, user_id=user, chat_id=AGENTS, reply_to=to)
    update["message"]["from"]["first_name"] = NAMES.get(user, "Someone")
    await bot.fake.inject(update)


async def tracker(bot: TelegramBot, sender_id: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{bot.server.rasa_url}/conversations/{sender_id}/tracker",
            params=bot.server.api_params,
        ) as response,
    ):
        assert response.status == 200
        return dict(await response.json())


# --- tests ---------------------------------------------------------------------------


async def test_escalation_claim_race_reply_and_resolve(agents_bot: TelegramBot) -> None:
    fake, customer = agents_bot.fake, 880001
    ping, ticket_id = await escalate(agents_bot, customer)
    stored = await ticket(agents_bot, ticket_id)
    assert stored.ping_ref == f"telegram:{AGENTS}:{ping['message_id']}"
    assert stored.state is TicketState.QUEUED and stored.conversation_id == f"telegram:{customer}"
    for line in ("Channel: telegram", "Reason: requested", "Sentiment: ", "Waiting since: "):
        assert line in ping["text"], line
    assert ASK_FOR_A_PERSON in ping["text"] and "Last turns" in ping["text"]
    assert [b["callback_data"] for b in ping["reply_markup"]["inline_keyboard"][0]] == [
        f"handoff:claim:{ticket_id}",
        f"handoff:resolve:{ticket_id}",
    ]

    # the customer's next message is posted as a reply to the ping, escaped
    await fake.inject(fake.make.text("my router shows a <b>red</b> light", user_id=customer))

    def relayed() -> dict[str, Any] | None:
        return next(
            (
                p
                for p in params_of(fake, "sendMessage")
                if "my router" in p["text"] and int(p["chat_id"]) == AGENTS
            ),
            None,
        )

    relay: dict[str, Any] = await fake.wait_for(relayed, timeout=WAIT)
    assert relay["reply_parameters"]["message_id"] == ping["message_id"]
    assert "&lt;b&gt;red&lt;/b&gt;" in relay["text"]

    # two members claim at once: one owner, the other told who has it
    dana_press, robin_press = await asyncio.gather(
        press(agents_bot, ping, f"handoff:claim:{ticket_id}", DANA),
        press(agents_bot, ping, f"handoff:claim:{ticket_id}", ROBIN),
    )
    claimed = await ticket_becomes(agents_bot, ticket_id, TicketState.CLAIMED)
    winner, loser_press = (
        ("Dana", robin_press) if claimed.claimed_by == f"telegram:{DANA}" else ("Robin", dana_press)
    )
    assert (await answer_to(agents_bot, loser_press))["text"] == (
        f"Ticket {ticket_id} is already claimed by {winner}."
    )
    await fake.wait_for(
        lambda: f"Claimed by {winner}" in fake.sent[ping["message_id"]]["text"], timeout=WAIT
    )
    edited = fake.sent[ping["message_id"]]
    assert [b["callback_data"] for b in edited["reply_markup"]["inline_keyboard"][0]] == [
        f"handoff:resolve:{ticket_id}"
    ]
    await customer_hears(fake, customer, f"{winner} from our support team has joined")

    # the owner's reply to the ping reaches the customer, marked as from a person
    owner = DANA if winner == "Dana" else ROBIN
    await agent_replies(agents_bot, owner, "Could you restart your Lumen Hub?", ping)
    await customer_hears(fake, customer, f"{winner} from support: Could you restart")
    # ... and so does a reply to the relayed customer message
    relayed_message = next(m for m in fake.messages_to(AGENTS) if "my router" in m["text"])
    await agent_replies(agents_bot, owner, "Is the light still red?", relayed_message)
    await customer_hears(fake, customer, f"{winner} from support: Is the light still red?")

    # Resolve: the ping loses its keyboard, the bot hands back and asks for a rating
    query = await press(agents_bot, edited, f"handoff:resolve:{ticket_id}", owner)
    await answer_to(agents_bot, query)
    await ticket_becomes(agents_bot, ticket_id, TicketState.RESOLVED)
    await fake.wait_for(
        lambda: "Resolved by" in fake.sent[ping["message_id"]]["text"], timeout=WAIT
    )
    assert fake.sent[ping["message_id"]].get("reply_markup") is None
    await customer_hears(fake, customer, "I'm back to help")
    csat = await customer_hears(fake, customer, "How would you rate")
    keys = [b["callback_data"] for row in csat["reply_markup"]["inline_keyboard"] for b in row]
    assert len(keys) == 5


async def test_outsiders_are_refused_and_resolve_as_a_reply(agents_bot: TelegramBot) -> None:
    fake, customer = agents_bot.fake, 880002
    ping, ticket_id = await escalate(agents_bot, customer)
    heard = len(customer_texts(fake, customer))

    refused = await answer_to(
        agents_bot, await press(agents_bot, ping, f"handoff:claim:{ticket_id}", OUTSIDER)
    )
    assert "Only members" in refused["text"] and refused["show_alert"] is True
    await agent_replies(agents_bot, OUTSIDER, "Hi, I'm support!", ping)
    await fake.wait_for(
        lambda: any("Only members" in m["text"] for m in fake.messages_to(AGENTS)), timeout=WAIT
    )
    # the customer pressing a forged handoff button in their private chat changes nothing
    forged = {**ping, "chat": fake.make.chat_of(customer)}
    await answer_to(
        agents_bot, await press(agents_bot, forged, f"handoff:claim:{ticket_id}", customer)
    )
    assert (await ticket(agents_bot, ticket_id)).state is TicketState.QUEUED

    # a member resolves by replying /resolve to the ping (claiming it on the way)
    await agent_replies(agents_bot, DANA, "/resolve", ping)
    resolved = await ticket_becomes(agents_bot, ticket_id, TicketState.RESOLVED)
    assert resolved.claimed_by == f"telegram:{DANA}"
    await customer_hears(fake, customer, "How would you rate")
    said = customer_texts(fake, customer)[heard:]
    assert not any("Hi, I'm support" in t or "resolve" in t for t in said), said
    tracker_events = (await tracker(agents_bot, f"telegram:{customer}"))["events"]
    assert not [
        e for e in tracker_events if e["event"] == "user" and "handoff:" in str(e.get("text"))
    ]


async def test_the_agents_group_never_talks_to_rasa(agents_bot: TelegramBot) -> None:
    fake = agents_bot.fake
    username = fake.bot_user["username"]
    before = len(fake.messages_to(AGENTS))
    await fake.inject(fake.make.text(f"@{username} hello", user_id=DANA, chat_id=AGENTS))
    await fake.inject(fake.make.text("/start", user_id=DANA, chat_id=AGENTS))
    await asyncio.sleep(3)
    assert len(fake.messages_to(AGENTS)) == before
    state = await tracker(agents_bot, f"telegram:{AGENTS}:{DANA}")
    assert not [e for e in state["events"] if e["event"] == "user"]


async def test_a_voice_note_reaches_the_agents_and_cancel_updates_their_ping(
    agents_bot: TelegramBot,
) -> None:
    fake, customer = agents_bot.fake, 880010
    ping, ticket_id = await escalate(agents_bot, customer)
    heard_before = len(customer_texts(fake, customer))

    # during the handoff a voice note goes to the agents (its file id), with no bot reply
    await fake.inject(fake.make.voice(user_id=customer))

    def relayed() -> dict[str, Any] | None:
        return next(
            (
                p
                for p in params_of(fake, "sendMessage")
                if int(p["chat_id"]) == AGENTS and "voice-1" in p["text"]
            ),
            None,
        )

    relay: dict[str, Any] = await fake.wait_for(relayed, timeout=WAIT)
    assert relay["reply_parameters"]["message_id"] == ping["message_id"]
    assert "voice note" in relay["text"] and "/unsupported_content" not in relay["text"]

    # /cancel: the ticket closes, the agents' ping says so, the bot takes over again
    await fake.inject(fake.make.text("/cancel", user_id=customer))
    await ticket_becomes(agents_bot, ticket_id, TicketState.ABANDONED)
    await fake.wait_for(
        lambda: "Cancelled by the customer" in fake.sent[ping["message_id"]]["text"],
        timeout=WAIT,
    )
    assert fake.sent[ping["message_id"]].get("reply_markup") is None  # nothing left to claim
    cancelled = [v["text"] for v in DOMAIN["responses"]["utter_handoff_cancelled"]]
    await fake.wait_for(
        lambda: any(t in cancelled for t in customer_texts(fake, customer)), timeout=WAIT
    )
    unsupported = [v["text"] for v in DOMAIN["responses"]["utter_unsupported_content"]]
    assert not any(t in unsupported for t in customer_texts(fake, customer)[heard_before:])

    # outside a handoff the same voice note gets the polite reply again
    await fake.inject(fake.make.voice(user_id=customer))
    await fake.wait_for(
        lambda: any(t in unsupported for t in customer_texts(fake, customer)), timeout=WAIT
    )


async def test_forget_me_deletes_what_the_agents_group_got_about_the_customer(
    agents_bot: TelegramBot,
) -> None:
    fake, customer = agents_bot.fake, 880011
    ping, ticket_id = await escalate(agents_bot, customer)
    await fake.inject(fake.make.text("my address is 12 Elm Street", user_id=customer))
    relay = await fake.wait_for(
        lambda: next((m for m in fake.messages_to(AGENTS) if "Elm Street" in m["text"]), None),
        timeout=WAIT,
    )
    await fake.inject(fake.make.text("/cancel", user_id=customer))
    await ticket_becomes(agents_bot, ticket_id, TicketState.ABANDONED)
    await customer_hears(fake, customer, "I've")  # the bot is back

    await fake.inject(fake.make.text("/forgetme", user_id=customer))
    confirm_title = DOMAIN["responses"]["utter_ask_forget_me"][0]["buttons"][0]["title"]

    def confirm_button() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for message in fake.messages_to(customer):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == confirm_title:
                        return message, button
        return None

    asked, button = await fake.wait_for(confirm_button, timeout=WAIT)
    await press(agents_bot, asked, button["callback_data"], customer)
    await fake.wait_for(lambda: (AGENTS, ping["message_id"]) in fake.deleted, timeout=WAIT)
    assert (AGENTS, relay["message_id"]) in fake.deleted
    left = [m["text"] for m in fake.messages_to(AGENTS)]
    assert not any("Elm Street" in t or str(customer) in t for t in left), left
