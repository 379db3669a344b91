"""The channel benchmark's CPU accounting: per-process milliseconds per answered message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.bench.cpu import CpuSnapshot, cpu_per_message, process_cpu_seconds, process_tree

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")


def test_shares_are_milliseconds_per_message_and_bound_the_throughput() -> None:
    before = CpuSnapshot(servers=(1.0, 10.0), own=2.0, wall=100.0)
    after = CpuSnapshot(servers=(1.5, 12.0), own=2.5, wall=110.0)

    cpu = cpu_per_message(before, after, ["action server", "Rasa server"], messages=100)

    assert cpu["cpu_ms_per_message"] == {
        "action server": 5.0,
        "Rasa server": 20.0,
        "benchmark process (load, fake platforms)": 5.0,
    }
    assert cpu["total_cpu_ms_per_message"] == 30.0
    assert cpu["cores_busy"] == 0.3
    cores = os.cpu_count() or 1
    assert cpu["core_bound_messages_per_second"] == round(cores * 1000 / 30.0, 1)


def test_a_busy_process_is_charged_its_cpu_time_and_a_gone_one_nothing() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.3\n"
            "while time.process_time() < end: pass\ninput()",
        ],
        stdin=subprocess.PIPE,
    )
    try:
        while process_cpu_seconds(child.pid) < 0.25:
            assert child.poll() is None
    finally:
        child.communicate(b"\n")
    assert process_cpu_seconds(child.pid) == 0.0


def test_a_process_is_charged_the_cpu_time_of_its_children() -> None:
    busy_child = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import time\\nend = time.process_time() + 0.3\\n"
        "while time.process_time() < end: pass\\ninput()'], stdin=sys.stdin)\n"
        "child.wait()"
    )
    parent = subprocess.Popen([sys.executable, "-c", busy_child], stdin=subprocess.PIPE)
    try:
        while process_cpu_seconds(parent.pid) - own_cpu_seconds(parent.pid) < 0.25:
            assert parent.poll() is None
        assert len(process_tree(parent.pid)) == 2
    finally:
        parent.communicate(b"\n")


def own_cpu_seconds(pid: int) -> float:
    """The process's own CPU time, without its children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
