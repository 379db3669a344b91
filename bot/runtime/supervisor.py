"""Starts the action server, the Rasa server and the worker as child processes, restarts
one that dies (with capped exponential backoff, logging why), and stops them all cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

logger = logging.getLogger(__name__)


@dataclass
class Service:
    """One child process and the URL that answers when it is ready."""

    name: str
    command: Sequence[str]
    ready_url: str | None  # None: ready once it has stayed up for a second
    log_file: Path
    cwd: Path | None = None
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    restarts: int = 0  # how many times the supervisor brought it back
    restarted: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)


#: Lines of a dead process's log repeated in the supervisor's warning.
LOG_TAIL_LINES = 10
LOG_TAIL_BYTES = 16_384


@dataclass(frozen=True)
class RestartPolicy:
    """When to bring back a process that died: after ``first_delay`` seconds, doubling on
    each failure in a row up to ``max_delay``; a run of ``stable_after`` seconds resets it."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait before the restart that follows ``failures`` failures in a row (>= 1)."""
        return float(min(self.max_delay, self.first_delay * 2 ** max(0, failures - 1)))


async def start(service: Service, env: dict[str, str] | None = None) -> None:
    """Starts the process (in its own process group), logging to its log file."""
    service.log_file.parent.mkdir(parents=True, exist_ok=True)
    log = service.log_file.open("ab")
    service.process = await asyncio.create_subprocess_exec(
        *service.command,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=service.cwd,
        start_new_session=True,
    )
    log.close()


async def wait_ready(service: Service, timeout: float = 180.0) -> None:
    """Polls the ready URL until it answers 200; fails early if the process died."""
    if service.ready_url is None:
        await asyncio.sleep(1.0)
        if service.process and service.process.returncode is not None:
            raise RuntimeError(f"{service.name} exited at start; see {service.log_file}")
        return
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if service.process and service.process.returncode is not None:
                raise RuntimeError(
                    f"{service.name} exited with code {service.process.returncode}; "
                    f"see {service.log_file}"
                )
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(
                    service.ready_url, timeout=aiohttp.ClientTimeout(total=2)
                ) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{service.name} was not ready after {timeout:.0f}s; see {service.log_file}")


async def stop(service: Service, grace: float = 10.0) -> None:
    """SIGTERM to the process group, SIGKILL after ``grace`` seconds."""
    process = service.process
    if process is None or process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


def exit_reason(returncode: int) -> str:
    """``exit code 3`` or ``killed by SIGKILL`` (asyncio reports a signal as -signum)."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def log_tail(log_file: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (empty when it does not exist)."""
    try:
        with log_file.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


async def supervise(service: Service, policy: RestartPolicy, env: dict[str, str] | None) -> None:
    """Waits for the running process to end and restarts it, for as long as it is awaited."""
    failures = 0
    while True:
        process = service.process
        if process is None:
            return
        began = time.monotonic()
        returncode = await process.wait()
        failures = 1 if time.monotonic() - began >= policy.stable_after else failures + 1
        delay = policy.delay(failures)
        logger.warning(
            "%s stopped (%s); restarting it in %.1f s. Last lines of %s:\n%s",
            service.name,
            exit_reason(returncode),
            delay,
            service.log_file,
            log_tail(service.log_file),
        )
        await asyncio.sleep(delay)
        try:
            await start(service, env)
            await wait_ready(service)
        except (OSError, RuntimeError, TimeoutError) as error:
            logger.warning("%s did not come back: %s", service.name, error)
            await stop(service)
            continue
        async with service.restarted:
            service.restarts += 1
            service.restarted.notify_all()
        logger.warning("%s is back (restart %d)", service.name, service.restarts)


@contextlib.asynccontextmanager
async def running(
    services: Sequence[Service],
    env: dict[str, str] | None = None,
    restart: RestartPolicy | None = None,
) -> AsyncIterator[None]:
    """Starts every service, waits until all are ready, and stops them all on exit.

    With a ``restart`` policy, a service that dies while the block runs is started again
    (and its exit reason and last log lines logged); without one it stays down.
    """
    watchers: list[asyncio.Task[None]] = []
    try:
        for service in services:
            await start(service, env)
        await asyncio.gather(*(wait_ready(s) for s in services))
        if restart is not None:
            watchers = [asyncio.create_task(supervise(s, restart, env)) for s in services]
        yield
    finally:
        for watcher in watchers:
            watcher.cancel()
        for watcher in watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await asyncio.gather(*(stop(s) for s in reversed(services)))


def python_tool(name: str) -> str:
    """A console script of this virtualenv (``rasa``), next to the running interpreter."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name
