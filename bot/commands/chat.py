"""`bot chat`: talk to a running bot in the terminal.

The bot's tokens come from the environment (``BOT_RASA_TOKEN``, ``BOT_REST_TOKEN``): start
`bot run` with the same values set, since the ones it generates on its own stay inside it.
"""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from bot.chat.terminal import ChatEndpoint, chat, stdin_reader
from bot.runtime.secrets import PAYLOAD_SECRET, RASA_TOKEN, REST_TOKEN


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chat", help="chat with a running bot in the terminal", description=__doc__
    )
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="the Rasa server")
    parser.add_argument("--sender", default=f"local-{getpass.getuser()}", help="who you are")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    missing = [name for name in (RASA_TOKEN, REST_TOKEN) if not os.environ.get(name)]
    if missing:
        print(
            f"error: set {' and '.join(missing)} to the values the running bot was started "
            "with (or chat through `bot run`, which opens the chat itself)."
        )
        return 1
    endpoint = ChatEndpoint(
        args.url,
        os.environ[RASA_TOKEN],
        os.environ[REST_TOKEN],
        os.environ.get(PAYLOAD_SECRET, ""),
    )
    await chat(endpoint, args.sender, await stdin_reader())
    return 0
