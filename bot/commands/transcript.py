"""`bot transcript`: one conversation, readable or as JSON, with personal data redacted."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.analytics.cli_options import add_store_argument
from bot.analytics.sql_source import SqlEventSource, tracker_store_url
from bot.analytics.transcript import parse_conversation_id, render_text, transcripts


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "transcript",
        help="print or export one conversation (personal data redacted)",
        description="Shows who said what and when, on which channel, bot or agent, and "
        "every handoff change. CONVERSATION is a sender id (all its conversations) or "
        "<sender id>@<start, e.g. 20261120T101500Z> as reports show it.",
    )
    parser.add_argument("conversation", metavar="CONVERSATION")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_store_argument(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    sender_id, stamp = parse_conversation_id(args.conversation)
    source = SqlEventSource(args.store or tracker_store_url())
    try:
        found = transcripts(sender_id, await source.sender_events(sender_id), stamp)
    finally:
        await source.close()
    if not found:
        print(f"No conversation {args.conversation!r} in the tracker store.")
        return 1
    if args.format == "json":
        print(json.dumps([t.as_dict() for t in found], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(render_text(t) for t in found))
    return 0
