"""`bot retention`: delete conversations older than the retention period, and what the bot's
database keeps about them (closed tickets, delivered check-ins, delivery records)."""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from typing import Any

from bot.analytics.cli_options import DAY, add_store_argument
from bot.analytics.sql_source import SqlEventSource, tracker_store_url
from bot.delivery.store import delivery_store_from_env
from bot.followup.store import checkin_store_from_env
from bot.handoff.store import ticket_store_from_env


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "retention",
        help="delete conversations whose last event is older than N days",
        description="Deletes whole conversations (Rasa sessions) from the tracker store, "
        "SQLite or PostgreSQL, when their last event is older than --days; and from the "
        "bot's database closed handoff tickets opened, check-ins due and delivery records "
        "made before then.",
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
    if args.dry_run:
        print("The bot's database was not changed (a dry run counts the tracker store only).")
        return 0
    pruned = await prune_bot_database(time.time() - args.days * DAY)
    print(
        "Deleted from the bot's database: "
        + ", ".join(f"{count} {what}" for what, count in pruned.items())
        + "."
    )
    return 0


async def prune_bot_database(cutoff: float) -> dict[str, int]:
    """Closed tickets, finished check-ins and delivery records older than ``cutoff``."""
    tickets = ticket_store_from_env()
    checkins = checkin_store_from_env()
    deliveries = delivery_store_from_env()
    try:
        return {
            "handoff tickets": await tickets.prune_before(
                datetime.fromtimestamp(cutoff, timezone.utc)
            ),
            "check-ins": await checkins.prune_before(cutoff),
            "delivery records": await deliveries.prune_before(cutoff),
        }
    finally:
        for store in (tickets, checkins, deliveries):
            await store.close()
