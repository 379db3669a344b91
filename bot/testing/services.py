"""Real backing services for tests: used when present, skipped clearly when absent (never on CI)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("BOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str) -> str:
    """The path of a server program (``redis-server``, ``initdb``): skips the test when it
    is not installed on a laptop; fails it on CI."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed"
    if _on_ci():
        pytest.fail(f"{message}, and CI must run these tests against the real server")
    pytest.skip(f"{message}; install it to run this test")


def require_server(name: str, host: str, port: int) -> None:
    """Skips the test when the server is absent on a laptop; fails it on CI."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if _on_ci():
        pytest.fail(f"{message}, and CI must run these tests against the real server")
    pytest.skip(f"{message}; start it to run this test")


def require_postgres() -> str:
    """The test PostgreSQL URL, after checking the server answers."""
    require_server("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def require_redis() -> str:
    """The test Redis URL, after checking the server answers."""
    require_server("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test server (dropped afterwards): its URL."""
    import sqlalchemy as sa  # type: ignore[import-untyped]

    server = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


#: How long a test's own server may take to start or stop (not a performance figure).
SERVER_PATIENCE_S = 30.0


def _wait_until(reachable: bool, port: int) -> None:
    deadline = time.monotonic() + SERVER_PATIENCE_S
    while _reachable("127.0.0.1", port) != reachable:
        if time.monotonic() > deadline:
            state = "start" if reachable else "stop"
            raise TimeoutError(f"the server on port {port} did not {state}")
        time.sleep(0.05)


class OwnRedis:
    """A Redis server of the test's own on a free port (nothing persisted), which the test
    may kill and start again; never the machine's own Redis."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_until(True, self.port)

    def kill(self) -> None:
        """SIGKILL: the server vanishes as in a crash (connections drop, data is gone)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        _wait_until(False, self.port)


@contextlib.contextmanager
def own_redis() -> Iterator[OwnRedis]:
    """A started :class:`OwnRedis`, killed afterwards."""
    server = OwnRedis(require_binary("redis-server"), _free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


#: The user that runs a test's own PostgreSQL when the tests run as root (initdb refuses
#: root): ``useradd --system botpg`` once, or set BOT_TEST_POSTGRES_USER.
POSTGRES_USER_AS_ROOT = os.environ.get("BOT_TEST_POSTGRES_USER", "botpg")


class OwnPostgres:
    """A PostgreSQL server of the test's own (initdb in a temporary folder, a free port,
    trust authentication, no fsync), which the test may crash and start again; never the
    machine's own server."""

    def __init__(self, folder: Path, port: int, user: str | None) -> None:
        self.folder, self.port, self.user = folder, port, user
        self.data = folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run(
            [*prefix, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=SERVER_PATIENCE_S * 2,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        _wait_until(True, self.port)

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: every connection cut, no shutdown checkpoint; the
        next start recovers as after a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        _wait_until(False, self.port)


@contextlib.contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A started :class:`OwnPostgres`, stopped and deleted afterwards."""
    require_binary("initdb")
    require_binary("pg_ctl")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(POSTGRES_USER_AS_ROOT)
        except KeyError:
            message = f"initdb refuses root; create the user {POSTGRES_USER_AS_ROOT!r}"
            if _on_ci():
                pytest.fail(message)
            pytest.skip(message)
        user = POSTGRES_USER_AS_ROOT
    folder = Path(tempfile.mkdtemp(prefix="bot-own-postgres-"))
    if user:
        shutil.chown(folder, user)
    server = OwnPostgres(folder, _free_port(), user)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError, TimeoutError):
            if _reachable("127.0.0.1", server.port):
                server.crash()
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
