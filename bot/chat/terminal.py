"""A terminal chat with the bot over Rasa's REST channel; buttons are numbered choices."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import aiohttp

ReadLine = Callable[[], Awaitable[str | None]]


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
        out.write(f"Bot: {text}\n")
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


async def chat(base_url: str, sender: str, read_line: ReadLine, out: TextIO = sys.stdout) -> None:
    """Runs the conversation until end of input or ``/exit``."""
    out.write("Chat with the support bot. Type /exit to leave; type a number to pick a button.\n")
    buttons: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        while True:
            out.write("You: ")
            out.flush()
            line = await read_line()
            if line is None or line.strip() == "/exit":
                out.write("\n")
                return
            text = line.strip()
            if not text:
                continue
            payload = {"sender": sender, "message": choose(text, buttons)}
            try:
                async with session.post(f"{base_url}/webhooks/rest/webhook", json=payload) as reply:
                    reply.raise_for_status()
                    messages = await reply.json()
            except aiohttp.ClientError as error:
                out.write(f"(The bot could not be reached: {error}. Is it running?)\n")
                continue
            buttons = []
            for message in messages:
                buttons = render(message, out) or buttons
