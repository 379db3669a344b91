"""Agents at work in the Telegram agents' group: Claim / Resolve presses and replies.

A thin adapter: it recognises an agent's update in the agents' group, checks that the
person is a member of that group (``getChatMember``, cached briefly) and that the message
really belongs to the ticket, then calls the desk
(``bot.handoff.service.handoff_services().desk``). Nothing from the agents' group ever
reaches Rasa as a customer message, and the handoff buttons count only on messages in
that group.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from telegram import Bot, CallbackQuery, Message, ReplyParameters, Update
from telegram.error import TelegramError

from bot.delivery.retry import DeliveryFailed, send_with_retry
from bot.delivery.store import DeliveryStore
from bot.handoff.desk import Agent
from bot.handoff.tickets import HandoffError, Ticket
from channels.telegram.agent_render import (
    PREFIX,
    PingRef,
    parse_callback,
    parse_ping_ref,
    refusal_text,
    ticket_id_of,
)
from channels.telegram.output import retry_after, retryable

if TYPE_CHECKING:
    from bot.handoff.service import HandoffServices

logger = logging.getLogger(__name__)

T = TypeVar("T")
MEMBERS_TTL = 30.0  # seconds a getChatMember answer is trusted
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
ANSWER_LIMIT = 200  # characters of a callback answer's text
_RESOLVE = re.compile(r"^/?resolve(@\w+)?$", re.IGNORECASE)

ActionName = Literal["claim", "resolve", "reply"]


@dataclass(frozen=True)
class AgentReply:
    """An agent's message replying to one of the bot's ticket messages in the group."""

    user_id: int
    first_name: str
    text: str
    message_id: int
    replied_to: int  # the bot's message the agent replied to
    replied_ticket: int | None  # the ticket named in that message's first line

    @property
    def resolves(self) -> bool:
        return _RESOLVE.match(self.text.strip()) is not None


def agent_reply(message: Message, chat_id: int, bot_id: int) -> AgentReply | str:
    """A message of the agents' group as an agent's reply to a ticket, or why it is not."""
    if message.chat.id != chat_id:
        return "not the agents' group"
    user, reply = message.from_user, message.reply_to_message
    if user is None or user.is_bot:
        return "a bot's or an anonymous message"
    if reply is None or reply.from_user is None or reply.from_user.id != bot_id:
        return "agents talking in the group, not replying to a ticket"
    text = (message.text or message.caption or "").strip()
    if not text:
        return "no text"
    return AgentReply(
        user.id,
        user.first_name,
        text,
        message.message_id,
        reply.message_id,
        ticket_id_of(reply.text or reply.caption),
    )


def _default_services() -> HandoffServices:
    from bot.handoff.service import handoff_services  # the first use builds them

    return handoff_services()


class TelegramAgents:
    """The agents' group: membership, and the desk behind the buttons and replies."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        store: DeliveryStore,
        *,
        services: Callable[[], HandoffServices] = _default_services,
        members_ttl: float = MEMBERS_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot, self.chat_id, self._store = bot, chat_id, store
        self._services = services
        self._members_ttl, self._clock = members_ttl, clock
        self._members: dict[int, tuple[float, bool, str]] = {}  # user -> (at, member, name)

    def owns(self, update: Update) -> bool:
        """Whether an update comes from the agents' group (a message or a press there)."""
        query = update.callback_query
        if query is not None:
            message = query.message
            return message is not None and message.chat.id == self.chat_id
        chat = update.effective_chat
        return chat is not None and chat.id == self.chat_id

    async def on_update(self, update: Update) -> None:
        """An update of the agents' group; never raises (failures are logged)."""
        try:
            if update.callback_query is not None:
                await self.on_press(update.callback_query)
            elif update.message is not None:
                await self.on_message(update.message)
        except Exception:
            logger.exception("an agent's action in Telegram failed")

    # --- what agents do ---------------------------------------------------------------

    async def on_press(self, query: CallbackQuery) -> None:
        """A Claim / Resolve press; the press is always answered (exactly once)."""
        answered = False

        async def answer(text: str | None = None, alert: bool = False) -> None:
            nonlocal answered
            if not answered:
                answered = True
                await self._answer(query, text, alert)

        try:
            parsed = parse_callback(query.data)
            message = query.message
            if parsed is None or message is None or message.chat.id != self.chat_id:
                logger.warning("ignoring a button press in the agents' group: %r", query.data)
                return
            action, ticket_id = parsed
            user = query.from_user
            if not await self.is_member(user.id, user.first_name):
                logger.warning("refused a handoff %s by %s (not an agent)", action, user.id)
                await answer(refusal_text(), alert=True)
                return
            ticket = await self._services().store.get(ticket_id)
            ping = PingRef(message.chat.id, message.message_id)
            if ticket is None or ticket.ping_ref != str(ping):
                logger.warning("a %s press for ticket %s off its ping", action, ticket_id)
                await answer(f"That button does not belong to ticket {ticket_id}'s ping.", True)
                return
            text, alert = await self._act(self._agent(user.id, user.first_name), action, ticket)
            await answer(text, alert)
        finally:
            await answer()

    async def on_message(self, message: Message) -> None:
        """A reply to a ticket's message: sent to the customer, or ``/resolve``."""
        decision = agent_reply(message, self.chat_id, self._bot.id)
        if isinstance(decision, str):
            logger.debug("agents' group: %s", decision)
            return
        ticket = await self._ticket_of(decision)
        if ticket is None:
            logger.debug("agents' group: a reply to a message that is not about a ticket")
            return
        if not await self.is_member(decision.user_id, decision.first_name):
            logger.warning("refused a reply by %s (not an agent)", decision.user_id)
            await self.tell(refusal_text("answer or resolve tickets"), decision.message_id)
            return
        agent = self._agent(decision.user_id, decision.first_name)
        action: ActionName = "resolve" if decision.resolves else "reply"
        text, alert = await self._act(agent, action, ticket, decision.text)
        if alert:
            await self.tell(text, decision.message_id)

    async def _ticket_of(self, reply: AgentReply) -> Ticket | None:
        store = self._services().store
        ticket = await store.find_by_ping_ref(str(PingRef(self.chat_id, reply.replied_to)))
        if ticket is None and reply.replied_ticket is not None:
            # a reply to a relayed customer message or a reminder: "Ticket <id>" first
            ticket = await store.get(reply.replied_ticket)
            ref = parse_ping_ref(ticket.ping_ref) if ticket is not None else None
            if ref is None or ref.chat_id != self.chat_id:
                return None
        return ticket

    async def _act(
        self, agent: Agent, action: ActionName, ticket: Ticket, text: str = ""
    ) -> tuple[str, bool]:
        """Runs the desk; returns what to tell the agent and whether it is a problem."""
        desk = self._services().desk
        try:
            if action == "claim":
                result = await desk.claim(ticket.id, agent)
                return self._named(result.message, result.owner), not result.won
            if action == "resolve":
                await desk.resolve(ticket.id, agent)
                return f"Ticket {ticket.id} resolved; the bot has taken over.", False
            await desk.reply(ticket.id, agent, text)
            return f"Sent to the customer of ticket {ticket.id}.", False
        except HandoffError as error:  # not the owner, already resolved, deleted ...
            return self._named(str(error), ticket.claimed_by), True
        except Exception:
            logger.exception("the desk failed to %s ticket %s", action, ticket.id)
            return f"Sorry, I could not {action} ticket {ticket.id} just now; try again.", True

    def _named(self, message: str, owner: str | None) -> str:
        """``telegram:<id>`` in a desk message replaced by the agent's name when known."""
        prefix, _, user = (owner or "").partition(":")
        if owner and prefix == PREFIX and user.isdigit():
            known = self._members.get(int(user))
            if known is not None and known[2]:
                return message.replace(owner, known[2])
        return message

    @staticmethod
    def _agent(user_id: int, first_name: str) -> Agent:
        return Agent(id=f"{PREFIX}:{user_id}", name=first_name or str(user_id))

    # --- who may ----------------------------------------------------------------------

    async def is_member(self, user_id: int, name: str = "") -> bool:
        """Whether ``user_id`` is a member of the agents' group (creator, administrator or
        member), from ``getChatMember``, cached for ``members_ttl`` seconds. When Telegram
        cannot be asked the answer is no."""
        now = self._clock()
        cached = self._members.get(user_id)
        if cached is not None and now - cached[0] < self._members_ttl:
            return cached[1]
        try:
            member = await self._call(
                lambda: self._bot.get_chat_member(self.chat_id, user_id),
                {"chat_id": self.chat_id, "user_id": user_id},
            )
        except DeliveryFailed as error:
            logger.error("could not check the agents' group membership: %s", error)
            return False
        allowed = str(member.status) in MEMBER_STATUSES
        self._members[user_id] = (now, allowed, member.user.first_name or name)
        return allowed

    # --- telling the agent ------------------------------------------------------------

    async def tell(self, text: str, reply_to: int | None = None) -> None:
        """A plain-text notice in the agents' group, replying to the agent's message."""
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            await self._call(
                lambda: self._bot.send_message(self.chat_id, text, reply_parameters=reply),
                {"chat_id": self.chat_id, "text": text},
            )
        except DeliveryFailed:
            logger.error("could not tell the agents' group: %s", text)

    async def _answer(self, query: CallbackQuery, text: str | None, alert: bool) -> None:
        try:
            if text:
                await query.answer(text[:ANSWER_LIMIT], show_alert=alert)
            else:
                await query.answer()
        except TelegramError as error:
            logger.warning("answerCallbackQuery failed: %s", type(error).__name__)

    async def _call(self, call: Callable[[], Awaitable[T]], payload: dict[str, Any]) -> T:
        store = self._store

        async def give_up(error: BaseException) -> None:
            await store.record_failure(
                f"{PREFIX}-agents", str(self.chat_id), payload, f"{type(error).__name__}: {error}"
            )

        return await send_with_retry(
            call, retry_after=retry_after, retryable=retryable, attempts=3, on_give_up=give_up
        )
