"""Telegram agents' pings: the handoff ``Notifier`` posting into the agents' group.

Switched on by ``TELEGRAM_AGENT_CHAT_ID`` (``bot.handoff.service.NOTIFIERS``). The ping is
an HTML message (``agent_render.ping_html``) with Claim / Resolve buttons; its reference
``telegram:<chat_id>:<message_id>`` is kept as the ticket's ``ping_ref`` so the agents'
presses and replies (``channels.telegram.agent_desk``) lead back to the ticket. The
customer's messages and reminders are posted as replies to the ping.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.delivery.retry import send_with_retry
from bot.delivery.store import DeliveryStore, delivery_store_from_env
from bot.handoff.agent_posts import AgentPosts
from bot.handoff.tickets import Ticket
from channels.telegram.agent_render import (
    FORGOTTEN_TEXT,
    PREFIX,
    PingRef,
    callback_html,
    customer_said_html,
    parse_ping_ref,
    ping_html,
    ping_keyboard,
    reminder_html,
)
from channels.telegram.output import retry_after, retryable

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], datetime]
NAMES_KEPT = 500  # agents' names remembered for the pings


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TelegramAgentNotifier:
    """Pings the agents' group and keeps the ping current (implements ``Notifier``)."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        *,
        store_factory: Callable[[], DeliveryStore] = delivery_store_from_env,
        clock: Clock = _utc_now,
        attempts: int = 5,
        base_delay: float = 0.5,
        posts: AgentPosts | None = None,
    ) -> None:
        self._posts = posts  # remembers replies to pings, so forget-me can remove them
        self._bot, self._chat_id = bot, chat_id
        self._store_factory = store_factory
        self._store: DeliveryStore | None = None
        self._clock = clock
        self._attempts, self._base_delay = attempts, base_delay
        self._names: dict[str, str] = {}
        self._started = False
        self._start_lock = asyncio.Lock()

    @property
    def chat_id(self) -> int:
        return self._chat_id

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        html = ping_html(ticket, self._clock())
        keyboard = ping_keyboard(ticket)
        message = await self._call(
            lambda: self._bot.send_message(
                self._chat_id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard
            ),
            ticket,
            {"chat_id": self._chat_id, "text": html, "parse_mode": "HTML"},
        )
        ref = PingRef(message.chat.id, message.message_id)
        logger.info("ticket %s pinged in Telegram as %s", ticket.id, ref)
        return str(ref)

    async def ticket_changed(self, ticket: Ticket) -> None:
        ref = self._ref(ticket)
        if ref is None:
            logger.debug("ticket %s has no Telegram ping to update", ticket.id)
            return
        names = await self._agent_names(ticket.claimed_by)
        html = ping_html(ticket, self._clock(), names)
        keyboard = ping_keyboard(ticket)

        async def edit() -> Any:
            try:
                return await self._bot.edit_message_text(
                    html,
                    chat_id=ref.chat_id,
                    message_id=ref.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,  # None: the keyboard goes
                )
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return None  # the same update arrived twice
                raise

        await self._call(edit, ticket, {"chat_id": ref.chat_id, "message_id": ref.message_id})

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        await self._reply_to_ping(ticket, customer_said_html(ticket, text))

    async def remind(self, ticket: Ticket) -> None:
        await self._reply_to_ping(ticket, reminder_html(ticket, self._clock()))

    async def callback_requested(self, ticket: Ticket) -> None:
        await self._reply_to_ping(ticket, callback_html(ticket))

    async def forget(self, ticket: Ticket) -> None:
        """Deletes the ping and every remembered reply about the ticket (``deleteMessage``);
        a message that cannot be deleted (older than 48 hours) is redacted instead
        (``editMessageText``)."""
        refs = await self._posts.of(ticket) if self._posts else [ticket.ping_ref or ""]
        for ref in filter(None, map(parse_ping_ref, refs)):
            if ref.chat_id == self._chat_id:
                await self._remove(ticket, ref)

    async def _remove(self, ticket: Ticket, ref: PingRef) -> None:
        where = {"chat_id": ref.chat_id, "message_id": ref.message_id}
        try:
            await self._call(
                lambda: self._bot.delete_message(ref.chat_id, ref.message_id), ticket, where
            )
        except Exception as deleting:
            if "not found" in str(deleting):
                return  # already gone (an agent deleted it, or a forget-me retried)
            try:
                await self._call(
                    lambda: self._bot.edit_message_text(
                        FORGOTTEN_TEXT, chat_id=ref.chat_id, message_id=ref.message_id
                    ),
                    ticket,
                    where,
                )
            except Exception as redacting:
                logger.error(
                    "could not delete (%s) nor redact (%s) the agents' message %s",
                    type(deleting).__name__,
                    type(redacting).__name__,
                    ref.message_id,
                )
                raise

    def remember_name(self, agent_id: str, name: str) -> None:
        """The display name of an agent (shown in "Claimed by")."""
        if len(self._names) >= NAMES_KEPT:
            self._names.pop(next(iter(self._names)))
        self._names[agent_id] = name

    # --- helpers ----------------------------------------------------------------------

    def _ref(self, ticket: Ticket) -> PingRef | None:
        ref = parse_ping_ref(ticket.ping_ref)
        return ref if ref is not None and ref.chat_id == self._chat_id else None

    async def _reply_to_ping(self, ticket: Ticket, html: str) -> None:
        ref = self._ref(ticket)
        reply = (
            ReplyParameters(ref.message_id, allow_sending_without_reply=True)
            if ref is not None
            else None
        )
        sent = await self._call(
            lambda: self._bot.send_message(
                self._chat_id, html, parse_mode=ParseMode.HTML, reply_parameters=reply
            ),
            ticket,
            {"chat_id": self._chat_id, "text": html, "parse_mode": "HTML"},
        )
        if self._posts is not None:
            await self._posts.record(ticket, str(PingRef(sent.chat.id, sent.message_id)))

    async def _agent_names(self, agent_id: str | None) -> dict[str, str]:
        """The claiming agent's name: remembered, else from ``getChatMember`` (best effort)."""
        prefix, _, user = (agent_id or "").partition(":")
        if agent_id and agent_id not in self._names and prefix == PREFIX and user.isdigit():
            try:
                await self._start()
                member = await self._bot.get_chat_member(self._chat_id, int(user))
                self.remember_name(agent_id, member.user.first_name)
            except TelegramError as error:
                logger.warning("getChatMember failed for %s: %s", agent_id, type(error).__name__)
        return dict(self._names)

    async def _start(self) -> None:
        async with self._start_lock:
            if not self._started:
                await self._bot.initialize()
                self._started = True

    async def _call(
        self, call: Callable[[], Awaitable[T]], ticket: Ticket, payload: Mapping[str, Any]
    ) -> T:
        """A Bot API call with the channel's retries (``retry_after``, backoff); the final
        failure is recorded in the delivery store and raised (``DeliveryFailed``)."""
        await self._start()
        if self._store is None:
            self._store = self._store_factory()
        store = self._store

        async def give_up(error: BaseException) -> None:
            await store.record_failure(
                f"{PREFIX}-agents",
                ticket.conversation_id,
                dict(payload),
                f"{type(error).__name__}: {error}",
            )

        return await send_with_retry(
            call,
            retry_after=retry_after,
            retryable=retryable,
            attempts=self._attempts,
            base_delay=self._base_delay,
            on_give_up=give_up,
        )


def agent_bot(env: Mapping[str, str] = os.environ) -> Bot:
    """The Bot API client of the agents' side: ``TELEGRAM_BOT_TOKEN``,
    ``TELEGRAM_API_BASE_URL`` (for a local Bot API server or tests)."""
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token or ":" not in token:
        raise ValueError("Telegram agents need a bot token (TELEGRAM_BOT_TOKEN)")
    base_url = env.get("TELEGRAM_API_BASE_URL", "").strip()
    if not base_url:
        return Bot(token)
    head, _, tail = base_url.rstrip("/").rpartition("/")
    return Bot(token, base_url=base_url, base_file_url=f"{head}/file/{tail}")


def agent_chat_id(env: Mapping[str, str] = os.environ) -> int:
    """``TELEGRAM_AGENT_CHAT_ID``: the agents' group (a negative number such as -100123...)."""
    raw = env.get("TELEGRAM_AGENT_CHAT_ID", "").strip()
    if not raw:
        raise ValueError("TELEGRAM_AGENT_CHAT_ID is not set")
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"TELEGRAM_AGENT_CHAT_ID must be the group's numeric id, not {raw!r}"
        ) from None


def notifier_from_env(env: Mapping[str, str] = os.environ) -> TelegramAgentNotifier:
    """``TELEGRAM_AGENT_CHAT_ID``, ``TELEGRAM_BOT_TOKEN``, optional ``TELEGRAM_API_BASE_URL``."""
    return TelegramAgentNotifier(agent_bot(env), agent_chat_id(env), posts=AgentPosts())
