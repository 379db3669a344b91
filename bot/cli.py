"""`bot <command>`: the command-line entry point for the project's own tools.

Each command lives in its own module exposing ``register(subparsers)``; the module adds
its parser and sets ``handler``, an ``async def handler(args) -> int``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence

#: Modules that register a command, in the order `bot --help` lists them.
COMMAND_MODULES = [
    "bot.commands.run",
    "bot.commands.chat",
    "bot.commands.validate",
    "bot.commands.agent",
    "bot.commands.worker",
    "bot.commands.queue",
    "bot.commands.transcript",
    "bot.commands.report",
    "bot.commands.suggest",
    "bot.commands.retention",
    "bot.commands.sentiment",
]


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="bot", description="Tools for the support bot: run it, validate content, operate it."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(asyncio.run(args.handler(args)) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
