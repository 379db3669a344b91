"""Real Rasa and action servers for end-to-end tests, on ephemeral loopback ports.

They start exactly as `bot run` starts them (:mod:`bot.runtime.services`): tokens required
on Rasa's API, the action server and the REST channel; :class:`RunningBot` carries them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.handoff.config import CONFIG_PATH_VARIABLE
from bot.handoff.rasa_api import RasaConversations
from bot.inbound.seal import PayloadSeal
from bot.runtime.private_files import write_private_text
from bot.runtime.secrets import authenticated_action_endpoint, bind_host, runtime_secrets
from bot.runtime.services import action_server_url, bot_services, child_environment
from bot.runtime.settings import REST_CHANNEL, TRACKER_STORE
from bot.runtime.supervisor import RestartPolicy, Service, running
from channels.rest.ids import conversation_id

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = PROJECT_ROOT / "models" / "support-bot.tar.gz"


@dataclass(frozen=True)
class RunningBot:
    """Where a started bot answers, and the tokens it asks for."""

    rasa_url: str
    actions_url: str
    port: int
    state: Path
    pids: tuple[int, ...] = ()  # action server, Rasa server
    rasa_token: str = field(default="", repr=False)
    action_server_token: str = field(default="", repr=False)
    rest_token: str = field(default="", repr=False)
    payload_secret: str = field(default="", repr=False)
    services: tuple[Service, ...] = ()  # the same processes: their current state

    @property
    def api_params(self) -> dict[str, str]:
        """Query parameters that authenticate a call to Rasa's HTTP API."""
        return {"token": self.rasa_token}

    @property
    def rest_headers(self) -> dict[str, str]:
        """Headers that authenticate a message to the REST channel."""
        return {"Authorization": f"Bearer {self.rest_token}"}

    @property
    def action_server_headers(self) -> dict[str, str]:
        """Headers that authenticate a call to the action server."""
        return {"Authorization": f"Bearer {self.action_server_token}"}

    def conversations(self) -> RasaConversations:
        """A client of Rasa's conversation API with the token."""
        return RasaConversations(self.rasa_url, self.rasa_token)

    def sealed(self, sender: str, payload: str) -> str:
        """``payload`` as a button the bot sent to the REST ``sender`` carries it (a button
        read from the tracker, such as the rating after an agent's hand-back)."""
        return PayloadSeal(self.payload_secret).seal(conversation_id(sender), payload)

    @staticmethod
    def rest_conversation(sender: str) -> str:
        """The conversation a REST ``sender`` speaks in (``rest:<sender>``)."""
        return conversation_id(sender)


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
    ``env`` reaches the children (a ``BOT_*_TOKEN`` there replaces the generated one);
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
        given_env = {**os.environ, **(env or {})}
        host = bind_host(given_env)
        secrets = runtime_secrets(host, given_env)
        config = {
            "action_endpoint": authenticated_action_endpoint(
                {"url": action_server_url(host, actions_port)}
            ),
            "tracker_store": {
                "type": TRACKER_STORE,
                "dialect": "sqlite",
                "db": str(folder / "tracker.db"),
            },
            "lock_store": {"type": "in_memory"},
            "event_broker": {"type": "bot.handoff.relay.RelayEventBroker"},
            **(endpoints or {}),
        }
        write_private_text(folder / "endpoints.yml", yaml.safe_dump(config))
        write_private_text(
            folder / "credentials.yml", yaml.safe_dump(dict(credentials or {REST_CHANNEL: None}))
        )
        services = bot_services(  # as `bot run` starts them (without the worker)
            model=model,
            host=host,
            port=port,
            actions_port=actions_port,
            endpoints_file=folder / "endpoints.yml",
            credentials_file=folder / "credentials.yml",
            logs=folder,
            worker=False,
        )
        child_env = {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "BOT_SQLITE_PATH": str(folder / "bot.db"),
            **_tracker_store_env(config["tracker_store"]),
            **child_environment(secrets, host, port),
            **(env or {}),
        }
        if CONFIG_PATH_VARIABLE not in child_env:
            child_env[CONFIG_PATH_VARIABLE] = str(handoff_settings(folder))
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
                    rasa_token=secrets.rasa_token,
                    action_server_token=secrets.action_server_token,
                    rest_token=secrets.rest_token,
                    payload_secret=secrets.payload_secret,
                    services=tuple(services),
                )
        finally:
            os.chdir(previous)


def handoff_settings(folder: Path, weekly: Mapping[str, Any] | None = None) -> Path:
    """data/handoff.yml with business hours that never close (or ``weekly``), written into
    ``folder``: the servers' default, so a test's outcome does not depend on the day or hour
    it runs (pass ``BOT_HANDOFF_CONFIG`` in ``env`` for other settings)."""
    settings = yaml.safe_load((PROJECT_ROOT / "data" / "handoff.yml").read_text())
    settings["business_hours"]["weekly"] = dict(
        weekly or {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    path = folder / "handoff.yml"
    path.write_text(yaml.safe_dump(settings))
    return path


def _tracker_store_env(tracker_store: Mapping[str, Any]) -> dict[str, str]:
    """``BOT_TRACKER_STORE_URL`` for a SQLite tracker store (forget-me deletes transcripts
    there); tests on PostgreSQL pass it in ``env``."""
    if tracker_store.get("dialect") != "sqlite":
        return {}
    return {"BOT_TRACKER_STORE_URL": f"sqlite:///{Path(tracker_store['db']).resolve()}"}
