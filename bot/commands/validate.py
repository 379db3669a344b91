"""`bot validate`: check the FAQ knowledge base and training data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.faq.validate import validate_project


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check FAQ entries, duplicates, responses and answer lengths",
        description="Checks data/ and domain.yml; every problem names its file and line.",
    )
    parser.add_argument(
        "--project", type=Path, default=Path("."), help="project folder (default: .)"
    )
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    findings = validate_project(args.project)
    for finding in findings:
        print(f"error: {finding}")
    if findings:
        print(f"{len(findings)} problem(s) found in the content.")
        return 1
    print("Content is valid.")
    return 0
