"""Button payloads bound to the conversation the bot sent them to.

A button the bot sends carries its payload (``/choose_faq{"faq_id": ...}``, ``/csat{...}``)
sealed with an HMAC of the conversation id and the payload, keyed by
``BOT_PAYLOAD_SECRET``. A press is accepted only when the seal matches the conversation it
comes from, so a forged Slack action value, Telegram ``callback_data`` or REST message
cannot trigger an internal intent, and a button cannot be replayed in another conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import MutableMapping

logger = logging.getLogger(__name__)

#: The environment variable holding the key (shared by every Rasa process of a deployment).
SECRET_SETTING = "BOT_PAYLOAD_SECRET"
#: Separates the payload from its seal: ``<payload>~<tag>``.
SEPARATOR = "~"
#: Bytes of HMAC-SHA256 kept in a seal (64 bits: 11 characters of URL-safe base64).
TAG_BYTES = 8
#: Characters a seal adds to a payload.
SEAL_CHARS = len(SEPARATOR) + 11
_TAG = re.compile(r"[A-Za-z0-9_-]{11}")


class PayloadSeal:
    """Seals button payloads for one conversation and opens pressed ones."""

    def __init__(self, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("the payload secret is empty")
        self._key = secret.encode() if isinstance(secret, str) else secret

    @classmethod
    def from_env(cls, env: MutableMapping[str, str] = os.environ) -> PayloadSeal:
        """The seal keyed by ``BOT_PAYLOAD_SECRET``. Without it (a plain ``rasa run``) a random
        key is set for this process, once, so buttons work until the process restarts."""
        if not env.get(SECRET_SETTING):
            logger.warning(
                "%s is not set: buttons sent by this process stop working when it restarts "
                "(bot run sets it; set it in production, the same on every Rasa server)",
                SECRET_SETTING,
            )
            env[SECRET_SETTING] = secrets.token_urlsafe(32)
        return cls(env[SECRET_SETTING])

    def _tag(self, conversation_id: str, data: str) -> str:
        message = f"{conversation_id}\x00{data}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:TAG_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def seal(self, conversation_id: str, data: str) -> str:
        """``data`` with the seal that binds it to ``conversation_id``."""
        return f"{data}{SEPARATOR}{self._tag(conversation_id, data)}"

    @staticmethod
    def looks_sealed(value: str) -> bool:
        """Whether ``value`` has the form of a sealed payload (for any conversation)."""
        data, separator, tag = value.rpartition(SEPARATOR)
        return bool(separator and data and _TAG.fullmatch(tag))

    def open(self, conversation_id: str, value: str) -> str | None:
        """The sealed data when ``value`` was sealed for ``conversation_id``; else None."""
        data, separator, tag = value.rpartition(SEPARATOR)
        if not separator or not hmac.compare_digest(tag, self._tag(conversation_id, data)):
            return None
        return data
