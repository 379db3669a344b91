"""Where a benchmark's cores went: CPU time and peak memory of the processes under load.

A process counts with its descendants (a Rasa server with ``SANIC_WORKERS`` forks workers).
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every living descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(
                    int(entry.name)
                )
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = [], [pid]
    while todo:
        tree.append(current := todo.pop())
        todo.extend(children.get(current, []))
    return tree


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time consumed so far by one process and its living descendants
    (0 once it is gone)."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time consumed so far by the processes (with descendants)."""
    return sum(process_cpu_seconds(pid) for pid in pids)


def peak_memory_mb(pids: Sequence[int]) -> float:
    """Summed peak resident memory (VmHWM) of the processes and their descendants, in MB."""
    total = 0
    for pid in pids:
        for member in process_tree(pid):
            try:
                status = Path(f"/proc/{member}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")),
                0,
            )
    return round(total / 1024, 1)


async def settle(pids: Sequence[int], idle: float = 0.05, timeout: float = 180.0) -> None:
    """Waits until the servers are idle (under ``idle`` of a core for a second)."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pids)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = cpu_seconds(pids)
        if now - before < idle:
            return
        before = now
    print(f"  (servers still busy after {timeout:.0f}s; measuring anyway)", flush=True)


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds of each server process and of this (benchmark) process, at one instant."""

    servers: tuple[float, ...]
    own: float
    wall: float

    @classmethod
    def take(cls, pids: Sequence[int]) -> CpuSnapshot:
        return cls(
            tuple(process_cpu_seconds(p) for p in pids), _own_cpu_seconds(), time.monotonic()
        )


def cpu_per_message(
    before: CpuSnapshot, after: CpuSnapshot, names: Sequence[str], messages: int
) -> dict[str, Any]:
    """CPU milliseconds per answered message of each process between two snapshots, their
    sum, and the throughput that sum allows on this machine's cores when nothing waits
    (``core_bound_messages_per_second``: a ceiling no scheduling can pass)."""
    spent = {name: a - b for name, a, b in zip(names, after.servers, before.servers, strict=True)}
    spent["benchmark process (load, fake platforms)"] = after.own - before.own
    total = sum(spent.values())
    per = max(messages, 1)
    return {
        "cpu_ms_per_message": {name: round(s * 1000 / per, 1) for name, s in spent.items()},
        "total_cpu_ms_per_message": round(total * 1000 / per, 1),
        "cores_busy": round(total / max(after.wall - before.wall, 1e-9), 2),
        "core_bound_messages_per_second": round((os.cpu_count() or 1) * per / max(total, 1e-9), 1),
    }
