"""The supervisor behind `bot run` brings back a child process that dies, says why, and
still stops everything on exit (stand-in processes, real signals)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.runtime.supervisor import RestartPolicy, Service, exit_reason, running

QUICK = RestartPolicy(first_delay=0.05, max_delay=0.2)
#: Upper bound for waiting on the supervisor in these tests (not a performance figure).
PATIENCE_S = 30.0


def stand_in(tmp_path: Path, name: str = "stand-in") -> Service:
    """A child that says hello in its log and waits; it exits with code 3 when the file
    ``<name>.exit`` appears."""
    trigger = tmp_path / f"{name}.exit"
    program = (
        "import os, sys, time\n"
        f"print('hello from the {name}', flush=True)\n"
        f"while not os.path.exists({str(trigger)!r}):\n"
        "    time.sleep(0.05)\n"
        f"os.remove({str(trigger)!r})\n"
        "print('giving up', flush=True)\n"
        "sys.exit(3)\n"
    )
    return Service(name, [sys.executable, "-c", program], None, tmp_path / f"{name}.log")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and " Z " not in stat.read_text()


async def restarted(service: Service, count: int) -> int:
    """The pid of the process running once the service has been restarted ``count`` times."""
    async with service.restarted:
        await asyncio.wait_for(
            service.restarted.wait_for(lambda: service.restarts >= count), PATIENCE_S
        )
    assert service.process is not None and service.process.returncode is None
    return service.process.pid


async def test_a_child_killed_by_sigkill_comes_back_and_the_reason_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.runtime.supervisor")
    service, bystander = stand_in(tmp_path), stand_in(tmp_path, "bystander")
    async with running([service, bystander], restart=QUICK):
        assert service.process is not None and bystander.process is not None
        first, untouched = service.process.pid, bystander.process.pid
        os.kill(first, signal.SIGKILL)
        second = await restarted(service, 1)
        assert second != first
        assert bystander.process.pid == untouched and bystander.restarts == 0
    assert "stand-in stopped (killed by SIGKILL)" in caplog.text
    assert "hello from the stand-in" in caplog.text  # the last lines of its log
    assert not alive(second) and not alive(untouched)


async def test_a_child_that_exits_is_restarted_with_its_exit_code_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.runtime.supervisor")
    service = stand_in(tmp_path)
    async with running([service], restart=QUICK):
        (tmp_path / "stand-in.exit").touch()
        await restarted(service, 1)
        (tmp_path / "stand-in.exit").touch()
        last = await restarted(service, 2)
    assert caplog.text.count("stand-in stopped (exit code 3)") == 2
    assert "giving up" in caplog.text
    assert not alive(last)


async def test_without_a_restart_policy_a_dead_child_stays_down(tmp_path: Path) -> None:
    service = stand_in(tmp_path)
    async with running([service]):
        assert service.process is not None
        os.kill(service.process.pid, signal.SIGKILL)
        assert await asyncio.wait_for(service.process.wait(), PATIENCE_S) == -signal.SIGKILL
        await asyncio.sleep(QUICK.max_delay * 2)
        assert service.restarts == 0


async def test_stopping_while_a_restart_is_pending_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    service = stand_in(tmp_path)
    slow = RestartPolicy(first_delay=3600.0, max_delay=3600.0)
    async with running([service], restart=slow):
        assert service.process is not None
        first = service.process.pid
        os.kill(first, signal.SIGKILL)
        await asyncio.wait_for(service.process.wait(), PATIENCE_S)
    assert service.restarts == 0 and service.process.pid == first


def test_backoff_doubles_from_the_first_delay_up_to_the_cap() -> None:
    policy = RestartPolicy(first_delay=1.0, max_delay=30.0)
    assert [policy.delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_the_exit_reason_names_the_signal_or_the_code() -> None:
    assert exit_reason(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_reason(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert exit_reason(1) == "exit code 1"
