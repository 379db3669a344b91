"""A guard that turns any connection beyond the loopback into a test failure.

In-process: :func:`guard_network` patches ``socket.socket.connect``. For servers started
as subprocesses (Rasa), :func:`subprocess_env` adds a ``sitecustomize`` that installs the
same guard there and appends every blocked address to a log file the test checks.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_blocked: list[str] = []


class NetworkBlocked(OSError):
    """A test tried to reach the real network."""


def _allowed(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", maxsplit=1)[0]).is_loopback
    except ValueError:
        return False  # a name that was not resolved to a loopback address


def install(log: Path | None = None) -> None:
    """Patches ``socket.socket.connect``/``connect_ex`` for the rest of this process."""
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address: Any) -> None:
        if not _allowed(address):
            _blocked.append(repr(address))
            if log is not None:
                with log.open("a") as file:
                    file.write(f"{address!r}\n")
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


@contextlib.contextmanager
def guard_network() -> Iterator[list[str]]:
    """Blocks non-loopback connections while the block runs; yields what it blocked."""
    saved = socket.socket.connect, socket.socket.connect_ex
    start = len(_blocked)
    install()
    blocked: list[str] = []
    try:
        yield blocked
    finally:
        socket.socket.connect, socket.socket.connect_ex = saved  # type: ignore[method-assign,assignment]
        blocked.extend(_blocked[start:])


def subprocess_env(folder: Path) -> dict[str, str]:
    """Environment for a child Python process that installs the guard at start-up."""
    hook = folder / "netguard"
    hook.mkdir(parents=True, exist_ok=True)
    log = folder / "blocked-connections.log"
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        from bot.testing.telegram_net_guard import install
        install(Path({str(log)!r}))
    """)
    )
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


def blocked_in_subprocess(folder: Path) -> list[str]:
    """What the guarded child processes tried to reach."""
    log = folder / "blocked-connections.log"
    return log.read_text().split() if log.exists() else []
