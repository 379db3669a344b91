"""The shared secrets of the bot's internal HTTP surfaces and where those surfaces listen.

``BOT_BIND_HOST`` (default ``127.0.0.1``) is the interface every internal HTTP surface
listens on: Rasa (its API and the channel webhooks), the action server. Four secrets
protect them, each read from the environment:

- ``BOT_RASA_TOKEN``: Rasa's ``--auth-token`` (callers add ``?token=...``);
- ``BOT_ACTION_SERVER_TOKEN``: Rasa sends ``Authorization: Bearer ...`` to the action server;
- ``BOT_REST_TOKEN``: the local REST channel's bearer token;
- ``BOT_PAYLOAD_SECRET``: signs the button payloads the bot sends.

On a loopback address a missing secret is generated afresh for each start; on any other
address every one of them must come from the environment (:class:`MissingSecrets`). The
children get them through their environment only, never on a command line
(``/proc/<pid>/cmdline`` is world-readable).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: where the internal HTTP surfaces listen unless ``BOT_BIND_HOST`` says otherwise
DEFAULT_BIND_HOST = "127.0.0.1"
#: random bytes in a generated secret (``secrets.token_urlsafe``: 43 characters)
GENERATED_SECRET_BYTES = 32

RASA_TOKEN = "BOT_RASA_TOKEN"
ACTION_SERVER_TOKEN = "BOT_ACTION_SERVER_TOKEN"
REST_TOKEN = "BOT_REST_TOKEN"
PAYLOAD_SECRET = "BOT_PAYLOAD_SECRET"
SECRET_VARIABLES = (RASA_TOKEN, ACTION_SERVER_TOKEN, REST_TOKEN, PAYLOAD_SECRET)


class MissingSecrets(RuntimeError):
    """Bound to a non-loopback interface without every secret set in the environment."""


def bind_host(env: Mapping[str, str] = os.environ) -> str:
    """The interface the internal HTTP surfaces listen on (``BOT_BIND_HOST``)."""
    return (env.get("BOT_BIND_HOST") or "").strip() or DEFAULT_BIND_HOST


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RuntimeSecrets:
    """The four secrets of one start of the bot."""

    rasa_token: str
    action_server_token: str
    rest_token: str
    payload_secret: str

    def environment(self) -> dict[str, str]:
        """The variables that hand the secrets to the child processes."""
        return {
            RASA_TOKEN: self.rasa_token,
            ACTION_SERVER_TOKEN: self.action_server_token,
            REST_TOKEN: self.rest_token,
            PAYLOAD_SECRET: self.payload_secret,
        }

    def __repr__(self) -> str:  # never print a secret by accident
        return "RuntimeSecrets(<hidden>)"


def runtime_secrets(host: str, env: Mapping[str, str] = os.environ) -> RuntimeSecrets:
    """Each secret from ``env``; a missing one is generated when ``host`` is loopback.

    Raises :class:`MissingSecrets` (naming the variables, never their values) when
    ``host`` is reachable from other machines and a secret is not set.
    """
    missing = [name for name in SECRET_VARIABLES if not env.get(name)]
    if missing and not is_loopback(host):
        raise MissingSecrets(
            f"BOT_BIND_HOST={host} makes the bot's internal servers reachable from other "
            f"machines, so their secrets must come from the environment; set "
            f"{', '.join(missing)} (for example with `python -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))'`), or leave BOT_BIND_HOST unset for 127.0.0.1."
        )
    values = {
        name: env.get(name) or secrets.token_urlsafe(GENERATED_SECRET_BYTES)
        for name in SECRET_VARIABLES
    }
    return RuntimeSecrets(
        values[RASA_TOKEN], values[ACTION_SERVER_TOKEN], values[REST_TOKEN], values[PAYLOAD_SECRET]
    )


def authenticated_action_endpoint(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """An ``action_endpoint`` entry whose calls carry the action server's bearer token.

    The header holds Rasa's ``${BOT_ACTION_SERVER_TOKEN}`` placeholder, which Rasa fills in
    from its environment when it reads endpoints.yml: the token is never written to a file.
    """
    headers = dict(endpoint.get("headers") or {})
    headers["Authorization"] = "Bearer ${" + ACTION_SERVER_TOKEN + "}"
    return {**endpoint, "headers": headers}
