"""The channel's configuration: credentials.yml entries, falling back to environment variables."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["polling", "webhook"]
WEBHOOK_PATH = "/webhooks/telegram/webhook"
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# credentials.yml key -> environment variable used when the key is absent or empty
ENV_VARS = {
    "token": "TELEGRAM_BOT_TOKEN",
    "mode": "TELEGRAM_MODE",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "secret_token": "TELEGRAM_WEBHOOK_SECRET",
    "username": "TELEGRAM_BOT_USERNAME",
    "base_url": "TELEGRAM_API_BASE_URL",
    "agent_chat_id": "TELEGRAM_AGENT_CHAT_ID",  # the agents' group (docs/handoff.md)
}


class SettingsError(ValueError):
    """The Telegram channel is misconfigured (the message never contains secrets)."""


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the channel needs to run."""

    token: str
    mode: Mode = "polling"
    webhook_url: str | None = None
    secret_token: str | None = None
    username: str | None = None
    base_url: str | None = None
    poll_timeout: int = 10
    agent_chat_id: int | None = None
    #: seconds a turn may take before "typing…" is shown (0: at once)
    typing_after: float = 0.5

    @property
    def bot_id(self) -> str:
        """The numeric id in front of the token (safe to log)."""
        return self.token.split(":", 1)[0]

    @property
    def base_file_url(self) -> str | None:
        """File downloads next to an overridden API base (``.../bot`` -> ``.../file/bot``)."""
        if not self.base_url:
            return None
        head, _, tail = self.base_url.rstrip("/").rpartition("/")
        return f"{head}/file/{tail}"

    @classmethod
    def load(
        cls, credentials: Mapping[str, Any] | None, env: Mapping[str, str] = os.environ
    ) -> TelegramSettings:
        """From the channel's credentials.yml entry; empty entries fall back to ``ENV_VARS``."""
        values = {key: _value(credentials or {}, key, env) for key in ENV_VARS}
        if not values["token"] or ":" not in values["token"]:
            raise SettingsError(f"set a bot token from BotFather in {ENV_VARS['token']}")
        mode = (values["mode"] or "polling").lower()
        if mode not in ("polling", "webhook"):
            raise SettingsError(f"{ENV_VARS['mode']} must be polling or webhook, not {mode!r}")
        if mode == "polling" and (env.get("SANIC_WORKERS") or "1").strip() != "1":
            raise SettingsError(
                "long polling runs in one process, and SANIC_WORKERS starts several:"
                f" set {ENV_VARS['mode']}=webhook to run more than one Rasa worker"
            )
        secret = values["secret_token"]
        if secret and not _SECRET.match(secret):
            raise SettingsError(f"{ENV_VARS['secret_token']} may use only A-Z a-z 0-9 _ - (1-256)")
        if mode == "webhook" and not secret:
            raise SettingsError(f"webhook mode needs a secret token in {ENV_VARS['secret_token']}")
        agents = values["agent_chat_id"]
        if agents and not re.fullmatch(r"-?\d+", agents):
            raise SettingsError(f"{ENV_VARS['agent_chat_id']} must be the group's numeric id")
        return cls(
            token=values["token"],
            mode=mode,  # type: ignore[arg-type]
            webhook_url=values["webhook_url"],
            secret_token=secret,
            username=(values["username"] or "").lstrip("@") or None,
            base_url=values["base_url"],
            poll_timeout=int((credentials or {}).get("poll_timeout") or 10),
            agent_chat_id=int(agents) if agents else None,
            typing_after=_seconds((credentials or {}).get("typing_after"), 0.5),
        )


def _seconds(value: Any, default: float) -> float:
    if value is None or str(value).strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"typing_after must be a number of seconds, not {value!r}") from None
    if seconds < 0:
        raise SettingsError("typing_after must not be negative")
    return seconds


def _value(credentials: Mapping[str, Any], key: str, env: Mapping[str, str]) -> str | None:
    value = credentials.get(key)
    if value is None or str(value).strip() == "":
        value = env.get(ENV_VARS[key])
    return str(value).strip() if value is not None and str(value).strip() else None


class _RedactToken(logging.Filter):
    """Replaces the bot token in log records (httpx logs every request URL at INFO)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg, record.args = message.replace(self._token, "<bot-token>"), ()
        return True


def redact_token_in_logs(token: str, loggers: tuple[str, ...] = ("httpx", "httpcore")) -> None:
    """Keeps ``token`` out of the HTTP client's request logs (idempotent per token)."""
    for name in loggers:
        target = logging.getLogger(name)
        if not any(isinstance(f, _RedactToken) and f._token == token for f in target.filters):
            target.addFilter(_RedactToken(token))
