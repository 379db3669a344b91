"""`make bench-conversations`: the conversation test set (tests/conversations/) through
Rasa's REST channel and the Slack and Telegram routes (fake platforms, on loopback).

Every scenario is played turn by turn as a new customer, graded (bot/bench/
conversation_grading.py), and the pass rates are printed per category x split x channel.
Writes ``.state/bench/conversations.json`` with every failing turn's reasons.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.bench.conversation_grading import Observed, ScenarioVerdict, grade
from bot.bench.conversation_routes import (
    Channel,
    RestChannel,
    SlackChannel,
    TelegramChannel,
    button_payload,
    delivered,
    finished_turn,
    observe,
)
from bot.bench.conversation_set import CATEGORIES, SPLITS, Scenario, check_references, load_set
from bot.bench.routes import handover_notices
from bot.faq.knowledge_base import load_knowledge_base
from bot.testing.servers import PROJECT_ROOT, RunningBot

SET_FOLDER = PROJECT_ROOT / "tests" / "conversations"
OUT = PROJECT_ROOT / ".state" / "bench" / "conversations.json"
#: The bot's stores for a run (fresh each run; apart from `make bench-channels`' own).
STATE_FOLDER = PROJECT_ROOT / ".state" / "bench" / "conversations"
CHANNELS = ("rest", "slack", "telegram")
#: Scenarios played at once per channel (each is its own customer; Rasa serialises turns
#: of one conversation, not of different ones).
CONCURRENCY = 4
SAMPLE_SEED = "lumen-conversations-sample-v1"


def load_checked_set(folder: Path = SET_FOLDER) -> list[Scenario]:
    """The set, with every expected FAQ entry and intent checked against the project."""
    scenarios = load_set(folder)
    entries = {e.id for e in load_knowledge_base([PROJECT_ROOT / "data"]).entries}
    intents = set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"])
    check_references(scenarios, entries, intents)
    return scenarios


def sample(scenarios: Sequence[Scenario], share: float) -> list[Scenario]:
    """A fixed share of every category x split (at least one each), by a seeded hash."""
    if share >= 1:
        return list(scenarios)
    chosen: set[str] = set()
    for category in CATEGORIES:
        for split in SPLITS:
            ids = sorted(
                (s.id for s in scenarios if s.category == category and s.split == split),
                key=lambda i: hashlib.sha256(f"{SAMPLE_SEED}:{i}".encode()).hexdigest(),
            )
            chosen.update(ids[: math.ceil(len(ids) * share)])
    return [s for s in scenarios if s.id in chosen]


async def play(
    channel: Channel,
    scenario: Scenario,
    *,
    session: aiohttp.ClientSession,
    bot: RunningBot,
    run: str,
    notices: tuple[str, ...] = (),
) -> ScenarioVerdict:
    """Plays one scenario as a new customer; stops after a handoff or a turn that failed to
    run (the remaining turns are graded "not reached")."""
    conversation = f"{run}-{scenario.id}"
    sender = channel.sender_id(conversation)
    observed: list[Observed | None] = []
    previous: list[dict[str, Any]] | None = None
    for number, turn in enumerate(scenario.turns, start=1):
        before = channel.mark(conversation)
        try:
            if turn.click is not None:
                payload = button_payload(previous, turn.click)
                if payload is None:
                    observed.append(Observed(error=f"the bot offered no button {turn.click!r}"))
                    break
                await channel.click(conversation, turn.click, payload)
            else:
                await channel.say(conversation, str(turn.say))
            previous = await finished_turn(session, bot, sender, number)
            seen = observe(previous, notices)
            seen = replace(seen, delivered=await delivered(channel, conversation, before))
        except Exception as error:  # a turn that cannot run fails, the benchmark goes on
            observed.append(Observed(error=f"{type(error).__name__}: {error}"))
            break
        observed.append(seen)
        if seen.handoff or seen.error:
            break
    return grade(scenario, observed)


async def play_all(
    channel: Channel,
    scenarios: Sequence[Scenario],
    *,
    session: aiohttp.ClientSession,
    bot: RunningBot,
    notices: tuple[str, ...],
    concurrency: int = CONCURRENCY,
) -> list[ScenarioVerdict]:
    run = f"conv-{channel.name}-{time.time_ns()}"
    gate = asyncio.Semaphore(concurrency)

    async def one(scenario: Scenario) -> ScenarioVerdict:
        async with gate:
            return await play(channel, scenario, session=session, bot=bot, run=run, notices=notices)

    return list(await asyncio.gather(*(one(s) for s in scenarios)))


def summarise(verdicts: Iterable[ScenarioVerdict]) -> dict[str, dict[str, dict[str, Any]]]:
    """category -> split (and "all") -> passed, total, rate."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    verdicts = list(verdicts)
    for category in [*CATEGORIES, "all"]:
        row: dict[str, dict[str, Any]] = {}
        for split in [*SPLITS, "all"]:
            chosen = [
                v
                for v in verdicts
                if category in ("all", v.scenario.category) and split in ("all", v.scenario.split)
            ]
            if chosen:
                passed = sum(v.passed for v in chosen)
                row[split] = {
                    "passed": passed,
                    "total": len(chosen),
                    "rate": round(passed / len(chosen), 3),
                }
        if row:
            table[category] = row
    return table


def agreement(results: dict[str, list[ScenarioVerdict]]) -> dict[str, Any]:
    """Scenarios run on every channel whose verdict differs between channels."""
    verdicts: dict[str, dict[str, bool]] = {}
    for channel, scenario_verdicts in results.items():
        for v in scenario_verdicts:
            verdicts.setdefault(v.scenario.id, {})[channel] = v.passed
    common = {i: by for i, by in verdicts.items() if len(by) == len(results)}
    differ = sorted(i for i, by in common.items() if len(set(by.values())) > 1)
    return {"compared": len(common), "differ": differ}


def print_table(summaries: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> None:
    channels = list(summaries)
    header = " | ".join(f"{c} tune | {c} heldout" for c in channels)
    print(f"\n| category | {header} |")
    print("|---|" + "---|" * (2 * len(channels)))
    for category in [*CATEGORIES, "all"]:
        cells = []
        for channel in channels:
            row = summaries[channel].get(category, {})
            for split in SPLITS:
                cell = row.get(split)
                cells.append(
                    f"{cell['rate']:.0%} ({cell['passed']}/{cell['total']})" if cell else "-"
                )
        print(f"| {category} | " + " | ".join(cells) + " |")


#: How much of each reply a failing scenario's JSON keeps (enough to see which answer).
REPLY_EXCERPT_CHARS = 160


def verdict_json(v: ScenarioVerdict) -> dict[str, Any]:
    """The verdict; a failing scenario also shows what the bot did in each turn."""
    result: dict[str, Any] = {
        "id": v.scenario.id,
        "category": v.scenario.category,
        "split": v.scenario.split,
        "passed": v.passed,
        "reasons": v.reasons(),
    }
    if not v.passed:
        result["turns"] = [
            None
            if seen is None
            else {
                "said": turn.label,
                "intent": seen.intent,
                "entries": list(seen.entries),
                "reply": [t[:REPLY_EXCERPT_CHARS] for t in seen.texts],
                "buttons": list(seen.buttons),
                "handoff": seen.handoff,
                "menu": seen.menu,
                "error": seen.error,
            }
            for turn, seen in itertools.zip_longest(v.scenario.turns, v.observed)
        ]
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scenarios = load_checked_set(args.set)
    if args.category:
        scenarios = [s for s in scenarios if s.category in args.category]
    if args.scenario:
        scenarios = [s for s in scenarios if s.id in args.scenario]
    notices = handover_notices()
    results: dict[str, list[ScenarioVerdict]] = {}
    settings = {**vars(args), "set": str(args.set)}
    async with AsyncExitStack() as stack:
        from bot.bench.project import project_bot

        bot, slack, telegram, _ = await stack.enter_async_context(project_bot(STATE_FOLDER))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        routes: dict[str, Channel] = {
            "rest": RestChannel(session, bot),
            "slack": SlackChannel(slack, bot.rasa_url),
            "telegram": TelegramChannel(telegram),
        }
        for name in args.channels:
            chosen = scenarios if name == "rest" else sample(scenarios, args.sample)
            started = time.monotonic()
            print(f"{name}: {len(chosen)} scenarios ...", flush=True)
            results[name] = await play_all(
                routes[name],
                chosen,
                session=session,
                bot=bot,
                notices=notices,
                concurrency=args.concurrency,
            )
            passed = sum(v.passed for v in results[name])
            print(
                f"  {name}: {passed}/{len(chosen)} passed in {time.monotonic() - started:.0f}s",
                flush=True,
            )
    summaries = {name: summarise(verdicts) for name, verdicts in results.items()}
    print_table(summaries)
    same = agreement(results)
    print(
        f"\nSame verdict on every channel: {same['compared'] - len(same['differ'])}"
        f"/{same['compared']} scenarios run on all of them"
        + (f"; differ: {', '.join(same['differ'])}" if same["differ"] else "")
    )
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "settings": settings,
        "summary": summaries,
        "agreement": same,
        "scenarios": {name: [verdict_json(v) for v in vs] for name, vs in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-conversations", description=__doc__)
    parser.add_argument("--channels", nargs="+", choices=CHANNELS, default=list(CHANNELS))
    parser.add_argument(
        "--sample",
        type=float,
        default=1.0,
        help="share of every category x split played on Slack and Telegram (REST plays all)",
    )
    parser.add_argument("--category", nargs="+", choices=CATEGORIES)
    parser.add_argument("--scenario", nargs="+", help="only these scenario ids")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--set", type=Path, default=SET_FOLDER, help="the scenarios' folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    results = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
