"""`bot report`: KPIs for a period, in the terminal and as HTML, JSON or CSV."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.analytics.cli_options import add_period_arguments, add_store_argument, parse_instant
from bot.analytics.html_report import render_html
from bot.analytics.outcomes import HOUR, KpiSettings
from bot.analytics.parallel import build_report_parallel
from bot.analytics.sql_source import tracker_store_url
from bot.analytics.summary import render_csv, render_summary

DEFAULT_OUT = Path(".state/reports")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="conversation KPIs: terminal summary plus an HTML/JSON/CSV report",
        description="Reads the tracker store and computes the KPIs of docs/analytics.md for "
        "the conversations that start in the period. Prints a summary and writes the report "
        f"(default {DEFAULT_OUT}/report.<format>). The HTML file is self-contained.",
    )
    add_period_arguments(parser)
    parser.add_argument("--format", choices=("html", "json", "csv"), default="html")
    parser.add_argument(
        "--out", type=Path, help="report file (default .state/reports/report.<format>)"
    )
    parser.add_argument(
        "--change-date", type=parse_instant, help="compare sentiment before/after this date"
    )
    parser.add_argument(
        "--assumed-hours",
        type=float,
        default=24.0,
        help="quiet hours after which a conversation counts as resolved (24)",
    )
    parser.add_argument(
        "--reopen-hours",
        type=float,
        default=72.0,
        help="a resolved conversation reopens if the sender writes within this (72)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="processes reading the store (default: CPUs)"
    )
    add_store_argument(parser)
    parser.set_defaults(handler=handle)


def render(result: dict[str, Any], fmt: str) -> str:
    """The report in one format."""
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    if fmt == "csv":
        return render_csv(result)
    return render_html(result)


async def handle(args: argparse.Namespace) -> int:
    settings = KpiSettings(
        assumed_window=args.assumed_hours * HOUR,
        reopen_window=args.reopen_hours * HOUR,
        change_date=args.change_date,
    )
    url = args.store or tracker_store_url()
    run = await build_report_parallel(url, args.since, args.until, settings, args.workers)
    print(render_summary(run.result))
    out: Path = args.out or DEFAULT_OUT / f"report.{args.format}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(run.result, args.format), encoding="utf-8")
    print(f"Report written to {out} ({run.events} events in {run.seconds:.1f} s).")
    return 0
