"""The bot's personalisation level: ``BOT_PERSONALISATION`` = off | name | full (default
full). A customer may choose less for themselves, never more."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.profiles.model import Level

DEFAULT_LEVEL = Level.FULL


def bot_level(env: Mapping[str, str] = os.environ) -> Level:
    """The level from ``BOT_PERSONALISATION`` (ValueError names the allowed values)."""
    value = env.get("BOT_PERSONALISATION", "").strip()
    return Level.parse(value) if value else DEFAULT_LEVEL
