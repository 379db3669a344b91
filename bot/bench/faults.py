"""`make bench-faults`: steady customer traffic on REST, Slack (Events API) and Telegram
(webhook) while faults hit the real processes, and what the customers saw.

The bot runs as `bot run` runs it (the action server and the Rasa server restarted by the
supervisor when they die), with its tracker store on a PostgreSQL server and its lock
store on a Redis server of the benchmark's own (free ports; never the machine's own).
Faults, one after the other: the action server killed (-9), Redis killed and started
again, PostgreSQL crashed (``pg_ctl stop -m immediate``) and started again, the Rasa
server killed (-9). A message the platform was not acknowledged for (non-2xx, connection
refused) is delivered again by the simulated platform, as Slack and Telegram do.

Per fault: messages sent, answered (an answer or the apology), lost (no answer within
``--deadline`` seconds), duplicated (the tracker holds more customer messages than the
platform had acknowledged), the longest freeze (the slowest answer), the recovery time
(from the process or server being back to every route answering a new message) and
whether a manual action was needed (a route still silent at the end). JSON in
``.state/bench/faults.json`` with the totals ``lost``, ``duplicated`` and ``max_freeze_s``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from bot.bench.channels import STATE
from bot.bench.load import HandedOver
from bot.bench.routes import (
    Route,
    _number,
    handover_notices,
    rest_route,
    slack_route,
    telegram_route,
)
from bot.runtime.settings import LOCK_STORE, TRACKER_STORE
from bot.runtime.supervisor import RestartPolicy, Service
from bot.testing.servers import RunningBot
from bot.testing.services import OwnPostgres, OwnRedis, own_postgres, own_redis

FAULTS = ("action_server_killed", "redis_restarted", "postgres_restarted", "rasa_killed")
#: What the simulated customers write: questions the bot answers itself.
TEXTS = ("how do I pay my bill", "hello", "what are your opening hours", "thanks")
#: The simulated platform delivers a message again after this long when it got no 2xx.
REDELIVERY_S = 1.0
QUICK_RESTARTS = RestartPolicy(first_delay=0.5, max_delay=5.0)
#: How long a killed server may take to be restarted and ready (Rasa loads its model).
RESTART_PATIENCE_S = 300.0
SLOWEST = 5  # the slowest messages of each fault, in the JSON


@dataclass
class Message:
    """One customer message and what became of it."""

    route: str
    conversation: str
    sent_at: float
    answered_at: float | None = None
    accepted: bool = False  # the platform got a 2xx for it (at least once)
    deliveries: int = 0

    @property
    def wait_s(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.sent_at


@dataclass
class Traffic:
    """Customers on every route, each sending a message every ``pace`` seconds."""

    routes: list[Route]
    per_route: int
    pace: float
    deadline: float
    messages: list[Message] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, run: str) -> None:
        for route in self.routes:
            for n in range(self.per_route):
                conversation = f"{run}-{route.name}-{n}"
                self._tasks.append(asyncio.create_task(self._customer(route, conversation)))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _customer(self, route: Route, conversation: str) -> None:
        turn = handovers = 0
        while not self._stop.is_set():
            message = Message(route.name, conversation, time.monotonic())
            self.messages.append(message)
            try:
                await self._deliver(route, message, TEXTS[turn % len(TEXTS)])
            except HandedOver:  # a person has this conversation: the customer starts anew
                self.messages.remove(message)
                handovers += 1
                conversation = f"{conversation.split('~', maxsplit=1)[0]}~{handovers}"
            turn += 1
            await asyncio.sleep(max(0.0, self.pace - (time.monotonic() - message.sent_at)))

    async def _deliver(self, route: Route, message: Message, text: str) -> None:
        """Delivers until answered; again (as the platform would) while not acknowledged."""
        while time.monotonic() - message.sent_at < self.deadline:
            message.deliveries += 1
            left = self.deadline - (time.monotonic() - message.sent_at)
            try:
                await asyncio.wait_for(route.send(message.conversation, text), left)
            except HandedOver:
                raise
            except asyncio.TimeoutError:
                message.accepted = message.accepted or route.name != "project_rest"
                return  # acknowledged but never answered
            except Exception as error:
                if _acknowledged_silence(error):
                    message.accepted = True
                    return  # REST answered 200 with nothing: silence, nobody redelivers
                await asyncio.sleep(REDELIVERY_S)
                continue
            message.accepted, message.answered_at = True, time.monotonic()
            return


def _acknowledged_silence(error: Exception) -> bool:
    return isinstance(error, RuntimeError) and str(error) == "no answer"


@dataclass
class Fault:
    """Breaks something; ``repair`` returns when it is back (``monotonic`` time)."""

    name: str
    inject: Callable[[], Awaitable[None]]
    repair: Callable[[], Awaitable[float]]


def faults(bot: RunningBot, postgres: OwnPostgres, redis: OwnRedis, down_s: float) -> list[Fault]:
    """The faults, in the order they run."""
    actions, rasa = bot.services

    def kill(name: str, service: Service) -> Fault:
        restarts = {"before": 0}

        async def inject() -> None:
            assert service.process is not None
            restarts["before"] = service.restarts
            os.kill(service.process.pid, signal.SIGKILL)

        async def repair() -> float:
            async with service.restarted:
                await asyncio.wait_for(
                    service.restarted.wait_for(lambda: service.restarts > restarts["before"]),
                    RESTART_PATIENCE_S,
                )
            return time.monotonic()

        return Fault(name, inject, repair)

    def outage(name: str, down: Callable[[], None], up: Callable[[], None]) -> Fault:
        async def inject() -> None:
            await asyncio.to_thread(down)

        async def repair() -> float:
            await asyncio.sleep(down_s)
            await asyncio.to_thread(up)
            return time.monotonic()

        return Fault(name, inject, repair)

    return [
        kill("action_server_killed", actions),
        outage("redis_restarted", redis.kill, redis.start),
        outage("postgres_restarted", postgres.crash, postgres.start),
        kill("rasa_killed", rasa),
    ]


async def stored_user_messages(postgres: OwnPostgres) -> dict[str, int]:
    """Customer messages in the tracker store, per conversation."""
    connection = await asyncpg.connect(postgres.url)
    try:
        rows = await connection.fetch(
            "SELECT sender_id, count(*) AS n FROM events WHERE type_name = 'user'"
            " GROUP BY sender_id"
        )
    finally:
        await connection.close()
    return {row["sender_id"]: int(row["n"]) for row in rows}


def sender_of(route: str, conversation: str) -> str:
    if route == "slack_http":
        return f"slack:D{_number(conversation):09d}"
    if route == "telegram_webhook":
        return f"telegram:{_number(conversation)}"
    return conversation


def summarise(
    name: str,
    messages: list[Message],
    *,
    injected_at: float,
    back_at: float,
    stored: dict[str, int],
    still_silent: list[str],
) -> dict[str, Any]:
    window = messages  # the whole run: a message sent just before the fault counts too
    answered = [m for m in window if m.answered_at is not None]
    accepted: dict[str, int] = {}
    for m in messages:
        if m.accepted:
            key = sender_of(m.route, m.conversation)
            accepted[key] = accepted.get(key, 0) + 1
    duplicated = sum(max(0, n - accepted.get(sender, 0)) for sender, n in stored.items())
    recovered: list[float] = []
    for route in {m.route for m in messages}:
        after = [
            m.answered_at - back_at
            for m in window
            if m.route == route and m.answered_at is not None and m.sent_at >= back_at
        ]
        recovered.append(min(after) if after else float("inf"))
    recovery = max(recovered) if recovered else float("inf")
    routes = {
        route: {
            "sent": sum(m.route == route for m in window),
            "answered": sum(m.route == route and m.answered_at is not None for m in window),
            "sent_after_back": sum(m.route == route and m.sent_at >= back_at for m in window),
            "max_freeze_s": round(max((m.wait_s or 0.0) for m in window if m.route == route), 2),
        }
        for route in sorted({m.route for m in messages})
    }
    slowest = sorted(window, key=lambda m: -(m.wait_s or 0.0))[:SLOWEST]
    return {
        "fault": name,
        "routes": routes,
        "slowest": [
            {
                "route": m.route,
                "sent_after_fault_s": round(m.sent_at - injected_at, 2),
                "wait_s": round(m.wait_s or 0.0, 2),
                "deliveries": m.deliveries,
            }
            for m in slowest
        ],
        "sent": len(window),
        "answered": len(answered),
        "lost": len(window) - len(answered),
        "duplicated": duplicated,
        "max_freeze_s": round(max((m.wait_s or 0.0) for m in answered), 2) if answered else None,
        "down_s": round(back_at - injected_at, 1),
        "recovery_s": round(recovery, 2) if recovery != float("inf") else None,
        "manual_action": bool(still_silent),
        "still_silent": still_silent,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.bench.project import project_bot

    results: list[dict[str, Any]] = []
    with own_postgres() as postgres, own_redis() as redis:
        endpoints = {
            "tracker_store": {
                "type": TRACKER_STORE,
                "dialect": "postgresql",
                "url": "127.0.0.1",
                "port": postgres.port,
                "db": "postgres",
                "username": "postgres",
                "password": "",
            },
            "lock_store": {"type": LOCK_STORE, "url": "127.0.0.1", "port": redis.port},
        }
        env = {"BOT_TRACKER_STORE_URL": postgres.url}
        async with (
            project_bot(
                folder=STATE / "faults", endpoints=endpoints, env=env, restart=QUICK_RESTARTS
            ) as (bot, slack, telegram, _),
            aiohttp.ClientSession() as session,
        ):
            notices = handover_notices()
            routes = [
                rest_route("project_rest", session, bot.rasa_url, notices),
                slack_route(slack, bot, notices),
                telegram_route(telegram, notices),
            ]
            wanted = [f for f in faults(bot, postgres, redis, args.down) if f.name in args.faults]
            for fault in wanted:
                traffic = Traffic(routes, args.conversations, args.pace, args.deadline)
                traffic.start(f"{fault.name}-{time.time_ns()}")
                await asyncio.sleep(args.before)
                injected_at = time.monotonic()
                await fault.inject()
                print(f"{fault.name}: injected", flush=True)
                back_at = await fault.repair()
                print(f"{fault.name}: back after {back_at - injected_at:.1f} s", flush=True)
                await asyncio.sleep(args.after)
                await traffic.stop()
                silent = await still_silent(routes, fault.name)
                stored = await stored_user_messages(postgres)
                ours = {sender_of(m.route, m.conversation) for m in traffic.messages}
                summary = summarise(
                    fault.name,
                    traffic.messages,
                    injected_at=injected_at,
                    back_at=back_at,
                    stored={s: n for s, n in stored.items() if s in ours},
                    still_silent=silent,
                )
                results.append(summary)
                print(f"  {_line(summary)}", flush=True)
    totals = {
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "max_freeze_s": max((r["max_freeze_s"] or 0.0) for r in results) if results else 0.0,
        "manual_action": any(r["manual_action"] for r in results),
    }
    return {"settings": vars(args), "faults": results, **totals}


async def still_silent(routes: list[Route], run: str) -> list[str]:
    """The routes that do not answer a fresh conversation at the end (manual action)."""
    silent = []
    for route in routes:
        try:
            await asyncio.wait_for(route.send(f"{run}-probe-{route.name}", "hello"), 30)
        except Exception:
            silent.append(route.name)
    return silent


def _line(r: dict[str, Any]) -> str:
    return (
        f"sent {r['sent']}, answered {r['answered']}, lost {r['lost']},"
        f" duplicated {r['duplicated']}, longest freeze {r['max_freeze_s']} s,"
        f" down {r['down_s']} s, recovery {r['recovery_s']} s,"
        f" manual action {'yes' if r['manual_action'] else 'no'}"
    )


def report(results: dict[str, Any]) -> None:
    print(
        "\n| fault | sent | answered | lost | duplicated | longest freeze s | down s"
        " | recovery s | manual action |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results["faults"]:
        print(
            f"| {r['fault']} | {r['sent']} | {r['answered']} | {r['lost']} | {r['duplicated']}"
            f" | {r['max_freeze_s']} | {r['down_s']} | {r['recovery_s']}"
            f" | {'yes' if r['manual_action'] else 'no'} |"
        )
    print(
        f"\nTotals: lost {results['lost']}, duplicated {results['duplicated']},"
        f" longest freeze {results['max_freeze_s']} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-faults", description=__doc__)
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--conversations", type=int, default=2, help="customers per route")
    parser.add_argument(
        "--pace", type=float, default=1.0, help="seconds between a customer's messages"
    )
    parser.add_argument("--before", type=float, default=5.0, help="steady traffic before a fault")
    parser.add_argument("--down", type=float, default=10.0, help="how long a server stays down")
    parser.add_argument("--after", type=float, default=15.0, help="traffic after it is back")
    parser.add_argument(
        "--deadline", type=float, default=90.0, help="a message unanswered this long is lost"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    results = asyncio.run(run(args))
    report(results)
    out = STATE / "faults.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
