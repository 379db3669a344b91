"""`bot worker`: background jobs (wait updates and claim timeouts for waiting customers;
check-ins re-armed after a restart and delivered when overdue)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.followup.store import checkin_store_from_env
from bot.followup.worker import CheckinWorker, grace_from_env
from bot.handoff.rasa_api import RasaConversations
from bot.handoff.service import handoff_services
from bot.handoff.watcher import WaitWatcher


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run background jobs (started by `bot run`)",
        description="Keeps waiting customers informed; nudges agents when nobody claims;"
        " re-arms scheduled check-ins and delivers overdue ones.",
    )
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between passes")
    parser.add_argument(
        "--watch",
        type=float,
        default=2.0,
        help="seconds between looks at Rasa (a restart re-arms check-ins at once)",
    )
    parser.add_argument("--once", action="store_true", help="run one pass and exit")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    watcher = WaitWatcher(handoff_services())
    checkins = CheckinWorker(checkin_store_from_env(), RasaConversations(), grace_from_env())
    loop = asyncio.get_running_loop()
    while True:
        await watcher.tick()
        await checkins.tick()
        if args.once:
            return 0
        next_pass = loop.time() + args.interval
        while (left := next_pass - loop.time()) > 0:
            await asyncio.sleep(min(args.watch, left))
            await checkins.watch()
