"""Agents at work in Slack: Claim / Resolve clicks and replies in a ping's thread.

A thin adapter: it recognises an agent's event in the agents' channel, checks that the
person is a member of that channel and that the message really is the ticket's ping,
then calls the desk (``bot.handoff.service.handoff_services().desk``). Nothing from the
agents' channel ever reaches Rasa as a customer message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.retry import DeliveryFailed
from bot.delivery.store import DeliveryStore
from bot.handoff.desk import Agent
from bot.handoff.tickets import HandoffError, Ticket
from channels.slack.agent_render import (
    CLAIM_ACTION,
    PREFIX,
    RESOLVE_ACTION,
    PingRef,
    agent_mrkdwn,
)
from channels.slack.inbound import Ignored, plain_text
from channels.slack.outbound import call_with_retry
from channels.slack.render import escape

if TYPE_CHECKING:
    from bot.handoff.service import HandoffServices

logger = logging.getLogger(__name__)

RESOLVE_WORDS = frozenset({"resolve", "/resolve"})
MEMBERS_TTL = 30.0  # seconds the agents' channel membership is trusted
ACTIONS: Mapping[str, Literal["claim", "resolve"]] = {
    CLAIM_ACTION: "claim",
    RESOLVE_ACTION: "resolve",
}


@dataclass(frozen=True)
class AgentMessage:
    """An agent's message in a thread of the agents' channel."""

    user: str
    text: str
    ping: PingRef  # the thread's root: a ticket's ping if find_by_ping_ref knows it

    @property
    def resolves(self) -> bool:
        return self.text.strip().lower() in RESOLVE_WORDS


@dataclass(frozen=True)
class AgentClick:
    """A Claim or Resolve click on a message in the agents' channel."""

    user: str
    action: Literal["claim", "resolve"]
    ticket_id: int
    ping: PingRef  # the clicked message


def agent_message(
    event: Mapping[str, Any], channel: str, bot_user_id: str | None
) -> AgentMessage | Ignored:
    """A ``message`` event of the agents' channel as an agent's thread reply, or why not."""
    if event.get("channel") != channel:
        return Ignored("not the agents' channel")
    if event.get("type") != "message":
        return Ignored(f"{event.get('type')} events of the agents' channel are not handled")
    if event.get("bot_id") or event.get("subtype") or event.get("user") == bot_user_id:
        return Ignored("a bot's message, an edit or a join in the agents' channel")
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts:
        return Ignored("agents talking in the channel, not in a ping's thread")
    text = plain_text(str(event.get("text") or ""), bot_user_id)
    if not event.get("user") or not text:
        return Ignored("no user or no text")
    return AgentMessage(str(event["user"]), text, PingRef(channel, str(thread_ts)))


def agent_click(body: Mapping[str, Any], channel: str) -> AgentClick | Ignored:
    """A ``block_actions`` payload as an agent's Claim/Resolve, or why it is not one.

    Only clicks on messages in the agents' channel count: the same action_id clicked
    anywhere else (a DM, another channel) is ignored.
    """
    actions = body.get("actions") or []
    action = actions[0] if actions else {}
    kind = ACTIONS.get(str(action.get("action_id")))
    if kind is None:
        return Ignored("not a handoff button")
    container = body.get("container") or {}
    clicked_in = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if clicked_in != channel or container.get("is_ephemeral"):
        return Ignored(f"a handoff button outside the agents' channel ({clicked_in})")
    message_ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    user = (body.get("user") or {}).get("id")
    try:
        ticket_id = int(str(action.get("value")))
    except ValueError:
        return Ignored("a handoff button without a ticket id")
    if not message_ts or not user:
        return Ignored("a click without a message or a user")
    return AgentClick(str(user), kind, ticket_id, PingRef(channel, str(message_ts)))


def _default_services() -> HandoffServices:
    from bot.handoff.service import handoff_services  # the first use builds them

    return handoff_services()


class SlackAgents:
    """The agents' channel: membership, agent names, and the desk behind the buttons."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        store: DeliveryStore,
        *,
        services: Callable[[], HandoffServices] = _default_services,
        members_ttl: float = MEMBERS_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self.channel, self._store = client, channel, store
        self._services = services
        self._members_ttl, self._clock = members_ttl, clock
        self._members: tuple[float, frozenset[str]] | None = None
        self._members_lock = asyncio.Lock()
        self._names: dict[str, str] = {}

    def owns(self, channel: object) -> bool:
        """Whether an event or click comes from the agents' channel."""
        return bool(channel) and channel == self.channel

    # --- what agents do -------------------------------------------------------------

    async def on_event(self, event: Mapping[str, Any], bot_user_id: str | None) -> None:
        """An event of the agents' channel: a reply or ``resolve`` in a ping's thread."""
        decision = agent_message(event, self.channel, bot_user_id)
        if isinstance(decision, Ignored):
            logger.debug("agents' channel: %s", decision.reason)
            return
        services = self._services()
        ticket = await services.store.find_by_ping_ref(str(decision.ping))
        if ticket is None:
            logger.debug("agents' channel: a thread that is not a ticket's ping")
            return
        thread = decision.ping.ts
        if not await self._allowed(decision.user, thread):
            return
        await self._act(
            decision.user,
            thread,
            "resolve" if decision.resolves else "reply",
            ticket,
            decision.text,
        )

    async def on_click(self, body: Mapping[str, Any]) -> None:
        """A Claim / Resolve click (already acknowledged)."""
        decision = agent_click(body, self.channel)
        if isinstance(decision, Ignored):
            logger.warning("ignoring a handoff click: %s", decision.reason)
            return
        if not await self._allowed(decision.user, decision.ping.ts):
            return
        ticket = await self._services().store.get(decision.ticket_id)
        if ticket is None or ticket.ping_ref != str(decision.ping):
            logger.warning(
                "a %s click for ticket %s on a message that is not its ping",
                decision.action,
                decision.ticket_id,
            )
            await self.tell(
                decision.user,
                f"That button does not belong to ticket {decision.ticket_id}'s ping.",
                decision.ping.ts,
            )
            return
        await self._act(decision.user, decision.ping.ts, decision.action, ticket)

    async def _act(
        self,
        user: str,
        thread: str,
        action: Literal["claim", "resolve", "reply"],
        ticket: Ticket,
        text: str = "",
    ) -> None:
        desk = self._services().desk
        agent = await self.agent(user)
        try:
            if action == "claim":
                result = await desk.claim(ticket.id, agent)
                if not result.won:
                    await self.tell(user, self._mentions(result.message, result.owner), thread)
            elif action == "resolve":
                await desk.resolve(ticket.id, agent)
            else:
                await desk.reply(ticket.id, agent, text)
        except HandoffError as error:  # not the owner, already resolved, deleted ...
            await self.tell(user, self._mentions(str(error), ticket.claimed_by), thread)
        except Exception:
            logger.exception("the desk failed to %s ticket %s", action, ticket.id)
            await self.tell(
                user,
                f"Sorry, I could not {action} ticket {ticket.id} just now; please try again.",
                thread,
            )

    @staticmethod
    def _mentions(message: str, owner: str | None) -> str:
        text = escape(message)
        return text.replace(escape(owner), agent_mrkdwn(owner)) if owner else text

    # --- who may ----------------------------------------------------------------------

    async def _allowed(self, user: str, thread: str) -> bool:
        try:
            member = user in await self.members()
        except Exception as error:
            logger.error("could not read the agents' channel members: %s", error)
            await self.tell(user, "I could not check who may handle tickets; please try again.")
            return False
        if not member:
            logger.warning("refused a handoff action by %s (not in the agents' channel)", user)
            await self.tell(
                user,
                f"Only members of <#{self.channel}> can claim, answer or resolve tickets.",
                thread,
            )
        return member

    async def members(self) -> frozenset[str]:
        """The agents' channel members (``conversations.members``), cached briefly."""
        async with self._members_lock:  # simultaneous clicks share one lookup
            now = self._clock()
            if self._members is None or now - self._members[0] >= self._members_ttl:
                self._members = (now, await self._read_members())
            return self._members[1]

    async def _read_members(self) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"channel": self.channel, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = await self._call(partial(self._client.conversations_members, **params), params)
            members.update(str(m) for m in page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)

    async def agent(self, user: str) -> Agent:
        """The desk's agent for a Slack user; the name from ``users.info`` (cached)."""
        if user not in self._names:
            try:
                info = await self._call(lambda: self._client.users_info(user=user), {"user": user})
                self._names[user] = display_name(info.get("user") or {}) or user
            except (DeliveryFailed, SlackApiError) as error:
                logger.warning("users.info failed for %s (%s); using the id", user, error)
                return Agent(f"{PREFIX}:{user}", user)
        return Agent(f"{PREFIX}:{user}", self._names[user])

    # --- telling the agent ----------------------------------------------------------

    async def tell(self, user: str, text: str, thread: str | None = None) -> None:
        """An ephemeral message for ``user`` in the agents' channel (a DM if they are
        not in it, where Slack refuses ephemerals)."""
        payload: dict[str, Any] = {"channel": self.channel, "user": user, "text": text}
        if thread:
            payload["thread_ts"] = thread
        try:
            await self._call(lambda: self._client.chat_postEphemeral(**payload), payload)
        except DeliveryFailed as error:
            cause = error.__cause__
            if isinstance(cause, SlackApiError) and cause.response.get("error") in (
                "user_not_in_channel",
                "channel_not_found",
            ):
                direct: dict[str, Any] = {"channel": user, "text": text}
                try:
                    await self._call(lambda: self._client.chat_postMessage(**direct), direct)
                except DeliveryFailed:
                    logger.error("could not tell %s: %s", user, text)
            else:
                logger.error("could not tell %s: %s", user, text)

    async def _call(
        self, call: Callable[[], Awaitable[Any]], payload: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        response = await call_with_retry(call, self._store, f"slack:{self.channel}", payload)
        data = getattr(response, "data", response)
        return data if isinstance(data, Mapping) else {}


def display_name(user: Mapping[str, Any]) -> str:
    """A Slack user's display name, else their real name, else their handle."""
    profile = user.get("profile") or {}
    for name in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if name and str(name).strip():
            return str(name).strip()
    return ""
