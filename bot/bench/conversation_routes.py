"""Talking to the bot as a customer in the conversation benchmark: REST, Slack and Telegram.

Each channel sends a customer's message or presses a button by its title, the way that
platform does (REST: the button's payload as the message; Slack: a ``block_actions``
click; Telegram: a callback query). What the bot did is then read from Rasa's tracker
(:func:`tracker_events`), the same for every channel, so verdicts are comparable; Slack and
Telegram also check that the answer reached the (fake) platform.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import aiohttp

from bot.bench.conversation_grading import Observed
from bot.bench.routes import HANDOVER_RESPONSES
from bot.testing.fake_slack import FakeSlack
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import RunningBot

#: How long a turn may take until the tracker shows the bot listening again.
TURN_TIMEOUT = 45.0
#: How long after the tracker's turn ends the answer may take to reach the platform.
DELIVERY_TIMEOUT = 10.0
POLL_SECONDS = 0.05
FAILURE_RESPONSES = ("utter_bot_failure",)
#: The clarification menu ("Did you mean one of these?" with entry buttons).
MENU_RESPONSES = ("utter_clarify",)
T = TypeVar("T")


def _number(conversation: str, space: int = 10**8) -> int:
    """A stable platform id (Slack DM, Telegram chat) for a conversation name."""
    return zlib.crc32(conversation.encode()) % space + 1


async def tracker_events(
    session: aiohttp.ClientSession, bot: RunningBot, sender_id: str
) -> list[dict[str, Any]]:
    """The conversation's events from Rasa's HTTP API, with its token (the only place the
    runner reads Rasa's state)."""
    url = f"{bot.rasa_url}/conversations/{quote(sender_id, safe='')}/tracker"
    async with session.get(url, params=bot.api_params) as response:
        response.raise_for_status()
        tracker: dict[str, Any] = await response.json()
    return list(tracker.get("events") or [])


def turn_events(events: Sequence[dict[str, Any]], turn: int) -> list[dict[str, Any]] | None:
    """The events of the ``turn``-th customer message (1-based): from its ``user`` event to
    the ``action_listen`` (or the ``pause`` of a handoff) that ends the bot's answer; None while
    the bot is still answering."""
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < turn:
        return None
    start = users[turn - 1]
    end = users[turn] if len(users) > turn else len(events)
    window = list(events[start:end])
    return window if any(_ends_turn(e) for e in window[1:]) else None


def _ends_turn(event: dict[str, Any]) -> bool:
    """The bot listens again, or paused the conversation for a person (a handoff)."""
    kind = event.get("event")
    return kind == "pause" or (kind == "action" and event.get("name") == "action_listen")


def observe(window: Sequence[dict[str, Any]], notices: tuple[str, ...] = ()) -> Observed:
    """What the bot did in one turn's events."""
    user = window[0]
    parse_data = user.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get("name")
    stored = tuple(str(t) for t in (user.get("text"), parse_data.get("text")) if t)
    entries: list[str] = []
    texts: list[str] = []
    buttons: list[str] = []
    handoff = failed = menu = False
    for event in window[1:]:
        if event.get("event") != "bot":
            continue
        action = str((event.get("metadata") or {}).get("utter_action") or "")
        text = str(event.get("text") or "")
        if action.startswith("utter_faq/"):
            entries.append(action.removeprefix("utter_faq/"))
        if action in HANDOVER_RESPONSES or (notices and text.startswith(notices)):
            handoff = True
        failed = failed or action in FAILURE_RESPONSES
        menu = menu or action in MENU_RESPONSES
        if text:
            texts.append(text)
        buttons += [str(b.get("title")) for b in (event.get("data") or {}).get("buttons") or []]
    return Observed(
        intent=intent,
        entries=tuple(entries),
        texts=tuple(texts),
        buttons=tuple(buttons),
        handoff=handoff,
        menu=menu,
        stored=stored,
        error="the bot failed on this message (bot_failure)" if failed else None,
    )


def button_payload(window: Sequence[dict[str, Any]] | None, title: str) -> str | None:
    """The payload of the button titled ``title`` in a turn's bot messages."""
    for event in reversed(window or []):
        for button in (event.get("data") or {}).get("buttons") or []:
            if event.get("event") == "bot" and button.get("title") == title:
                return str(button.get("payload"))
    return None


class Channel(Protocol):
    """A way a customer reaches the bot."""

    name: str
    platform: bool  # answers go to a (fake) platform, where their arrival can be checked

    def sender_id(self, conversation: str) -> str:
        """The tracker's id of the conversation."""

    def mark(self, conversation: str) -> int:
        """How many messages the platform has received for the conversation so far."""

    async def say(self, conversation: str, text: str) -> None: ...

    async def click(self, conversation: str, title: str, payload: str) -> None:
        """Presses the button ``title`` (whose Rasa payload is ``payload``)."""


class RestChannel:
    name = "rest"
    platform = False  # the answer is the HTTP response itself

    def __init__(self, session: aiohttp.ClientSession, bot: RunningBot) -> None:
        self._session, self._bot = session, bot

    def sender_id(self, conversation: str) -> str:
        return self._bot.rest_conversation(conversation)

    def mark(self, conversation: str) -> int:
        return 0

    async def say(self, conversation: str, text: str) -> None:
        body = {"sender": conversation, "message": text}
        async with self._session.post(
            f"{self._bot.rasa_url}/webhooks/rest/webhook",
            json=body,
            headers=self._bot.rest_headers,
        ) as reply:
            reply.raise_for_status()
            await reply.read()

    async def click(self, conversation: str, title: str, payload: str) -> None:
        # what a REST client sends for a button: its payload as the bot sent it (sealed to
        # this conversation; the runner reads payloads from the tracker, where they are not)
        await self.say(conversation, self._bot.sealed(conversation, payload))


class SlackChannel:
    """Signed Events API messages in a DM; buttons clicked as ``block_actions``."""

    name = "slack"
    platform = True

    def __init__(self, fake: FakeSlack, rasa_url: str) -> None:
        self._fake, self._url = fake, f"{rasa_url}/webhooks/slack/events"

    @staticmethod
    def _ids(conversation: str) -> tuple[str, str]:
        return f"D{_number(conversation):09d}", f"U{_number(conversation + 'u'):09d}"

    def sender_id(self, conversation: str) -> str:
        return f"slack:{self._ids(conversation)[0]}"

    def mark(self, conversation: str) -> int:
        channel = self._ids(conversation)[0]
        return len(self._fake.calls_of("chat.postMessage", channel=channel))

    async def say(self, conversation: str, text: str) -> None:
        channel, user = self._ids(conversation)
        w = self._fake.workspace
        status, _ = await self._fake.post_event(
            self._url, w.wrap(w.message(text, channel=channel, user=user))
        )
        if status != 200:
            raise RuntimeError(f"Slack events answered {status}")

    async def click(self, conversation: str, title: str, payload: str) -> None:
        channel, user = self._ids(conversation)
        found = await _eventually(lambda: self._button(channel, title))
        if found is None:
            raise LookupError(f"no Slack button titled {title!r}")
        posted, element = found
        click = self._fake.workspace.block_actions(posted, element, user=user)
        status, _, _ = await self._fake.post_interaction(self._url, click)
        if status != 200:
            raise RuntimeError(f"Slack interaction answered {status}")

    def _button(self, channel: str, title: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The latest message with a button titled ``title``, and that button."""
        for call in reversed(self._fake.calls_of("chat.postMessage", channel=channel)):
            posted = self._fake.posted(call)
            for row in posted.get("blocks") or []:
                for element in row.get("elements") or [] if row.get("type") == "actions" else []:
                    if (element.get("text") or {}).get("text") == title:
                        return posted, {**element, "block_id": row["block_id"]}
        return None


class TelegramChannel:
    """Updates posted to the webhook; buttons pressed as callback queries."""

    name = "telegram"
    platform = True

    def __init__(self, fake: FakeTelegram) -> None:
        self._fake = fake
        self._update_ids = itertools.count(2 * 10**9)  # clear of the fake's own numbering

    def sender_id(self, conversation: str) -> str:
        return f"telegram:{_number(conversation)}"

    def mark(self, conversation: str) -> int:
        return len(self._fake.messages_to(_number(conversation)))

    async def say(self, conversation: str, text: str) -> None:
        await self._inject(self._fake.make.text(text, user_id=_number(conversation)))

    async def click(self, conversation: str, title: str, payload: str) -> None:
        chat = _number(conversation)
        found = await _eventually(lambda: self._button(chat, title))
        if found is None:
            raise LookupError(f"no Telegram button titled {title!r}")
        message, data = found
        await self._inject(self._fake.make.callback(message, data, user_id=chat))

    def _button(self, chat: int, title: str) -> tuple[dict[str, Any], str] | None:
        """The latest message with a button titled ``title``, and its callback data."""
        for message in reversed(self._fake.messages_to(chat)):
            keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            for button in itertools.chain.from_iterable(keyboard):
                if button.get("text") == title:
                    return message, str(button["callback_data"])
        return None

    async def _inject(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        status = await self._fake.inject(update)
        if status != 200:
            raise RuntimeError(f"Telegram webhook answered {status}")


async def finished_turn(
    session: aiohttp.ClientSession, bot: RunningBot, sender_id: str, turn: int
) -> list[dict[str, Any]]:
    """Waits until the bot has answered the ``turn``-th message; returns the turn's events."""
    deadline = time.monotonic() + TURN_TIMEOUT
    while True:
        try:
            window = turn_events(await tracker_events(session, bot, sender_id), turn)
        except aiohttp.ClientResponseError as error:
            if error.status != 404:
                raise
            window = None
        if window is not None:
            return window
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer within {TURN_TIMEOUT:.0f}s")
        await asyncio.sleep(POLL_SECONDS)


async def delivered(channel: Channel, conversation: str, before: int) -> bool:
    """Whether the platform received a message for the conversation since ``before``."""
    if not channel.platform:
        return True
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while channel.mark(conversation) <= before:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


async def _eventually(find: Callable[[], T | None]) -> T | None:
    """``find()``'s first non-None result within :data:`DELIVERY_TIMEOUT` (the message with
    the button may still be on its way to the platform)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        found = find()
        if found is not None or time.monotonic() > deadline:
            return found
        await asyncio.sleep(POLL_SECONDS)
