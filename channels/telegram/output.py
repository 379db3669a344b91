"""Rasa's output channel for Telegram: renders replies and sends them with retries.

A message that still fails after the retries is recorded in the DeliveryStore (with the
conversation id and the rendered payload), never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import OutputChannel
from telegram import Bot, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.delivery.retry import DeliveryFailed, send_with_retry
from bot.delivery.store import DeliveryStore
from bot.inbound.seal import PayloadSeal
from bot.responses.model import Reply
from channels.telegram.inbound import PREFIX, route
from channels.telegram.payload_keys import PayloadKeys
from channels.telegram.render import OutgoingMessage, long_payloads, render_reply

logger = logging.getLogger(__name__)


def retry_after(error: BaseException) -> float | None:
    """Telegram's requested wait (HTTP 429), in seconds."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
    return None


def retryable(error: BaseException) -> bool:
    """Network trouble is worth another try; a refused request (400, 403, 401) is not."""
    refused = (BadRequest, Forbidden, InvalidToken)
    return isinstance(error, NetworkError) and not isinstance(error, refused)


class TelegramOutput(OutputChannel):
    """Sends to the chat encoded in the conversation id; optionally as a reply in groups."""

    def __init__(
        self,
        bot: Bot,
        store: DeliveryStore,
        keys: PayloadKeys,
        seal: PayloadSeal,
        *,
        reply_to: int | None = None,
        attempts: int = 5,
        base_delay: float = 0.5,
        typing_after: float = 0.0,
    ) -> None:
        self._bot, self._store, self._keys, self._seal = bot, store, keys, seal
        self._reply_to = reply_to
        self._attempts, self._base_delay = attempts, base_delay
        self._typing_after = typing_after
        self._typing: asyncio.Task[None] | None = None
        self._typing_sent = False

    @classmethod
    def name(cls) -> str:
        return PREFIX

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.deliver(recipient_id, Reply.from_rasa(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.deliver(recipient_id, Reply(text=text))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.deliver(recipient_id, Reply.from_rasa({"text": text, "buttons": buttons}))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.deliver(recipient_id, Reply(image=image))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        logger.debug("custom payload not rendered on Telegram for %s", recipient_id)

    async def deliver(self, recipient_id: str, reply: Reply) -> list[Message]:
        """Renders ``reply`` and sends every part in order; returns what Telegram accepted."""
        chat_id = route(recipient_id)
        reply = reply.sealed(lambda data: self._seal.seal(recipient_id, data))
        await self.typing_done()  # "typing…" must never show up after the answer
        keys = {payload: await self._keys.remember(payload) for payload in long_payloads(reply)}
        sent: list[Message] = []
        for part in render_reply(reply, keys):
            message = await self._send_part(recipient_id, chat_id, part)
            if message is not None:
                sent.append(message)
        return sent

    def start_typing(self, recipient_id: str) -> None:
        """Shows "typing…" if the turn takes longer than ``typing_after`` seconds (best
        effort, never retried). A quick answer needs no indicator, and its call would only
        slow the answer down.

        The call runs alongside Rasa, off the answer's path; ``deliver`` waits for one that
        has started, so the indicator never arrives after the answer.
        """
        if self._typing is None:
            self._typing = asyncio.create_task(self._send_typing(recipient_id))

    async def typing_done(self) -> None:
        """Drops a "typing…" still waiting for its moment, or waits for the one being sent."""
        task = self._typing
        if task is None:
            return
        if not self._typing_sent:
            task.cancel()
        await asyncio.wait([task])

    async def _send_typing(self, recipient_id: str) -> None:
        if self._typing_after > 0:
            await asyncio.sleep(self._typing_after)
        self._typing_sent = True
        try:
            await self._bot.send_chat_action(route(recipient_id), "typing")
        except Exception as error:
            logger.debug("sendChatAction failed: %s", type(error).__name__)

    async def _send_part(
        self, recipient_id: str, chat_id: int, part: OutgoingMessage
    ) -> Message | None:
        reply_parameters = (
            ReplyParameters(self._reply_to, allow_sending_without_reply=True)
            if self._reply_to
            else None
        )
        if part.photo:
            call: Callable[[], Awaitable[Message]] = lambda: self._bot.send_photo(  # noqa: E731
                chat_id, part.photo or "", reply_parameters=reply_parameters
            )
            payload = {"chat_id": chat_id, "photo": part.photo}
        else:
            call = lambda: self._bot.send_message(  # noqa: E731
                chat_id,
                part.html,
                parse_mode=ParseMode.HTML,
                reply_markup=part.keyboard,
                reply_parameters=reply_parameters,
            )
            payload = {
                "chat_id": chat_id,
                "text": part.html,
                "parse_mode": "HTML",
                "reply_markup": part.keyboard.to_dict() if part.keyboard else None,
            }

        async def give_up(error: BaseException) -> None:
            await self._store.record_failure(
                PREFIX, recipient_id, payload, f"{type(error).__name__}: {error}"
            )

        try:
            return await send_with_retry(
                call,
                retry_after=retry_after,
                retryable=retryable,
                attempts=self._attempts,
                base_delay=self._base_delay,
                on_give_up=give_up,
            )
        except DeliveryFailed:
            logger.warning("undeliverable Telegram message for %s recorded", recipient_id)
            return None
