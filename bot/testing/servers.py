"""Real Rasa and action servers for end-to-end tests, on ephemeral loopback ports."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.privacy.launch import launch_command
from bot.runtime.settings import TRACKER_STORE
from bot.runtime.supervisor import RestartPolicy, Service, running

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = PROJECT_ROOT / "models" / "support-bot.tar.gz"


@dataclass(frozen=True)
class RunningBot:
    """Where a started bot answers."""

    rasa_url: str
    actions_url: str
    port: int
    state: Path
    pids: tuple[int, ...] = ()  # action server, Rasa server
    services: tuple[Service, ...] = ()  # the same two: their current processes


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def running_bot(
    credentials: Mapping[str, Any] | None = None,
    *,
    model: Path = DEFAULT_MODEL,
    endpoints: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    state: Path | None = None,
    port: int | None = None,
    restart: RestartPolicy | None = None,
) -> AsyncIterator[RunningBot]:
    """Starts the action server and Rasa server; stops both on exit.

    ``credentials`` is the content of credentials.yml (default: the REST channel only);
    ``endpoints`` overrides entries of the generated endpoints (default: a SQLite
    tracker store in ``state``, in-memory lock store). ``port`` fixes the Rasa server's
    port (for a webhook URL known in advance); by default a free one is picked.
    """
    if not model.exists():
        raise FileNotFoundError(f"no trained model at {model}: run `make train` first")
    with contextlib.ExitStack() as stack:
        folder = state or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bot-e2e-")))
        folder.mkdir(parents=True, exist_ok=True)
        port, actions_port = port or free_port(), free_port()
        config = {
            "action_endpoint": {"url": f"http://127.0.0.1:{actions_port}/webhook"},
            "tracker_store": {
                "type": TRACKER_STORE,
                "dialect": "sqlite",
                "db": str(folder / "tracker.db"),
            },
            "lock_store": {"type": "in_memory"},
            "event_broker": {"type": "bot.handoff.relay.RelayEventBroker"},
            **(endpoints or {}),
        }
        (folder / "endpoints.yml").write_text(yaml.safe_dump(config))
        (folder / "credentials.yml").write_text(yaml.safe_dump(dict(credentials or {"rest": None})))
        services = [  # started as `bot run` starts them: logs masked (bot/privacy/launch.py)
            Service(
                "action server",
                launch_command(
                    "rasa", "run", "actions", "--actions", "actions", "--port", str(actions_port)
                ),
                f"http://127.0.0.1:{actions_port}/health",
                folder / "actions.log",
            ),
            Service(
                "Rasa server",
                launch_command(
                    "rasa",
                    "run",
                    "--model",
                    str(model),
                    "--enable-api",
                    "--port",
                    str(port),
                    "--endpoints",
                    str(folder / "endpoints.yml"),
                    "--credentials",
                    str(folder / "credentials.yml"),
                ),
                f"http://127.0.0.1:{port}/status",
                folder / "rasa.log",
            ),
        ]
        child_env = {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "BOT_SQLITE_PATH": str(folder / "bot.db"),
            **_tracker_store_env(config["tracker_store"]),
            "BOT_RASA_URL": f"http://127.0.0.1:{port}",
            **(env or {}),
        }
        previous = Path.cwd()
        os.chdir(PROJECT_ROOT)  # the action server imports `actions` and reads data/
        try:
            async with running(services, env=child_env, restart=restart):
                pids = tuple(s.process.pid for s in services if s.process is not None)
                yield RunningBot(
                    f"http://127.0.0.1:{port}",
                    f"http://127.0.0.1:{actions_port}",
                    port,
                    folder,
                    pids,
                    tuple(services),
                )
        finally:
            os.chdir(previous)


def _tracker_store_env(tracker_store: Mapping[str, Any]) -> dict[str, str]:
    """``BOT_TRACKER_STORE_URL`` for a SQLite tracker store (forget-me deletes transcripts
    there); tests on PostgreSQL pass it in ``env``."""
    if tracker_store.get("dialect") != "sqlite":
        return {}
    return {"BOT_TRACKER_STORE_URL": f"sqlite:///{Path(tracker_store['db']).resolve()}"}
