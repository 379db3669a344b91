"""A guard that turns any connection beyond the loopback into a test failure.

Three layers, because uvloop (which Rasa's dependencies install as the event loop policy)
connects in C without ``socket.socket.connect``: plain sockets, httpx transports (PTB's
client) and aiohttp's TCP connector. For servers started as subprocesses (Rasa),
:func:`subprocess_env` adds a ``sitecustomize`` that installs the same guard there and
appends every blocked address to a log file the test checks.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_blocked: list[str] = []
_LOG = "blocked-connections.log"


class NetworkBlocked(OSError):
    """A test tried to reach the real network."""


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine (names other than localhost count as remote)."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", maxsplit=1)[0]).is_loopback
    except ValueError:
        return False


def install(log: Path | None = None) -> Callable[[], None]:
    """Patches sockets, httpx and aiohttp; returns a function that undoes it."""
    import aiohttp.connector
    import httpx

    def check(host: str, port: Any) -> None:
        if loopback(str(host)):
            return
        _blocked.append(f"{host}:{port}")
        if log is not None:
            with log.open("a") as file:
                file.write(f"{host}:{port}\n")
        raise NetworkBlocked(f"network access blocked in tests: {host}:{port}")

    def address_check(address: Any) -> None:
        if isinstance(address, tuple):  # AF_UNIX paths are local
            check(str(address[0]), address[1])

    patches: list[tuple[Any, str, Callable[..., Any]]] = []

    def patch(
        owner: Any, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]
    ) -> None:
        original = getattr(owner, name)
        patches.append((owner, name, original))
        setattr(owner, name, wrap(original))

    def socket_connect(original: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            address_check(address)
            return original(self, address)

        return connect

    patch(socket.socket, "connect", socket_connect)
    patch(socket.socket, "connect_ex", socket_connect)

    def httpx_async(original: Callable[..., Any]) -> Callable[..., Any]:
        async def handle(self: Any, request: Any) -> Any:
            check(request.url.host, request.url.port)
            return await original(self, request)

        return handle

    def httpx_sync(original: Callable[..., Any]) -> Callable[..., Any]:
        def handle(self: Any, request: Any) -> Any:
            check(request.url.host, request.url.port)
            return original(self, request)

        return handle

    def aiohttp_connect(original: Callable[..., Any]) -> Callable[..., Any]:
        async def create(self: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
            check(req.host, req.port)
            return await original(self, req, *args, **kwargs)

        return create

    patch(httpx.AsyncHTTPTransport, "handle_async_request", httpx_async)
    patch(httpx.HTTPTransport, "handle_request", httpx_sync)
    patch(aiohttp.connector.TCPConnector, "_create_connection", aiohttp_connect)

    def undo() -> None:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)

    return undo


@contextlib.contextmanager
def guard_network() -> Iterator[list[str]]:
    """Blocks non-loopback connections while the block runs; yields what it blocked."""
    start = len(_blocked)
    undo = install()
    blocked: list[str] = []
    try:
        yield blocked
    finally:
        undo()
        blocked.extend(_blocked[start:])


def subprocess_env(folder: Path) -> dict[str, str]:
    """Environment for a child Python process that installs the guard at start-up."""
    hook = folder / "netguard"
    hook.mkdir(parents=True, exist_ok=True)
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        from bot.testing.telegram_net_guard import install
        install(Path({str(folder / _LOG)!r}))
        """)
    )
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


def blocked_in_subprocess(folder: Path) -> list[str]:
    """What the guarded child processes tried to reach."""
    log = folder / _LOG
    return log.read_text().splitlines() if log.exists() else []
