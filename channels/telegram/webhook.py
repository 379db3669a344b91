"""The webhook transport: Telegram POSTs updates to ``/webhooks/telegram/webhook``."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Update
from telegram.ext import Application

from channels.telegram.lenient import parse_update
from channels.telegram.settings import TelegramSettings

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time check of the ``X-Telegram-Bot-Api-Secret-Token`` header."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


async def receive(
    request: Request,
    settings: TelegramSettings,
    application: AnyApplication | None,
    record: Callable[[Update], Awaitable[bool]] | None = None,
) -> HTTPResponse:
    """Verifies the secret, records the update durably (``record``: False for a duplicate),
    queues it for the Application and acknowledges; 503 when it cannot be recorded, so
    Telegram delivers it again. An update python-telegram-bot cannot parse is repaired or
    logged, and acknowledged all the same (an error status makes Telegram redeliver it for
    hours)."""
    secret = settings.secret_token
    if settings.mode != "webhook" or not secret:
        return response.json({"ok": False, "description": "webhook disabled"}, status=404)
    given = request.headers.get(SECRET_HEADER)
    if not secret_matches(given, secret):
        reason = "missing" if not given else "wrong"
        logger.warning("Telegram webhook rejected (%s secret token) from %s", reason, request.ip)
        return response.json({"ok": False}, status=403)
    if application is None:
        return response.json({"ok": False, "description": "not started"}, status=503)
    try:
        data = json.loads(request.body)
    except ValueError:
        logger.error(
            "Telegram webhook: a body that is not JSON (%d bytes) ignored", len(request.body)
        )
        return response.json({"ok": True})  # answering an error would only make Telegram retry
    update = parse_update(data, application.bot).update
    if update is None:
        return response.json({"ok": True})
    if record is not None:
        try:
            fresh = await record(update)
        except Exception:
            logger.exception("could not record Telegram update %s", update.update_id)
            return response.json({"ok": False, "description": "try again"}, status=503)
        if not fresh:
            return response.json({"ok": True})
    await application.update_queue.put(update)
    return response.json({"ok": True})
