"""`bot run` as deployed: every internal HTTP surface listens on the loopback only, the API
and the action server refuse calls without their tokens, secrets files are private."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from attacker import TOKEN_ENV, request

from bot.testing.servers import DEFAULT_MODEL, PROJECT_ROOT, free_port

pytestmark = pytest.mark.e2e
START_TIMEOUT = 240.0
LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LOOPBACK_V6 = "00000000000000000000000001000000"  # ::1
LISTEN = "0A"


@dataclass(frozen=True)
class Deployment:
    """A `bot run` in its own state folder."""

    process: asyncio.subprocess.Process
    port: int
    actions_port: int
    state: Path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        parent = frontier.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and int(entry.name) not in found:
                found.add(int(entry.name))
                frontier.add(int(entry.name))
    return found


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def listening(pids: set[int]) -> list[tuple[str, int]]:
    """(local address in /proc's hex form, port) of every TCP socket the processes listen on."""
    inodes = set().union(*(socket_inodes(pid) for pid in pids))
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == LISTEN and fields[9] in inodes:
                found.append((address, int(port, 16)))
    return found


def non_loopback_address() -> str | None:
    """An address of this machine that is not the loopback (None when it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent (UDP)
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    assert DEFAULT_MODEL.exists(), "run `make train` first"
    state = tmp_path_factory.mktemp("bot-run")
    port, actions_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in TOKEN_ENV.values()}
    env.pop("BOT_BIND_HOST", None)
    env.update(
        BOT_SQLITE_PATH=str(state / "bot.db"),
        BOT_DATABASE_URL="",
        SLACK_BOT_TOKEN="",
        SLACK_APP_TOKEN="",
        SLACK_SIGNING_SECRET="",
        TELEGRAM_BOT_TOKEN="",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--no-chat",
        "--port",
        str(port),
        "--actions-port",
        str(actions_port),
        "--state",
        str(state),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        output = b""
        while b"Ready" not in output:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
            assert line, f"bot run exited early: {output.decode()[-2000:]}"
            output += line
        yield Deployment(process, port, actions_port, state)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 60)
            except asyncio.TimeoutError:
                for pid in [*descendants(process.pid), process.pid]:
                    os.kill(pid, signal.SIGKILL)


async def test_every_internal_surface_listens_on_the_loopback_only(deployment: Deployment) -> None:
    sockets = listening(descendants(deployment.process.pid))
    ports = {port for _, port in sockets}
    assert {deployment.port, deployment.actions_port} <= ports
    exposed = [(a, p) for a, p in sockets if a not in (LOOPBACK_V4, LOOPBACK_V6)]
    assert exposed == [], f"listening beyond the loopback: {exposed}"


async def test_nothing_answers_on_the_machines_other_address(deployment: Deployment) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address besides the loopback")
    for port in (deployment.port, deployment.actions_port):
        with socket.socket() as probe:
            probe.settimeout(5)
            assert probe.connect_ex((address, port)) != 0, f"{address}:{port} accepts connections"


async def test_the_api_and_the_action_server_refuse_calls_without_tokens(
    deployment: Deployment,
) -> None:
    rasa, actions = (
        f"http://127.0.0.1:{deployment.port}",
        f"http://127.0.0.1:{deployment.actions_port}",
    )
    assert (await request("GET", f"{rasa}/conversations/local/tracker")).status == 401
    assert (await request("DELETE", f"{rasa}/model")).status == 401
    assert (await request("POST", f"{actions}/webhook", json_body={})).status == 401
    rest = await request(
        "POST", f"{rasa}/webhooks/rest/webhook", json_body={"sender": "x", "message": "hi"}
    )
    assert rest.status == 401


@pytest.mark.parametrize("name", ["endpoints.yml", "credentials.yml"])
async def test_secrets_files_are_private(deployment: Deployment, name: str) -> None:
    mode = stat.S_IMODE((deployment.state / name).stat().st_mode)
    assert mode == 0o600, f"{name} is {oct(mode)}"


async def test_no_token_appears_on_a_command_line(deployment: Deployment) -> None:
    """/proc/<pid>/cmdline is readable by every local user."""
    for pid in descendants(deployment.process.pid):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        assert b"--auth-token" not in arguments and not any(
            a.startswith(b"token=") for a in arguments
        )
