"""`bot chat`: talk to a running bot in the terminal."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from bot.chat.terminal import chat, stdin_reader


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chat", help="chat with a running bot in the terminal", description=__doc__
    )
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="the Rasa server")
    parser.add_argument("--sender", default=f"local-{getpass.getuser()}", help="conversation id")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    await chat(args.url, args.sender, await stdin_reader())
    return 0
