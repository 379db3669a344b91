"""`make bench-channels`: customers through the Slack and Telegram routes, the project's REST
channel and the stock `rasa init` assistant's REST channel, in one run, on loopback.

Each answer is timed until it reaches the (fake) platform. Two loads per route: closed loop
(``--conversations`` customers, maximum messages per second) and open loop (``--rate``
messages per second offered: latency under a realistic load). Prints a table and ratios,
and writes ``.state/bench/channels.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.bench.cpu import CpuSnapshot, cpu_per_message, peak_memory_mb, settle
from bot.bench.load import HandedOver, LoadResult, closed_loop, open_loop
from bot.bench.routes import (
    Route,
    handover_notices,
    rest_route,
    slack_route,
    telegram_route,
)
from bot.runtime.supervisor import Service, python_tool, running
from bot.testing.servers import PROJECT_ROOT, free_port

STATE = PROJECT_ROOT / ".state" / "bench"
STOCK = STATE / "stock-rasa-init"
STOCK_PROCESSES = ("Rasa server",)
PROJECT_PROCESSES = ("action server", "Rasa server")  # the order of RunningBot.pids
ROUTES = ("stock_rest", "project_rest", "slack_http", "telegram_webhook")


def texts() -> list[str]:
    """Realistic customer messages: held-out FAQ paraphrases and a few greetings."""
    heldout = yaml.safe_load((PROJECT_ROOT / "tests/data/heldout_paraphrases.yml").read_text())
    messages = [t for ts in heldout["heldout"].values() for t in ts]
    return [*messages, "hi", "hello there", "thanks", "bye"]


def ensure_stock_assistant() -> Path:
    """The stock `rasa init` project, trained once and cached under .state/bench."""
    models = STOCK / "models"
    if not models.exists() or not list(models.glob("*.tar.gz")):
        STOCK.mkdir(parents=True, exist_ok=True)
        print("Training the stock `rasa init` assistant (once; cached) ...", flush=True)
        subprocess.run(
            [python_tool("rasa"), "init", "--no-prompt", "--init-dir", str(STOCK)],
            check=True,
            cwd=STOCK,
            stdout=subprocess.DEVNULL,
        )
    return max(models.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


@asynccontextmanager
async def stock_server() -> AsyncIterator[tuple[str, list[int]]]:
    model = ensure_stock_assistant()
    port = free_port()
    service = Service(
        "stock Rasa",
        [python_tool("rasa"), "run", "--model", str(model), "--enable-api", "--port", str(port)],
        f"http://127.0.0.1:{port}/status",
        STATE / "stock-rasa.log",
        cwd=STOCK,
    )
    async with running([service], env={"RASA_TELEMETRY_ENABLED": "false"}):
        assert service.process is not None
        yield f"http://127.0.0.1:{port}", [service.process.pid]


async def measure(
    route: Route,
    args: argparse.Namespace,
    pids: Callable[[], list[int]],
    processes: Sequence[str],
) -> dict[str, Any]:
    """Warm up, then closed loop and open loop through one route. The closed loop also
    records each process's CPU time per answered message (``processes`` names ``pids``)."""
    messages = texts()
    run = f"{route.name}-{time.time_ns()}"
    await settle(pids())  # the previous route's backlog must not slow this one
    await closed_loop(route.send, messages, conversations=5, seconds=3.0, prefix=f"{run}-warm")
    before = CpuSnapshot.take(pids())
    closed = await closed_loop(
        route.send, messages, conversations=args.conversations, seconds=args.seconds, prefix=run
    )
    cpu = cpu_per_message(before, CpuSnapshot.take(pids()), processes, closed.messages)
    single = await closed_loop(
        route.send, messages, conversations=1, seconds=min(args.seconds, 10.0), prefix=f"{run}-1"
    )
    offered = await open_loop(
        route.send, messages, rate=args.rate, seconds=args.seconds, prefix=f"{run}-open"
    )
    result = {
        "closed_loop": {**closed.summary(), "cpu": cpu},
        "single_conversation": single.summary(),
        "open_loop": {**offered.summary(), "offered_per_second": args.rate},
        "peak_memory_mb": peak_memory_mb(pids()),
    }
    print(f"  {route.name}: {_line(closed, single, offered)}", flush=True)
    print(f"  {route.name}: {_cpu_line(cpu)}", flush=True)
    return result


def _cpu_line(cpu: dict[str, Any]) -> str:
    shares = ", ".join(f"{name} {ms}" for name, ms in cpu["cpu_ms_per_message"].items())
    return (
        f"closed loop CPU ms per message: {shares}; total {cpu['total_cpu_ms_per_message']}"
        f" ({cpu['cores_busy']} cores busy): at most"
        f" {cpu['core_bound_messages_per_second']} msg/s on {os.cpu_count()} cores"
    )


async def adapter_overhead(
    rest: Route, routes: list[Route], rounds: int, pids: Callable[[], list[int]]
) -> dict[str, Any]:
    """Paired, one message at a time: each round sends the same text through REST and
    through every channel route (rotating order, each route in its own conversation, a
    fresh one every four rounds), so drift and the text's own cost cancel out. Overhead is
    the route's latency minus REST's in the same round, to the answer's first message
    (what the customer sees first) and to its last (the whole turn, like REST's reply)."""
    await settle(pids())
    rng, messages = random.Random(5), texts()
    every = [rest, *routes]
    first: dict[str, list[float]] = {r.name: [] for r in routes}
    whole: dict[str, list[float]] = {r.name: [] for r in routes}
    rest_ms: list[float] = []
    errors = handovers = 0
    run = f"paired-{time.time_ns()}"
    for n in range(rounds):
        text, conversation = rng.choice(messages), f"{run}-{n // 4}-h{handovers}"
        order = every[n % len(every) :] + every[: n % len(every)]
        try:
            seen: dict[str, tuple[float, float]] = {}
            for route in order:
                start = time.monotonic()
                arrived = await route.answer(f"{conversation}-{route.name}", text)
                seen[route.name] = (arrived[0] - start, arrived[1] - start)
        except HandedOver:  # a person took this conversation over: the next round starts anew
            handovers += 1
            continue
        except Exception:
            errors += 1
            continue
        base = seen[rest.name][1]
        rest_ms.append(base * 1000)
        for route in routes:
            first[route.name].append((seen[route.name][0] - base) * 1000)
            whole[route.name].append((seen[route.name][1] - base) * 1000)
    return {
        "rounds": rounds,
        "errors": errors,
        "handed_over": handovers,
        "rest_p50_ms": round(statistics.median(rest_ms), 1) if rest_ms else None,
        "routes": {
            name: {
                "first_message_p50_ms": round(statistics.median(first[name]), 1),
                "whole_answer_p50_ms": round(statistics.median(whole[name]), 1),
                "whole_answer_p25_p75_ms": [
                    round(q, 1) for q in statistics.quantiles(whole[name], n=4)[::2]
                ],
            }
            for name in first
            if len(first[name]) >= 4
        },
    }


def _overhead(paired: dict[str, Any]) -> str:
    return "; ".join(
        f"{name} first message {r['first_message_p50_ms']:+.1f} ms,"
        f" whole answer {r['whole_answer_p50_ms']:+.1f} ms (p50 of {paired['rounds']} rounds,"
        f" {paired['errors']} failed; REST p50 {paired['rest_p50_ms']} ms)"
        for name, r in paired["routes"].items()
    )


def _line(closed: LoadResult, single: LoadResult, offered: LoadResult) -> str:
    return (
        f"{closed.per_second:.1f} msg/s closed loop (p50 {closed.percentile(50):.0f} ms,"
        f" p99 {closed.percentile(99):.0f} ms); "
        f"single p50 {single.percentile(50):.0f} ms; open loop p50/p95/p99 "
        f"{offered.percentile(50):.0f}/{offered.percentile(95):.0f}/"
        f"{offered.percentile(99):.0f} ms;"
        f" errors {closed.errors}/{single.errors}/{offered.errors}, handed to a person"
        f" {closed.handed_over}/{single.handed_over}/{offered.handed_over}"
        " (closed/single/open)"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"settings": vars(args), "routes": {}}
    wanted = set(args.routes)
    if "stock_rest" in wanted:
        async with stock_server() as (url, pids), aiohttp.ClientSession() as session:
            print("stock rasa init (REST):", flush=True)
            results["routes"]["stock_rest"] = await measure(
                rest_route("stock_rest", session, url), args, lambda: pids, STOCK_PROCESSES
            )
    if not wanted - {"stock_rest"}:
        return results
    async with AsyncExitStack() as stack:
        from bot.bench.project import project_bot

        bot, slack, telegram, server_pids = await stack.enter_async_context(
            project_bot(tracker_store=args.tracker_store, workers=args.workers)
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        print("project:", flush=True)
        notices = handover_notices()
        project_routes = [
            rest_route("project_rest", session, bot.rasa_url, notices, bot.rest_headers),
            slack_route(slack, bot, notices),
            telegram_route(telegram, notices),
        ]
        channels = [r for r in project_routes[1:] if r.name in wanted]
        if args.rounds and channels:
            paired = await adapter_overhead(project_routes[0], channels, args.rounds, server_pids)
            results["adapter_overhead"] = paired
            print(f"  adapter overhead over project REST (paired): {_overhead(paired)}", flush=True)
        for route in project_routes:
            if route.name not in wanted:
                continue
            try:
                results["routes"][route.name] = await measure(
                    route, args, server_pids, PROJECT_PROCESSES
                )
            except Exception as error:
                print(f"  {route.name}: failed ({type(error).__name__}: {error})", flush=True)
                results["routes"][route.name] = {"error": f"{type(error).__name__}: {error}"}
    return results


def report(results: dict[str, Any]) -> None:
    routes = results["routes"]
    print(
        "\n| route | closed msg/s | closed p99 ms | single p50 ms"
        " | open p50 | open p95 | open p99 | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    measured = {name: r for name, r in routes.items() if "error" not in r}
    for name, r in routes.items():
        if name not in measured:
            print(f"| {name} | {r['error']} |")
            continue
        c, s, o = r["closed_loop"], r["single_conversation"], r["open_loop"]
        print(
            f"| {name} | {c['messages_per_second']} | {c['p99_ms']} | {s['p50_ms']}"
            f" | {o['p50_ms']} | {o['p95_ms']} | {o['p99_ms']} | {r['peak_memory_mb']} |"
        )
    if "stock_rest" not in measured or "project_rest" not in measured:
        return
    stock, rest = measured["stock_rest"], measured["project_rest"]
    ratios = {}
    for name in [n for n in ("project_rest", "slack_http", "telegram_webhook") if n in measured]:
        ratios[name] = {
            "throughput_vs_stock": round(
                measured[name]["closed_loop"]["messages_per_second"]
                / max(stock["closed_loop"]["messages_per_second"], 1e-9),
                2,
            ),
            "open_p99_vs_stock": round(
                measured[name]["open_loop"]["p99_ms"] / max(stock["open_loop"]["p99_ms"], 1e-9), 3
            ),
            "single_p50_minus_rest_ms": round(
                measured[name]["single_conversation"]["p50_ms"]
                - rest["single_conversation"]["p50_ms"],
                1,
            ),
        }
    results["ratios"] = ratios
    print("\nRatios against the stock `rasa init` assistant (same run):")
    for name, r in ratios.items():
        print(
            f"  {name}: throughput x{r['throughput_vs_stock']},"
            f" open-loop p99 x{r['open_p99_vs_stock']},"
            f" single-conversation p50 {r['single_p50_minus_rest_ms']:+} ms against project"
            " REST (unpaired; the paired adapter overhead is printed above)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-channels", description=__doc__)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument(
        "--rate", type=float, default=30.0, help="open-loop offered messages per second"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load")
    parser.add_argument(
        "--rounds",
        type=int,
        default=120,
        help="paired rounds for the adapter overhead (0: skip it)",
    )
    parser.add_argument(
        "--routes",
        nargs="+",
        choices=ROUTES,
        default=list(ROUTES),
        help="measure only these routes (default: all; ratios need stock_rest and project_rest)",
    )
    parser.add_argument(
        "--tracker-store",
        default=None,
        help="the project's tracker store type (default: the project's own; SQL: Rasa's, for"
        " an A/B)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Sanic workers of the project's Rasa server (more than 1 uses the Redis lock store"
        " on 127.0.0.1:6379, as Rasa requires)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    results = asyncio.run(run(args))
    report(results)
    out = STATE / "channels.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
