"""Options the analytics commands share: the tracker store and the period.

Dates are ``YYYY-MM-DD`` or ISO 8601 date-times, read as UTC.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

DAY = 24 * 3600.0


def parse_instant(text: str, end_of_day: bool = False) -> float:
    """Epoch seconds for a date or date-time; a bare date means its midnight (UTC), or the
    next midnight with ``end_of_day`` so that ``--until 2026-11-30`` includes that day."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if end_of_day and len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment.timestamp()


def since_arg(text: str) -> float:
    """argparse type for ``--since`` (inclusive)."""
    return parse_instant(text)


def until_arg(text: str) -> float:
    """argparse type for ``--until`` (a bare date includes that whole day)."""
    return parse_instant(text, end_of_day=True)


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """``--store URL``: the tracker store to read (default from the environment)."""
    parser.add_argument(
        "--store",
        default=None,
        help="tracker store URL, sqlite:///... or postgresql://... "
        "(default: $BOT_TRACKER_STORE_URL, else sqlite:///.state/tracker.db)",
    )


def add_period_arguments(parser: argparse.ArgumentParser) -> None:
    """``--since`` and ``--until``: conversations that start in between."""
    parser.add_argument("--since", type=since_arg, help="first day (YYYY-MM-DD, UTC), inclusive")
    parser.add_argument("--until", type=until_arg, help="last day (YYYY-MM-DD, UTC), inclusive")
