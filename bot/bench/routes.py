"""The ways a customer message reaches the bot in the benchmark, each timed to its answer."""

from __future__ import annotations

import asyncio
import html
import itertools
import time
import zlib
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.bench.load import HandedOver, SendFn
from bot.testing.fake_slack import FakeSlack
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import PROJECT_ROOT, RunningBot

#: The domain's responses that tell a customer a person is taking over.
HANDOVER_RESPONSES = (
    "utter_handoff_queued",
    "utter_handoff_queued_no_estimate",
    "utter_handoff_closed",
)

#: Sends one message and returns the ``time.monotonic()`` arrivals of the answer's first
#: and last message at the platform.
AnswerFn = Callable[[str, str], Awaitable[tuple[float, float]]]


@dataclass(frozen=True)
class Route:
    """A named way in: ``send`` returns once the answer's first message has arrived,
    ``answer`` once all of it has (REST answers in one response: both are its arrival)."""

    name: str
    send: SendFn
    answer: AnswerFn


def handover_notices(domain: Path = PROJECT_ROOT / "domain.yml") -> tuple[str, ...]:
    """How the bot's "a person takes over" messages begin: each handoff response up to its
    first placeholder or full stop (what survives every channel's formatting)."""
    responses = yaml.safe_load(domain.read_text())["responses"]
    return tuple(
        variant["text"].split("{")[0].split(".")[0]
        for name in HANDOVER_RESPONSES
        for variant in responses.get(name, [])
    )


def rest_route(
    name: str,
    session: aiohttp.ClientSession,
    base_url: str,
    notices: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
) -> Route:
    """A REST channel (Rasa's stock one, or ours with its token in ``headers``): the answer
    is in the HTTP response."""
    handed: set[str] = set()

    async def send(conversation: str, text: str) -> None:
        if conversation in handed:
            raise HandedOver(conversation)
        async with session.post(
            f"{base_url}/webhooks/rest/webhook",
            json={"sender": conversation, "message": text},
            headers=dict(headers or {}),
        ) as reply:
            reply.raise_for_status()
            messages = await reply.json()
        if not messages:
            raise RuntimeError("no answer")
        if notices and any(str(m.get("text", "")).startswith(notices) for m in messages):
            handed.add(conversation)

    async def answer(conversation: str, text: str) -> tuple[float, float]:
        await send(conversation, text)
        arrived = time.monotonic()
        return arrived, arrived

    return Route(name, send, answer)


class AnswerWatch:
    """Resolves a waiter when the fake platform receives a message for its conversation,
    with the time the call arrived (``at``, taken before the fake's spec checks).

    One poller reads only the calls that arrived since its last pass, so watching costs
    the same for 1 or 50 conversations.
    """

    def __init__(
        self,
        calls: list[Any],
        key_of: Callable[[Any], Hashable | None],
        notices: tuple[str, ...] = (),
    ) -> None:
        self._calls, self._key_of, self._notices = calls, key_of, notices
        self._handed: set[Hashable] = set()  # keys whose conversation went to a person
        self._seen = len(calls)
        self._waiters: dict[Hashable, asyncio.Future[float]] = {}
        self._latest: dict[Hashable, float] = {}  # key -> arrival of its latest message
        self._task: asyncio.Task[None] | None = None

    async def wait(self, key: Hashable, timeout: float = 30.0) -> float:
        if self._task is None:
            self._task = asyncio.create_task(self._poll())
        future = self._waiters.get(key)
        if future is None:  # (a done one: the answer came before this call, e.g. during
            # the platform's HTTP round trip, and is this turn's)
            future = asyncio.get_running_loop().create_future()
            self._waiters[key] = future
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.pop(key, None)

    async def last(self, key: Hashable, first: float, quiet: float = 0.3) -> float:
        """The arrival of the turn's last message: the latest one for ``key`` once ``quiet``
        seconds pass without another (``first``: the arrival of the turn's first)."""
        last = first
        while True:
            await asyncio.sleep(quiet)
            latest = self._latest.get(key, last)
            if latest <= last:
                return last
            last = latest

    def check(self, key: Hashable) -> None:
        """Raises :class:`HandedOver` if the bot handed ``key``'s conversation to a person."""
        if key in self._handed:
            raise HandedOver(str(key))

    def expect(self, key: Hashable) -> None:
        """Registers interest before the message is sent (so a fast answer is not missed)."""
        self._waiters.setdefault(key, asyncio.get_running_loop().create_future())

    async def _poll(self) -> None:
        while True:
            for call in self._calls[self._seen :]:
                key = self._key_of(call)
                if key is None:
                    continue
                self._latest[key] = max(call.at, self._latest.get(key, call.at))
                text = html.unescape(str(call.params.get("text", "")))  # Telegram's is HTML
                if self._notices and text.startswith(self._notices):
                    self._handed.add(key)
                waiter = self._waiters.get(key)
                if waiter is not None and not waiter.done():
                    waiter.set_result(call.at)
            self._seen = len(self._calls)
            await asyncio.sleep(0.002)


def _number(conversation: str, space: int = 10**8) -> int:
    return zlib.crc32(conversation.encode()) % space + 1


def slack_route(fake: FakeSlack, bot: RunningBot, notices: tuple[str, ...] = ()) -> Route:
    """Signed Events API requests to the bot's webhook; answered by chat.postMessage."""
    url = f"{bot.rasa_url}/webhooks/slack/events"
    watch = AnswerWatch(
        fake.calls,
        lambda c: c.params.get("channel") if c.method == "chat.postMessage" else None,
        notices,
    )

    async def send(conversation: str, text: str) -> float:
        channel = f"D{_number(conversation):09d}"
        watch.check(channel)
        user = f"U{_number(conversation + 'u'):09d}"
        event = fake.workspace.wrap(fake.workspace.message(text, channel=channel, user=user))
        watch.expect(channel)
        status, _ = await fake.post_event(url, event)
        if status != 200:
            raise RuntimeError(f"Slack route answered {status}")
        return await watch.wait(channel)

    async def answer(conversation: str, text: str) -> tuple[float, float]:
        first = await send(conversation, text)
        return first, await watch.last(f"D{_number(conversation):09d}", first)

    return Route("slack_http", send, answer)


def telegram_route(fake: FakeTelegram, notices: tuple[str, ...] = ()) -> Route:
    """Updates posted to the bot's webhook with the secret token; answered by sendMessage."""
    counter = itertools.count(1)
    watch = AnswerWatch(
        fake.calls, lambda c: _chat(c.params) if c.method == "sendMessage" else None, notices
    )

    async def send(conversation: str, text: str) -> float:
        chat_id = _number(conversation)
        watch.check(chat_id)
        update = fake.make.text(text, user_id=chat_id)
        update["update_id"] = 10**9 + next(counter)
        watch.expect(chat_id)
        status = await fake.inject(update)
        if status != 200:
            raise RuntimeError(f"Telegram webhook answered {status}")
        return await watch.wait(chat_id)

    async def answer(conversation: str, text: str) -> tuple[float, float]:
        first = await send(conversation, text)
        return first, await watch.last(_number(conversation), first)

    return Route("telegram_webhook", send, answer)


def _chat(params: dict[str, Any]) -> int | None:
    try:
        return int(params.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
