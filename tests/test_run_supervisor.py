"""`bot run` (what `make run` calls): starts the bot, answers, and Ctrl-C stops everything.

Its secrets reach the children through their environment only, and its runtime files are
private to their owner.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.runtime.private_files import PRIVATE_MODE
from bot.runtime.secrets import SECRET_VARIABLES
from bot.testing.servers import DEFAULT_MODEL, PROJECT_ROOT, free_port

pytestmark = pytest.mark.e2e


def children_of(pid: int) -> set[int]:
    """Every descendant process of ``pid`` (from /proc)."""
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        parent = frontier.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and int(entry.name) not in found:
                found.add(int(entry.name))
                frontier.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


#: the secrets `bot run` finds in its environment (it generates any that are missing)
TOKENS = {name: f"test-{name.lower()}-{os.getpid()}" for name in SECRET_VARIABLES}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


async def test_bot_run_refuses_a_public_interface_without_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--no-chat",
        "--state",
        str(tmp_path),
        cwd=PROJECT_ROOT,
        env={**env, "BOT_BIND_HOST": "0.0.0.0", "BOT_RASA_TOKEN": "rasa-secret-value"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1
    assert b"BOT_ACTION_SERVER_TOKEN" in output and b"BOT_REST_TOKEN" in output
    assert b"rasa-secret-value" not in output
    assert not (tmp_path / "endpoints.yml").exists()


async def test_bot_run_answers_brings_back_a_killed_action_server_and_ctrl_c_stops_all(
    tmp_path: Path,
) -> None:
    assert DEFAULT_MODEL.exists(), "run `make train` first"
    port, actions_port = free_port(), free_port()
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
        str(tmp_path),
        cwd=PROJECT_ROOT,
        env={**os.environ, **TOKENS, "BOT_SQLITE_PATH": str(tmp_path / "bot.db")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await _answers_then_stops_on_ctrl_c(process, port, actions_port)
    finally:
        _kill_leftovers(process)
    for runtime_file in ("endpoints.yml", "credentials.yml"):
        assert (tmp_path / runtime_file).stat().st_mode & 0o777 == PRIVATE_MODE
    endpoints = (tmp_path / "endpoints.yml").read_text()
    assert "${BOT_ACTION_SERVER_TOKEN}" in endpoints
    assert TOKENS["BOT_ACTION_SERVER_TOKEN"] not in endpoints


async def _answers_then_stops_on_ctrl_c(
    process: asyncio.subprocess.Process, port: int, actions_port: int
) -> None:
    assert process.stdout is not None
    output = b""
    while b"Ready" not in output:
        line = await asyncio.wait_for(process.stdout.readline(), 240)
        assert line, f"bot run exited early: {output.decode()}"
        output += line
    started = children_of(process.pid)
    assert len(started) >= 3  # action server, Rasa server, worker (and their children)
    command_lines = " ".join(command_line(pid) for pid in [process.pid, *started])
    assert not [name for name, token in TOKENS.items() if token in command_lines]

    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"sender": "t", "message": "hello"}) as reply:
            assert reply.status == 401
        headers = {"Authorization": f"Bearer {TOKENS['BOT_REST_TOKEN']}"}
        async with session.post(
            url, json={"sender": "t", "message": "hello"}, headers=headers
        ) as reply:
            assert reply.status == 200 and await reply.json()

    [action_server] = [
        pid for pid in started if command_line(pid).endswith(f"--port {actions_port} ")
    ]
    os.kill(action_server, signal.SIGKILL)
    output += await _line_containing(process, b"action server is back", within=180)
    assert b"action server stopped (killed by SIGKILL)" in output
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{actions_port}/health") as health,
    ):
        assert health.status == 200
    running_now = children_of(process.pid)

    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 60) == 0
    await asyncio.sleep(0.5)
    assert [pid for pid in started | running_now if alive(pid)] == []


async def _line_containing(
    process: asyncio.subprocess.Process, text: bytes, within: float
) -> bytes:
    """`bot run`'s output up to the first line containing ``text``."""
    assert process.stdout is not None
    output = b""
    while text not in output:
        line = await asyncio.wait_for(process.stdout.readline(), within)
        assert line, f"bot run exited early: {output.decode()}"
        output += line
    return output


def _kill_leftovers(process: asyncio.subprocess.Process) -> None:
    """A failed assertion must not leave `bot run` and its servers behind."""
    for pid in [*children_of(process.pid), process.pid]:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
