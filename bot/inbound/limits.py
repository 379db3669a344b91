"""Size limits on customer input, applied by every channel before NLU (docs/security.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Characters of one customer message the bot reads (Telegram's own limit is 4,096).
MAX_MESSAGE_CHARS = 4000
#: The setting that changes :data:`MAX_MESSAGE_CHARS`.
MAX_MESSAGE_CHARS_SETTING = "BOT_MAX_MESSAGE_CHARS"


def max_message_chars(env: Mapping[str, str] = os.environ) -> int:
    """The configured message limit (at least 1; the default when unset or invalid)."""
    try:
        value = int(env.get(MAX_MESSAGE_CHARS_SETTING) or MAX_MESSAGE_CHARS)
    except ValueError:
        return MAX_MESSAGE_CHARS
    return value if value > 0 else MAX_MESSAGE_CHARS
