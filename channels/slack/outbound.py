"""Bot messages to Slack: rendered, posted with retries, recorded when undeliverable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from rasa.core.channels.channel import OutputChannel
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.retry import DeliveryFailed, send_with_retry
from bot.delivery.store import DeliveryStore
from bot.inbound.seal import PayloadSeal
from bot.responses.model import Reply
from channels.slack.ids import parse_sender_id
from channels.slack.render import render_reply

logger = logging.getLogger(__name__)
T = TypeVar("T")
CHANNEL = "slack"


def retry_after(error: BaseException) -> float | None:
    """Slack's ``Retry-After`` seconds of a 429 answer."""
    if isinstance(error, SlackApiError) and error.response.status_code == 429:
        headers = {k.lower(): v for k, v in (error.response.headers or {}).items()}
        try:
            return max(0.0, float(headers.get("retry-after", 1)))
        except (TypeError, ValueError):
            return 1.0
    return None


def retryable(error: BaseException) -> bool:
    """Network errors, timeouts and Slack 5xx answers are worth another try."""
    if isinstance(error, SlackApiError):
        return bool(error.response.status_code >= 500)
    return isinstance(error, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError))


def describe(error: BaseException) -> str:
    """The error for logs and the failure record: Slack's error code, never a token."""
    if isinstance(error, SlackApiError):
        return f"slack {error.response.status_code}: {error.response.get('error')}"
    return type(error).__name__


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    store: DeliveryStore,
    sender_id: str,
    payload: Mapping[str, Any],
) -> T:
    """Runs a Web API call with retries; the final failure is recorded in the store."""

    async def give_up(error: BaseException) -> None:
        await store.record_failure(CHANNEL, sender_id, dict(payload), describe(error))

    return await send_with_retry(
        call, retry_after=retry_after, retryable=retryable, on_give_up=give_up
    )


class SlackOutput(OutputChannel):
    """Sends Rasa's messages with ``chat.postMessage``; the sender id says where."""

    def __init__(self, client: AsyncWebClient, store: DeliveryStore, seal: PayloadSeal) -> None:
        self._client = client
        self._store = store
        self._seal = seal
        self._stopped: str | None = None  # why posting stopped (a revoked token)

    def stop(self, reason: str) -> None:
        """No more Web API calls (the token is revoked); messages are recorded instead."""
        self._stopped = reason

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        reply = Reply.from_rasa(message).sealed(lambda data: self._seal.seal(recipient_id, data))
        if reply.custom and not any(k in reply.custom for k in ("blocks", "attachments", "text")):
            logger.info(
                "custom payload without Slack blocks/text is not shown in Slack (keys: %s)",
                sorted(reply.custom),
            )
        for payload in render_reply(reply):
            await self.post(recipient_id, payload)

    async def post(self, recipient_id: str, payload: Mapping[str, Any]) -> None:
        """Posts one rendered message into the conversation ``recipient_id``."""
        conversation = parse_sender_id(recipient_id)
        kwargs: dict[str, Any] = {"channel": conversation.channel, **payload}
        if conversation.thread_ts:
            kwargs["thread_ts"] = conversation.thread_ts
        if self._stopped is not None:
            await self._store.record_failure(CHANNEL, recipient_id, kwargs, self._stopped)
            logger.info("not posting to Slack for %s: %s", recipient_id, self._stopped)
            return
        try:
            await call_with_retry(
                lambda: self._client.chat_postMessage(**kwargs), self._store, recipient_id, kwargs
            )
        except DeliveryFailed as error:
            logger.error(
                "undeliverable Slack message for %s recorded in the delivery store (%s)",
                recipient_id,
                describe(error.__cause__ or error),
            )
