"""Where the bot's own data lives: PostgreSQL when BOT_DATABASE_URL says so, else SQLite."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_SQLITE_PATH = Path(".state/bot.db")


def database_url(env: Mapping[str, str] = os.environ) -> str | None:
    """The PostgreSQL URL from ``BOT_DATABASE_URL``, or None for the embedded SQLite file."""
    url = env.get("BOT_DATABASE_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("BOT_DATABASE_URL must be a postgresql:// URL (unset it for SQLite)")
    return url


def sqlite_path(env: Mapping[str, str] = os.environ) -> Path:
    """The embedded database file (``BOT_SQLITE_PATH``, default ``.state/bot.db``)."""
    return Path(env.get("BOT_SQLITE_PATH") or DEFAULT_SQLITE_PATH)
