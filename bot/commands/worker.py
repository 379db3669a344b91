"""`bot worker`: background jobs (wait updates and claim timeouts for waiting customers)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.handoff.service import handoff_services
from bot.handoff.watcher import WaitWatcher


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run background jobs (started by `bot run`)",
        description="Keeps waiting customers informed; nudges agents when nobody claims.",
    )
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between passes")
    parser.add_argument("--once", action="store_true", help="run one pass and exit")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    watcher = WaitWatcher(handoff_services())
    while True:
        await watcher.tick()
        if args.once:
            return 0
        await asyncio.sleep(args.interval)
