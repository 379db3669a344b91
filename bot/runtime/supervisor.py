"""Starts the action server and the Rasa server as child processes and stops them cleanly."""

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


@contextlib.asynccontextmanager
async def running(
    services: Sequence[Service], env: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """Starts every service, waits until all are ready, and stops them all on exit."""
    try:
        for service in services:
            await start(service, env)
        await asyncio.gather(*(wait_ready(s) for s in services))
        yield
    finally:
        await asyncio.gather(*(stop(s) for s in reversed(services)))


def python_tool(name: str) -> str:
    """A console script of this virtualenv (``rasa``), next to the running interpreter."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name
