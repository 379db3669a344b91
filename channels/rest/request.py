"""A REST channel request checked and translated: pure functions, no I/O."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from bot.runtime.json_body import BadBody, parse_json_object
from channels.rest.ids import conversation_id


@dataclass(frozen=True)
class RestMessage:
    """What a REST request asks: a message in one conversation."""

    conversation_id: str
    text: str


def authorised(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    return hmac.compare_digest((header or "").encode(), f"Bearer {token}".encode())


def rest_message(body: bytes | None) -> RestMessage:
    """The message in a request body (Rasa's REST format: ``{"sender", "message"}``);
    :class:`BadBody` for anything else."""
    payload = parse_json_object(body)
    sender, text = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not sender:
        raise BadBody("'sender' must be a non-empty string")
    if not isinstance(text, str):
        raise BadBody("'message' must be a string")
    return RestMessage(conversation_id(sender), text)
