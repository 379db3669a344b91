"""`bot sentiment`: one text per line on stdin, one JSON object per line on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

BATCH = 256


def register(subparsers: Any) -> None:
    """Adds the ``sentiment`` command."""
    parser = subparsers.add_parser(
        "sentiment",
        help="Sentiment and irony of texts read from stdin (JSON lines out)",
        description=(
            "Reads one text per line on stdin and writes one JSON object per line on stdout: "
            '{"label": "negative"|"neutral"|"positive", "score": -1..1, "irony": true|false}.'
        ),
    )
    parser.add_argument(
        "--probability",
        action="store_true",
        help="also write irony_probability",
    )
    parser.set_defaults(handler=handler)


async def handler(args: argparse.Namespace) -> int:
    """Streams stdin to stdout in batches; empty lines get a neutral reading too."""
    from bot.sentiment import analyse_texts

    batch: list[str] = []

    async def flush() -> None:
        for result in await analyse_texts(batch):
            row = result.as_dict()
            if not args.probability:
                row.pop("irony_probability")
            sys.stdout.write(json.dumps(row) + "\n")
        sys.stdout.flush()
        batch.clear()

    for line in sys.stdin:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= BATCH:
            await flush()
    if batch:
        await flush()
    return 0
