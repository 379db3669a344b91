"""`bot validate`: check the FAQ knowledge base and training data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.faq.knowledge_base import load_knowledge_base
from bot.faq.validate import Finding, validate_project
from bot.faq.yaml_source import ContentError
from bot.followup.checkins import validate_checkins


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
    try:
        knowledge_base = load_knowledge_base([args.project / "data"])
    except ContentError:
        knowledge_base = None  # already reported by validate_project
    if knowledge_base is not None:
        findings += [
            Finding(e.path, e.line, e.message)
            for e in validate_checkins(args.project, knowledge_base)
        ]
    for finding in findings:
        print(f"error: {finding}")
    if findings:
        print(f"{len(findings)} problem(s) found in the content.")
        return 1
    print("Content is valid.")
    return 0
