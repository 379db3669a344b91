"""The Bot API's wire format and rules beyond types, for the fake server."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.testing.telegram_html import HtmlError, visible_text

MAX_TEXT = 4096
CALLBACK_DATA_MAX_BYTES = 64


@dataclass
class ApiCall:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class ApiError(Exception):
    """A request real Telegram refuses with 400 Bad Request."""


def error_response(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


async def read_params(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Query string plus body; True when the body was a form (values are JSON-encoded)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json() if request.can_read_body else {})
        return params, False
    if request.can_read_body:
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return params, True


def visible_message_text(values: dict[str, Any]) -> str:
    """The text the customer would see; raises :class:`ApiError` like Telegram."""
    text = str(values.get("text", ""))
    try:
        visible = visible_text(text) if values.get("parse_mode") == "HTML" else text
    except HtmlError as error:
        raise ApiError(f"can't parse entities: {error}") from error
    if not visible.strip() and "photo" not in values:
        raise ApiError("message text is empty")
    if len(visible) > MAX_TEXT:
        raise ApiError("message is too long")
    return visible


def check_markup(markup: Any) -> None:
    """Inline keyboard rules: callback_data at most 64 bytes, non-empty labels."""
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > CALLBACK_DATA_MAX_BYTES:
                raise ApiError("BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise ApiError("BUTTON_TEXT_INVALID")
