"""The bot's processes as `bot run` starts them (and the test servers, the same way).

Each runs through :mod:`bot.privacy.launch` (personal data masked in its logs): the action
server (:mod:`bot.runtime.action_server`, bearer token required), Rasa with its HTTP API
(token required: the launcher passes ``--auth-token`` from ``BOT_RASA_TOKEN`` inside the
process) and, for `bot run`, the worker. All listen on ``BOT_BIND_HOST``; the secrets reach
them through their environment (:func:`child_environment`), never their command line.
"""

from __future__ import annotations

from pathlib import Path

from bot.privacy.launch import launch_command
from bot.runtime.secrets import RuntimeSecrets
from bot.runtime.supervisor import Service

#: bind addresses that mean "every interface": callers on this machine use loopback
_ANY_INTERFACE = {"0.0.0.0", "::", "[::]"}


def local_address(host: str) -> str:
    """The address a caller on this machine uses to reach a server bound to ``host``."""
    if host in _ANY_INTERFACE:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def rasa_url(host: str, port: int) -> str:
    """Rasa's base URL for a caller on this machine."""
    return f"http://{local_address(host)}:{port}"


def action_server_url(host: str, port: int) -> str:
    """The action server's webhook URL for Rasa on this machine."""
    return f"http://{local_address(host)}:{port}/webhook"


def bot_services(
    *,
    model: Path,
    host: str,
    port: int,
    actions_port: int,
    endpoints_file: Path,
    credentials_file: Path,
    logs: Path,
    worker: bool,
) -> list[Service]:
    """The action server, the Rasa server and (``worker``) the worker, not yet started."""
    services = [
        Service(
            "action server",
            launch_command(
                "bot.runtime.action_server", "--actions", "actions", "--port", str(actions_port)
            ),
            f"http://{local_address(host)}:{actions_port}/health",
            logs / "actions.log",
        ),
        Service(
            "Rasa server",
            launch_command(
                "rasa",
                "run",
                "--model",
                str(model),
                "--enable-api",
                "--interface",
                host,
                "--port",
                str(port),
                "--endpoints",
                str(endpoints_file),
                "--credentials",
                str(credentials_file),
            ),
            # `/` answers once the model is loaded and needs no token (`/status` does)
            f"{rasa_url(host, port)}/",
            logs / "rasa.log",
        ),
    ]
    if worker:
        services.append(
            Service("worker", launch_command("bot", "worker"), None, logs / "worker.log")
        )
    return services


def child_environment(secrets: RuntimeSecrets, host: str, port: int) -> dict[str, str]:
    """What every child process needs to reach (and guard) the others."""
    return {
        "BOT_BIND_HOST": host,
        "SANIC_HOST": host,  # rasa_sdk's own setting, for anything started the stock way
        "BOT_RASA_URL": rasa_url(host, port),
        **secrets.environment(),
    }
