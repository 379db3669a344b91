"""`bot suggest`: FAQ suggestions from unanswered questions, as YAML for a designer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.analytics.cli_options import add_period_arguments, add_store_argument
from bot.analytics.conversations import conversations
from bot.analytics.events import Period, utc
from bot.analytics.sql_source import SqlEventSource, tracker_store_url
from bot.analytics.suggestions import ADD_EXAMPLES_AT, render_suggestions
from bot.analytics.unanswered import (
    DISTANCE_THRESHOLD,
    LOW_CONFIDENCE,
    EntryIndex,
    cluster_questions,
    unanswered_texts,
)
from bot.faq.knowledge_base import load_knowledge_base

DEFAULT_OUT = Path(".state/suggestions.yml")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "suggest",
        help="cluster unanswered questions into FAQ suggestions (YAML to review)",
        description="Finds customer messages that went to fallback or low confidence, "
        "clusters them by meaning and writes, per cluster, examples for the closest FAQ "
        "entry or a new entry skeleton. It never changes data/.",
    )
    add_period_arguments(parser)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output file ({DEFAULT_OUT})"
    )
    parser.add_argument("--data", type=Path, default=Path("data"), help="FAQ content (data)")
    parser.add_argument("--low-confidence", type=float, default=LOW_CONFIDENCE)
    parser.add_argument(
        "--distance",
        type=float,
        default=DISTANCE_THRESHOLD,
        help="cosine distance that joins clusters",
    )
    parser.add_argument(
        "--add-at",
        type=float,
        default=ADD_EXAMPLES_AT,
        help="similarity from which a cluster extends an entry",
    )
    add_store_argument(parser)
    parser.set_defaults(handler=handle)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


async def handle(args: argparse.Namespace) -> int:
    if _inside(args.out, args.data):
        print(
            f"Refusing to write into {args.data}/: suggestions are reviewed, then merged by hand."
        )
        return 2
    from bot.encoders.minilm import default_encoder

    kb = load_knowledge_base([args.data])
    source = SqlEventSource(args.store or tracker_store_url())
    try:
        period = Period(args.since, args.until)
        counts = await unanswered_texts(conversations(source, period), args.low_confidence)
    finally:
        await source.close()
    encoder = default_encoder()
    index = EntryIndex.build(kb, encoder)
    clusters = cluster_questions(counts, encoder, index, args.distance)
    since = f"{utc(args.since):%Y-%m-%d}" if args.since else "the start"
    until = f"{utc(args.until - 1):%Y-%m-%d}" if args.until else "now"
    text = render_suggestions(
        clusters, f"{since} to {until}", {e.id for e in kb.entries}, args.add_at
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(
        f"{sum(counts.values())} unanswered messages in {len(clusters)} clusters; wrote {args.out}."
    )
    return 0
