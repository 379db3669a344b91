"""`bot retention`: delete conversations older than the retention period."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bot.analytics.cli_options import DAY, add_store_argument
from bot.analytics.sql_source import SqlEventSource, tracker_store_url


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "retention",
        help="delete conversations whose last event is older than N days",
        description="Deletes whole conversations (Rasa sessions) from the tracker store, "
        "SQLite or PostgreSQL, when their last event is older than --days.",
    )
    parser.add_argument("--days", type=int, required=True, help="keep this many days")
    parser.add_argument("--dry-run", action="store_true", help="only count what would go")
    add_store_argument(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    if args.days < 0:
        print("--days must be 0 or more.")
        return 2
    source = SqlEventSource(args.store or tracker_store_url())
    try:
        result = await source.prune(time.time() - args.days * DAY, dry_run=args.dry_run)
    finally:
        await source.close()
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} {result.conversations} conversations ({result.events} events) "
        f"of {result.senders} senders older than {args.days} days."
    )
    return 0
