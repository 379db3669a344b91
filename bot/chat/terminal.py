"""A terminal chat with the bot over the REST channel; buttons are numbered choices.

It sends with the REST channel's bearer token and follows the conversation (``rest:<sender>``,
:mod:`channels.rest.ids`) through Rasa's API with Rasa's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote

import aiohttp

from bot.inbound.seal import PayloadSeal
from bot.responses.markdown import parse, plain_text
from channels.rest.ids import conversation_id

ReadLine = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class ChatEndpoint:
    """Where the bot answers and the tokens it asks for."""

    base_url: str
    rasa_token: str
    rest_token: str
    #: Seals the buttons of messages read from the tracker (an agent's hand-back and its
    #: rating buttons), as the REST channel seals those of its answers; "" leaves them as sent.
    payload_secret: str = ""

    def __repr__(self) -> str:
        return f"ChatEndpoint({self.base_url!r})"


async def stdin_reader() -> ReadLine:
    """An async line reader on stdin (cancellable, unlike ``input()`` in a thread)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def read_line() -> str | None:
        line = await reader.readline()
        return line.decode("utf-8", "replace") if line else None

    return read_line


def render(message: dict[str, Any], out: TextIO) -> list[dict[str, Any]]:
    """Prints one bot message; returns its buttons so a number can choose one."""
    if text := message.get("text"):
        out.write(f"Bot: {plain_text(parse(str(text)))}\n")
    if image := message.get("image"):
        out.write(f"Bot: [image] {image}\n")
    buttons: list[dict[str, Any]] = list(message.get("buttons") or [])
    for number, button in enumerate(buttons, start=1):
        out.write(f"  {number}) {button.get('title')}\n")
    return buttons


def choose(text: str, buttons: list[dict[str, Any]]) -> str:
    """Turns a typed button number into that button's payload."""
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return str(buttons[int(text) - 1]["payload"])
    return text


class _Conversation:
    """The chat's view of the conversation: which bot messages were already shown."""

    def __init__(
        self, session: aiohttp.ClientSession, endpoint: ChatEndpoint, sender: str, out: TextIO
    ) -> None:
        self.session, self.endpoint, self.sender, self.out = session, endpoint, sender, out
        self.lock = asyncio.Lock()
        self.shown = 0
        self.buttons: list[dict[str, Any]] = []

    async def bot_events(self) -> list[dict[str, Any]]:
        conversation = quote(conversation_id(self.sender), safe="")
        url = f"{self.endpoint.base_url}/conversations/{conversation}/tracker"
        async with self.session.get(url, params={"token": self.endpoint.rasa_token}) as reply:
            reply.raise_for_status()
            tracker = await reply.json()
        return [e for e in tracker.get("events") or [] if e.get("event") == "bot"]

    def sealed(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message read from the tracker, its button payloads sealed for this chat."""
        if not self.endpoint.payload_secret or not message.get("buttons"):
            return message
        seal = PayloadSeal(self.endpoint.payload_secret)
        where = conversation_id(self.sender)
        buttons = [
            {**b, "payload": seal.seal(where, str(b["payload"]))} if b.get("payload") else b
            for b in message["buttons"]
        ]
        return {**message, "buttons": buttons}

    async def send(self, text: str) -> None:
        async with self.lock:
            payload = {"sender": self.sender, "message": choose(text, self.buttons)}
            async with self.session.post(
                f"{self.endpoint.base_url}/webhooks/rest/webhook",
                json=payload,
                headers={"Authorization": f"Bearer {self.endpoint.rest_token}"},
            ) as reply:
                reply.raise_for_status()
                messages = await reply.json()
            self.buttons = []
            for message in messages:
                self.buttons = render(message, self.out) or self.buttons
            self.shown = len(await self.bot_events())

    async def follow(self, interval: float = 1.5) -> None:
        """Prints bot messages that arrive outside a reply (a person from support, wait updates)."""
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(aiohttp.ClientError):
                async with self.lock:
                    events = await self.bot_events()
                    for event in events[self.shown :]:
                        self.out.write("\n")
                        message = self.sealed(
                            {"text": event.get("text"), **(event.get("data") or {})}
                        )
                        self.buttons = render(message, self.out) or self.buttons
                        self.out.write("You: ")
                        self.out.flush()
                    self.shown = max(self.shown, len(events))


async def chat(
    endpoint: ChatEndpoint, sender: str, read_line: ReadLine, out: TextIO = sys.stdout
) -> None:
    """Runs the conversation until end of input or ``/exit``."""
    out.write("Chat with the support bot. Type /exit to leave; type a number to pick a button.\n")
    async with aiohttp.ClientSession() as session:
        conversation = _Conversation(session, endpoint, sender, out)
        with contextlib.suppress(aiohttp.ClientError):
            conversation.shown = len(await conversation.bot_events())
        follower = asyncio.create_task(conversation.follow())
        try:
            while True:
                out.write("You: ")
                out.flush()
                line = await read_line()
                if line is None or line.strip() == "/exit":
                    out.write("\n")
                    return
                if not line.strip():
                    continue
                try:
                    await conversation.send(line.strip())
                except aiohttp.ClientError as error:
                    out.write(f"(The bot could not be reached: {error}. Is it running?)\n")
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
