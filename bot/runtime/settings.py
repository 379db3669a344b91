"""Runtime configuration: endpoints.yml and credentials.yml, overridden from the environment.

Secrets only ever come from environment variables; nothing here logs their values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def runtime_endpoints(template: Path, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """``endpoints.yml`` with production stores switched on by environment variables."""
    endpoints: dict[str, Any] = yaml.safe_load(template.read_text()) or {}
    if url := env.get("BOT_TRACKER_STORE_URL"):
        endpoints["tracker_store"] = sql_store(url)
    if url := env.get("BOT_LOCK_STORE_URL"):
        endpoints["lock_store"] = redis_store(url)
    if url := env.get("BOT_ACTION_SERVER_URL"):
        endpoints["action_endpoint"] = {"url": url}
    return endpoints


#: Rasa's conversation lock on Redis, each step atomic (bot/storage/redis_lock_store.py).
LOCK_STORE = "bot.storage.redis_lock_store.RedisTicketLockStore"
#: Rasa's SQL tracker store, remembering each conversation's session between turns.
TRACKER_STORE = "bot.storage.remembering_tracker_store.RememberingTrackerStore"


def sql_store(url: str) -> dict[str, Any]:
    """SQL tracker store settings for a ``postgresql://`` or ``sqlite:///`` URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {
            "type": TRACKER_STORE,
            "dialect": "sqlite",
            "db": parsed.path.lstrip("/") or ".state/tracker.db",
        }
    if parsed.scheme not in {"postgresql", "postgres"}:
        raise ValueError("BOT_TRACKER_STORE_URL must be postgresql://... or sqlite:///...")
    return {
        "type": TRACKER_STORE,
        "dialect": "postgresql",
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 5432,
        "db": parsed.path.lstrip("/") or "postgres",
        "username": parsed.username or "",
        "password": parsed.password or "",
    }


def redis_store(url: str) -> dict[str, Any]:
    """The Redis lock store's settings for a ``redis://host:port/db`` URL (our
    ``RedisTicketLockStore``: Rasa's own is unsafe with more than one Rasa process)."""
    parsed = urlparse(url)
    return {
        "type": LOCK_STORE,
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.path.lstrip("/") or 0),
        "password": parsed.password,
        "key_prefix": "support_bot:lock:",
    }


def runtime_credentials(template: Path, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The channels of ``credentials.yml`` whose variables are all set, with values filled in."""
    channels: dict[str, Any] = yaml.safe_load(template.read_text()) or {}
    enabled: dict[str, Any] = {}
    for name, settings in channels.items():
        needed = _variables(settings)
        if all(env.get(v) for v in needed):
            enabled[name] = _substitute(settings, env)
    return enabled


#: the token-guarded local REST channel (channels/rest)
REST_CHANNEL = "channels.rest.RestInput"
_LOCAL_CHANNELS = {"rest", REST_CHANNEL, "channels.local.LocalInput"}


def external_channels(credentials: Mapping[str, Any]) -> list[str]:
    """Enabled channels other than the local REST one."""
    return [name for name in credentials if name not in _LOCAL_CHANNELS]


def with_rest_channel(
    credentials: Mapping[str, Any], env: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """``credentials`` with our REST channel in place of Rasa's stock one: on when no Slack
    or Telegram channel is configured, otherwise only with ``BOT_REST_ENABLED=true``."""
    channels = {k: v for k, v in credentials.items() if k not in _LOCAL_CHANNELS}
    enabled = (env.get("BOT_REST_ENABLED") or "").strip().lower() == "true"
    if enabled or not channels:
        channels[REST_CHANNEL] = None
    return channels


def _variables(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_VARIABLE.findall(value))
    if isinstance(value, dict):
        return set().union(*(_variables(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_variables(v) for v in value)) if value else set()
    return set()


def _substitute(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: env[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    return value
