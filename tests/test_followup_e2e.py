"""End to end on the fake Slack and the fake Telegram, with the trained model and real Rasa
and action servers (one start for the module, one restart at the end): the CSAT buttons and
the comment, scheduled check-ins (also across a restart of the servers), and empathy and
queue priority for sarcastic and angry customers."""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import sqlite3
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import pytest_asyncio
import yaml

from bot.analytics.outcomes import KpiSettings
from bot.analytics.reporting import build_report
from bot.analytics.sql_source import SqlEventSource
from bot.followup.store import Checkin, CheckinState
from bot.handoff.priority import PriorityWeights
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import Ticket
from bot.runtime.supervisor import python_tool
from bot.testing.fake_slack import FakeSlack
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import DEFAULT_MODEL, PROJECT_ROOT, RunningBot, free_port, running_bot
from bot.testing.slack_bot import slack_credentials, text_of, visible
from bot.testing.slack_spec import specs_available
from bot.testing.telegram_net_guard import blocked_in_subprocess, guard_network, subprocess_env
from bot.testing.telegram_plugin import telegram_credentials
from bot.testing.telegram_spec import BotApiSpec

pytestmark = pytest.mark.e2e

DELAY = 12  # seconds from an outage answer to its check-in (BOT_CHECKIN_DELAY_SECONDS)
WAIT = 60.0
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
HANDOFF = ("utter_handoff_queued", "utter_handoff_queued_no_estimate", "utter_handoff_closed")
EMPATHY = ("utter_empathy_negative", "utter_empathy_frustrated")
SOLVED, NOT_SOLVED = "Yes, that solved it", "No, I still need help"


# -- the bot and the two platforms -----------------------------------------------------------------


@dataclass
class Platforms:
    """The fake Slack and Telegram and the bot between them, which can be restarted."""

    slack: FakeSlack
    telegram: FakeTelegram
    folder: Path
    bot: RunningBot | None = None
    _stack: contextlib.AsyncExitStack | None = None

    @property
    def state(self) -> Path:
        return self.folder / "state"

    @property
    def rasa(self) -> RunningBot:
        assert self.bot is not None, "the bot is stopped"
        return self.bot

    def env(self) -> dict[str, str]:
        return {
            **subprocess_env(self.folder),  # the servers may reach loopback only
            "BOT_CHECKIN_DELAY_SECONDS": str(DELAY),
            "SLACK_BOT_TOKEN": "",
            "SLACK_APP_TOKEN": "",
            "SLACK_SIGNING_SECRET": "",
            "SLACK_AGENT_CHANNEL": "",
        }

    async def start(self) -> None:
        credentials = {
            **slack_credentials(self.slack, "http"),
            **telegram_credentials(self.telegram, "polling", free_port(), None),
        }
        polls = len(self.telegram.calls_of("getUpdates"))
        self._stack = contextlib.AsyncExitStack()
        self.bot = await self._stack.enter_async_context(
            running_bot(credentials, env=self.env(), state=self.state)
        )
        await self.telegram.wait_for(
            lambda: len(self.telegram.calls_of("getUpdates")) > polls, timeout=WAIT
        )

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self.bot, self._stack = None, None

    async def events(self, sender_id: str) -> list[dict[str, Any]]:
        return list((await self.rasa.conversations().tracker(sender_id))["events"])

    async def ticket(self, sender_id: str) -> Ticket:
        store = SqliteTicketStore(self.state / "bot.db", weights=PriorityWeights())
        ticket = await store.find_open(sender_id)
        await store.close()
        assert ticket is not None, f"no open ticket for {sender_id}"
        return ticket

    def checkins(self, sender_id: str) -> list[Checkin]:
        with contextlib.closing(sqlite3.connect(self.state / "bot.db")) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT * FROM followup_checkins WHERE conversation_id = ?", (sender_id,)
            )
            return [Checkin.from_row(dict(r)) for r in rows]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def platforms(
    telegram_spec: BotApiSpec, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platforms]:
    if not specs_available():
        pytest.skip("../shared/specs/slack is absent: the fake Slack validates against it")
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    slack = FakeSlack()
    await slack.start()
    with guard_network() as blocked:
        async with FakeTelegram(telegram_spec) as telegram:
            both = Platforms(slack, telegram, tmp_path_factory.mktemp("followup"))
            await both.start()
            yield both
            await both.stop()
    await slack.close()
    assert not blocked, f"real network access attempted: {blocked}"


@pytest.fixture
def checked(platforms: Platforms) -> Iterator[Platforms]:
    """The platforms; after the test, no spec violation and no network access."""
    yield platforms
    assert not platforms.slack.violations, platforms.slack.violations
    assert not platforms.telegram.violations, platforms.telegram.violations
    assert not platforms.telegram.pending_callbacks, platforms.telegram.pending_callbacks
    assert not blocked_in_subprocess(platforms.folder)


# -- customers, as they see the conversation -------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One bot message as the customer sees it: its text and its button titles."""

    text: str
    buttons: tuple[str, ...]
    handle: Any


class Customer(Protocol):
    sender_id: str

    def seen(self) -> list[Seen]: ...

    async def say(self, text: str) -> None: ...

    async def press(self, message: Seen, title: str) -> None: ...


class SlackCustomer:
    def __init__(self, platforms: Platforms) -> None:
        self.platforms = platforms
        self.channel = platforms.slack.workspace.new_dm_channel()
        self.sender_id = f"slack:{self.channel}"

    def _url(self) -> str:
        return f"{self.platforms.rasa.rasa_url}/webhooks/slack/events"

    def seen(self) -> list[Seen]:
        calls = self.platforms.slack.calls_of("chat.postMessage", channel=self.channel)
        return [Seen(_slack_plain(text_of(c)), _slack_buttons(c.params), c) for c in calls]

    async def say(self, text: str) -> None:
        w = self.platforms.slack.workspace
        event = w.wrap(w.message(text, channel=self.channel))
        status, _ = await self.platforms.slack.post_event(self._url(), event)
        assert status == 200

    async def press(self, message: Seen, title: str) -> None:
        slack = self.platforms.slack
        for row in message.handle.params.get("blocks", []):
            for element in row.get("elements", []) if row["type"] == "actions" else []:
                if element["text"]["text"] == title:
                    click = slack.workspace.block_actions(
                        slack.posted(message.handle), {**element, "block_id": row["block_id"]}
                    )
                    status, _, _ = await slack.post_interaction(self._url(), click)
                    assert status == 200
                    return
        raise AssertionError(f"no button {title!r} in {message}")


def _slack_plain(mrkdwn: str) -> str:
    text = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", visible(mrkdwn))
    return html.unescape(re.sub(r"<(https?://[^>]+)>", r"\1", text))


def _slack_buttons(params: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        e["text"]["text"]
        for b in params.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    )


class TelegramCustomer:
    def __init__(self, platforms: Platforms) -> None:
        self.platforms = platforms
        self.chat_id = 500_000 + uuid.uuid4().int % 400_000
        self.sender_id = f"telegram:{self.chat_id}"
        self._first_seen: dict[int, dict[str, Any]] = {}  # as sent, before any button press

    def seen(self) -> list[Seen]:
        out = []
        for message in self.platforms.telegram.messages_to(self.chat_id):
            original = self._first_seen.setdefault(message["message_id"], dict(message))
            keyboard = (original.get("reply_markup") or {}).get("inline_keyboard") or []
            titles = tuple(b["text"] for row in keyboard for b in row)
            out.append(Seen(str(original.get("text") or ""), titles, original))
        return out

    async def say(self, text: str) -> None:
        fake = self.platforms.telegram
        await fake.inject(fake.make.text(text, user_id=self.chat_id))

    async def press(self, message: Seen, title: str) -> None:
        fake = self.platforms.telegram
        keyboard = message.handle["reply_markup"]["inline_keyboard"]
        [button] = [b for row in keyboard for b in row if b["text"] == title]
        await fake.inject(
            fake.make.callback(message.handle, button["callback_data"], user_id=self.chat_id)
        )


CUSTOMERS: dict[str, Callable[[Platforms], Customer]] = {
    "slack": SlackCustomer,
    "telegram": TelegramCustomer,
}


# -- what the customer reads -----------------------------------------------------------------------


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def _pattern(variant: str) -> re.Pattern[str]:
    plain = re.sub(r"\*\*|\[([^\]]+)\]\([^)]+\)", r"\1", variant)
    parts = [_words(p) for p in re.split(r"\{\w+\}", plain)]
    return re.compile(r"\b.+?\b".join(re.escape(p) for p in parts if p) or "^$")


def said(message: Seen, *responses: str) -> bool:
    """Whether ``message`` is one of these domain responses (placeholders filled in)."""
    text = _words(message.text)
    return any(
        _pattern(v["text"]).match(text)
        for r in responses
        for v in DOMAIN["responses"][r]
        if v.get("text")
    )


def is_answer(message: Seen) -> bool:
    """A FAQ answer: it ends with the "Did that solve it?" buttons."""
    return message.buttons == (SOLVED, NOT_SOLVED)


async def reply(
    customer: Customer, since: int, *responses: str, timeout: float = WAIT
) -> tuple[Seen, int]:
    """The first message from ``since`` on that is one of ``responses`` (or a FAQ answer,
    for ``"answer"``), and the index after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, message in enumerate(customer.seen()[since:], start=since):
            if ("answer" in responses and is_answer(message)) or said(
                message, *(r for r in responses if r != "answer")
            ):
                return message, index + 1
        await asyncio.sleep(0.1)
    texts = [m.text[:70] for m in customer.seen()[since:]]
    raise AssertionError(f"{customer.sender_id}: none of {responses} arrived; got {texts}")


async def started(customer: Customer) -> int:
    """Says hello and waits for the bot's first message; returns how many it sent."""
    await customer.say("hi")
    deadline = time.monotonic() + WAIT
    while not customer.seen():
        assert time.monotonic() < deadline, f"{customer.sender_id}: no answer to hello"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    return len(customer.seen())


def slots(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "slot" and e["name"] == name]


# -- CSAT and its comment --------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["slack", "telegram"])
async def test_the_rating_buttons_and_the_comment_are_recorded(
    checked: Platforms, platform: str
) -> None:
    customer = CUSTOMERS[platform](checked)
    n = await started(customer)
    await customer.say("how do I reset my password")
    answer, n = await reply(customer, n, "answer")
    await customer.press(answer, SOLVED)
    rating, n = await reply(customer, n, "utter_ask_csat")
    assert rating.buttons == ("1", "2", "3", "4", "5")
    await customer.press(rating, "4")
    invite, n = await reply(customer, n, "utter_ask_csat_comment")
    assert invite.buttons == ("No thanks",)
    await customer.say("The reset steps were easy to follow")
    await reply(customer, n, "utter_csat_comment_thanks")

    events = await checked.events(customer.sender_id)
    [score] = slots(events, "csat_score")
    assert score["value"] == 4 and score["metadata"]["resolved_by"] == "bot"
    [comment] = [e for e in slots(events, "csat_comment") if e["value"]]
    assert comment["value"] == "The reset steps were easy to follow"
    assert comment["metadata"]["csat_score"] == 4
    assert [e["value"] for e in slots(events, "resolution")] == ["confirmed"]

    # the report (`bot report`) reads it back from the tracker store
    source = SqlEventSource(f"sqlite:///{checked.state / 'tracker.db'}")
    result = (await build_report(source, settings=KpiSettings())).result
    shown = dict(result["csat_comments"]["latest"])
    [mine] = [c for key, c in shown.items() if key.startswith(f"{customer.sender_id}@")]
    assert mine["text"] == "The reset steps were easy to follow" and mine["score"] == 4
    assert mine["channel"] == platform


@pytest.mark.parametrize(("platform", "how"), [("slack", "button"), ("telegram", "typed")])
async def test_a_customer_with_nothing_to_add_is_not_asked_again(
    checked: Platforms, platform: str, how: str
) -> None:
    customer = CUSTOMERS[platform](checked)
    n = await started(customer)
    await customer.say("how can I pay my bill")
    answer, n = await reply(customer, n, "answer")
    await customer.press(answer, SOLVED)
    rating, n = await reply(customer, n, "utter_ask_csat")
    await customer.press(rating, "5")
    invite, n = await reply(customer, n, "utter_ask_csat_comment")
    if how == "button":
        await customer.press(invite, "No thanks")
    else:
        await customer.say("no thanks")
    await reply(customer, n, "utter_csat_no_comment")
    await customer.press(rating, "2")  # an old button: the rating stands
    await reply(customer, n, "utter_csat_already")
    events = await checked.events(customer.sender_id)
    assert [e["value"] for e in slots(events, "csat_score")] == [5]
    assert not any(e["value"] for e in slots(events, "csat_comment"))


# -- scheduled check-ins ---------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["slack", "telegram"])
async def test_the_scheduled_check_in_arrives_on_the_customers_channel(
    checked: Platforms, platform: str
) -> None:
    customer = CUSTOMERS[platform](checked)
    n = await started(customer)
    await customer.say("is there an outage in my area")
    _, n = await reply(customer, n, "answer")
    answered = time.monotonic()
    checkin, n = await reply(customer, n, "utter_checkin_outages", timeout=DELAY + WAIT)
    assert time.monotonic() - answered >= DELAY - 2
    assert checkin.buttons == ("Yes, all working", "No, still not working")
    await customer.press(checkin, "No, still not working")
    sorry, n = await reply(customer, n, "utter_sorry_not_solved")
    await customer.press(sorry, "I'll explain more")
    await reply(customer, n, "utter_rephrase")

    events = await checked.events(customer.sender_id)
    [reminder] = [e for e in events if e["event"] == "reminder"]
    assert reminder["intent"] == "followup_checkin"
    assert [e["value"] for e in slots(events, "resolution")] == ["not_resolved"]
    [stored] = checked.checkins(customer.sender_id)
    assert stored.state is CheckinState.DELIVERED and stored.topic == "outages"


async def test_a_confirmed_resolution_cancels_the_check_in(checked: Platforms) -> None:
    customer = TelegramCustomer(checked)
    n = await started(customer)
    await customer.say("is there an outage in my area")
    answer, n = await reply(customer, n, "answer")
    await customer.press(answer, SOLVED)
    await reply(customer, n, "utter_ask_csat")
    await asyncio.sleep(DELAY + 3)
    assert not any(said(m, "utter_checkin_outages") for m in customer.seen())
    [stored] = checked.checkins(customer.sender_id)
    assert stored.state is CheckinState.CANCELLED


# -- empathy and queue priority --------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["slack", "telegram"])
async def test_sarcastic_and_angry_customers_get_empathy_and_go_first(
    checked: Platforms, platform: str
) -> None:
    neutral, sarcastic, angry = (CUSTOMERS[platform](checked) for _ in range(3))

    n = await started(neutral)
    await neutral.say("how do I pay my bill")
    _, n = await reply(neutral, n, "answer")
    await neutral.say("talk to a human")
    await reply(neutral, n, *HANDOFF)

    n = await started(sarcastic)
    await sarcastic.say("Great, my internet died again. Thanks a lot.")
    _, n = await reply(sarcastic, n, *EMPATHY)  # the acknowledgement first, never "welcome"
    _, n = await reply(sarcastic, n, "answer")  # then the help for the problem it names
    assert not any(said(m, "utter_you_are_welcome") for m in sarcastic.seen())
    await sarcastic.say("talk to a human")
    await reply(sarcastic, n, *HANDOFF)

    n = await started(angry)
    await angry.say("MY INTERNET IS DOWN AGAIN, THIS IS BLOODY USELESS")
    _, n = await reply(angry, n, *EMPATHY)
    _, n = await reply(angry, n, "answer")
    await angry.say("WHY IS MY DAMN INTERNET STILL NOT WORKING")
    await reply(angry, n, *HANDOFF)  # frustrated twice running: a person, unasked

    calm, ironic, furious = [await checked.ticket(c.sender_id) for c in (neutral, sarcastic, angry)]
    assert furious.reason.value == "negative_sentiment"
    assert ironic.priority > calm.priority
    assert furious.priority > calm.priority


# -- restarts --------------------------------------------------------------------------------------


async def test_check_ins_survive_a_restart_of_the_servers(checked: Platforms) -> None:
    """Four customers get outage answers, then the servers stop before any check-in is due.
    Two check-ins are moved later (as a 24-hour one would be), two become overdue while the
    servers are down. After the restart `bot worker` re-arms the first two in Rasa, which
    delivers them on time, and triggers the overdue two at once."""
    later: list[Customer] = [SlackCustomer(checked), TelegramCustomer(checked)]
    overdue: list[Customer] = [SlackCustomer(checked), TelegramCustomer(checked)]
    everyone = [*later, *overdue]
    counts = await asyncio.gather(*(started(c) for c in everyone))
    await asyncio.gather(*(c.say("is there an outage in my area") for c in everyone))
    marks = await asyncio.gather(
        *(reply(c, n, "answer") for c, n in zip(everyone, counts, strict=True))
    )
    counts = [n for _, n in marks]
    rasa = checked.rasa.conversations()
    assert await rasa.is_up()  # what `bot worker` looks at every two seconds
    await checked.stop()
    assert not await rasa.is_up()
    for customer in everyone:
        assert not any(said(m, "utter_checkin_outages") for m in customer.seen())

    due_later = time.time() + 40
    with sqlite3.connect(checked.state / "bot.db") as db:
        db.executemany(
            "UPDATE followup_checkins SET due_at = ?, next_attempt_at = ?"
            " WHERE conversation_id = ? AND state = 'pending'",
            [(due_later, due_later, c.sender_id) for c in later],
        )
    await checked.start()
    worker = {
        **checked.env(),
        "BOT_SQLITE_PATH": str(checked.state / "bot.db"),
        "BOT_RASA_URL": checked.rasa.rasa_url,
        "BOT_RASA_TOKEN": checked.rasa.rasa_token,
        "BOT_CHECKIN_GRACE_SECONDS": "0",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [python_tool("bot"), "worker", "--once"],
        env={**os.environ, **worker},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]

    for customer, n in zip(overdue, counts[2:], strict=True):
        await reply(customer, n, "utter_checkin_outages")
    assert time.time() < due_later, "the overdue check-ins came from the worker, at once"
    for customer, n in zip(later, counts[:2], strict=True):
        await reply(customer, n, "utter_checkin_outages", timeout=WAIT + 40)
    assert time.time() >= due_later - 1, "Rasa kept the re-armed check-ins until their time"
    for customer in everyone:
        [stored] = checked.checkins(customer.sender_id)
        assert stored.state is CheckinState.DELIVERED
        said_once = [m for m in customer.seen() if said(m, "utter_checkin_outages")]
        assert len(said_once) == 1
