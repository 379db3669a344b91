"""The webhook transport: Telegram POSTs updates to ``/webhooks/telegram/webhook``."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Update
from telegram.ext import Application

from channels.telegram.settings import TelegramSettings

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time check of the ``X-Telegram-Bot-Api-Secret-Token`` header."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


async def receive(
    request: Request, settings: TelegramSettings, application: AnyApplication | None
) -> HTTPResponse:
    """Verifies the secret, queues the update for the Application, acknowledges at once."""
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
        update = Update.de_json(request.json, application.bot)
    except Exception:
        return response.json({"ok": False}, status=400)
    if update is not None:
        await application.update_queue.put(update)
    return response.json({"ok": True})
