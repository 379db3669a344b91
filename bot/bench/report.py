"""Benchmark of ``bot report`` over 100,000 generated conversations (``make bench-report``).

Generates the conversations of :mod:`bot.analytics.synthetic` (about 10 events each, one
every 26 s over a month) into a SQLite tracker store under ``.state/bench/`` (kept and
reused while the count matches) and, when the PostgreSQL server answers, into a fresh
database there (dropped afterwards). Then runs ``bot report`` on each as a separate
process and prints wall time and events per second. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FOLDER = Path(".state/bench")
START = datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp()
STEP = 26.0  # seconds between conversations: 100,000 span a month
POSTGRES = os.environ.get("BOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "bench_report"


def _seed(url: str, count: int) -> tuple[int, float]:
    from bot.analytics.seed import bulk_insert, create_events_table, event_rows
    from bot.analytics.sql_source import create_engine
    from bot.analytics.synthetic import generate

    started = time.perf_counter()
    engine = create_engine(url)
    try:
        create_events_table(engine)
        rows = bulk_insert(engine, event_rows(generate(count, START, STEP)))
    finally:
        engine.dispose()
    return rows, time.perf_counter() - started


def _sqlite(count: int) -> str:
    path = FOLDER / "tracker.db"
    marker = FOLDER / "tracker.db.count"
    url = f"sqlite:///{path}"
    if path.exists() and marker.exists() and marker.read_text().strip() == str(count):
        print(f"SQLite: reusing {path} ({count:,} conversations)")
        return url
    path.unlink(missing_ok=True)
    rows, seconds = _seed(url, count)
    marker.write_text(str(count))
    print(f"SQLite: generated {count:,} conversations, {rows:,} events in {seconds:.1f} s")
    return url


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _admin(sql: str) -> None:
    import sqlalchemy as sa  # type: ignore[import-untyped]

    engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_report(name: str, url: str) -> dict[str, Any]:
    out = FOLDER / f"report-{name}.html"
    command = [sys.executable, "-m", "bot", "report", "--store", url, "--out", str(out)]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    match = re.search(r"\((\d+) events in ([\d.]+) s\)", done.stdout)
    events, inner = (int(match[1]), float(match[2])) if match else (0, wall)
    conversations = re.search(r"Conversations\s+(\d+)", done.stdout)
    return {
        "backend": name,
        "conversations": int(conversations[1]) if conversations else 0,
        "events": events,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "read_and_compute_seconds": round(inner, 2),
        "events_per_second": round(events / wall) if wall else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    FOLDER.mkdir(parents=True, exist_ok=True)
    results = [_time_report("sqlite", _sqlite(args.conversations))]
    if not args.no_postgres and _postgres_reachable():
        _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{DATABASE}"')
        url = POSTGRES.rsplit("/", 1)[0] + f"/{DATABASE}"
        try:
            rows, seconds = _seed(url, args.conversations)
            print(f"PostgreSQL: generated {rows:,} events in {seconds:.1f} s")
            results.append(_time_report("postgresql", url))
        finally:
            _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    elif not args.no_postgres:
        print("PostgreSQL: not reachable on 127.0.0.1:5432, skipped")
    head = f"{'backend':<11} {'conversations':>13} {'events':>10} {'wall s':>7} {'CPU s':>6}"
    print(f"\n{head} {'events/s':>9}")
    for r in results:
        print(
            f"{r['backend']:<11} {r['conversations']:>13,} {r['events']:>10,} "
            f"{r['wall_seconds']:>7.1f} {r['cpu_seconds']:>6.1f} {r['events_per_second']:>9,}"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"({os.cpu_count()} CPUs, load average {load}; target: within a minute)")
    (FOLDER / "report.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
