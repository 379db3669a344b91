"""The two ways Slack reaches the bot: HTTP Events API requests and a Socket Mode connection."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

logger = logging.getLogger(__name__)
MAX_AGE = 5 * 60  # seconds: older signed requests are replays


def rejection(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> str | None:
    """Why a request must be rejected (None when its signature is valid). Never includes secrets."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lower.get("x-slack-request-timestamp"), lower.get("x-slack-signature")
    if not timestamp or not signature:
        return "missing signature headers"
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return "malformed timestamp"
    if abs(age) > MAX_AGE:
        return f"timestamp {int(age)}s off (more than {MAX_AGE}s)"
    if not _same(expected_signature(secret, timestamp, body), signature):
        return "signature mismatch"
    return None


def malformed(body: bytes, content_type: str | None) -> str | None:
    """Why a (validly signed) request body cannot be an event or an interaction, None when it
    can: Slack sends a JSON object, or a form whose ``payload`` is a JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    fields = parse_qs(text) if "json" not in (content_type or "") else {}
    if "payload" in fields:
        text = fields["payload"][0]
    elif "json" not in (content_type or "") and not text.lstrip().startswith("{"):
        return None  # a plain form: bolt answers it (e.g. a slash command it does not know)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return "malformed JSON"
    return None if isinstance(parsed, dict) else "not a JSON object"


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature of a request: HMAC-SHA256 of ``v0:<timestamp>:<body>``, computed
    over the raw bytes (a body that is not UTF-8 is refused, never an error)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode(errors="replace"))


class SocketTransport:
    """Keeps a Socket Mode connection open from server start to shutdown."""

    def __init__(self, app: AsyncApp, app_token: str, retry_delay: float = 2.0) -> None:
        self._handler = AsyncSocketModeHandler(app, app_token)
        self._retry_delay = retry_delay
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connects in the background (retrying), so a Slack outage never blocks start-up."""
        self._task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        delay = self._retry_delay
        while True:
            try:
                await self._handler.connect_async()  # type: ignore[no-untyped-call]
                logger.info("Slack Socket Mode connected")
                return
            except Exception as error:
                logger.warning(
                    "Slack Socket Mode connection failed (%s); retrying in %.0fs",
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._handler.close_async()  # type: ignore[no-untyped-call]
