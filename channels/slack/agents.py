"""Slack agents' pings: the handoff ``Notifier`` posting into the agents' channel.

Switched on by ``SLACK_AGENT_CHANNEL`` (``bot.handoff.service.NOTIFIERS``). The ping is a
Block Kit message (``agent_render.ping_message``) with Claim / Resolve buttons; its
reference ``slack:<channel>:<ts>`` is kept as the ticket's ``ping_ref`` so the agents'
clicks and thread replies (``channels.slack.agent_desk``) lead back to the ticket.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.store import DeliveryStore, delivery_store_from_env
from bot.handoff.agent_posts import AgentPosts
from bot.handoff.tickets import Ticket
from channels.slack.agent_render import (
    FORGOTTEN_TEXT,
    PingRef,
    callback_text,
    customer_said_text,
    parse_ping_ref,
    ping_message,
    reminder_text,
    unthreaded_customer_said_text,
)
from channels.slack.outbound import call_with_retry

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SlackAgentNotifier:
    """Pings the agents' channel and keeps the ping current (implements ``Notifier``)."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        *,
        store_factory: Callable[[], DeliveryStore] = delivery_store_from_env,
        remind_mention: str = "",
        clock: Clock = _utc_now,
        posts: AgentPosts | None = None,
    ) -> None:
        self._posts = posts  # remembers thread posts, so forget-me can remove them
        self._client = client
        self._channel = channel
        self._store_factory = store_factory
        self._store: DeliveryStore | None = None
        self._remind_mention = remind_mention
        self._clock = clock

    @property
    def channel(self) -> str:
        return self._channel

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        payload = {"channel": self._channel, **ping_message(ticket, self._clock())}
        response = await self._call(lambda: self._client.chat_postMessage(**payload), payload)
        ref = PingRef(str(response.get("channel") or self._channel), str(response["ts"]))
        logger.info("ticket %s pinged in Slack as %s", ticket.id, ref)
        return str(ref)

    async def ticket_changed(self, ticket: Ticket) -> None:
        ref = parse_ping_ref(ticket.ping_ref)
        if ref is None:
            logger.debug("ticket %s has no Slack ping to update", ticket.id)
            return
        payload = {"channel": ref.channel, "ts": ref.ts, **ping_message(ticket, self._clock())}
        await self._call(lambda: self._client.chat_update(**payload), payload)

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        ref = parse_ping_ref(ticket.ping_ref)
        payload: dict[str, Any]
        if ref is None:
            payload = {
                "channel": self._channel,
                "text": unthreaded_customer_said_text(ticket, text),
            }
        else:
            payload = {
                "channel": ref.channel,
                "thread_ts": ref.ts,
                "text": customer_said_text(ticket, text),
            }
        await self._post(ticket, payload)

    async def remind(self, ticket: Ticket) -> None:
        ref = parse_ping_ref(ticket.ping_ref)
        text = reminder_text(ticket, self._clock(), self._remind_mention)
        payload: dict[str, Any] = {"channel": ref.channel if ref else self._channel, "text": text}
        if ref is not None:
            payload["thread_ts"] = ref.ts
            if self._remind_mention:
                payload["reply_broadcast"] = True  # shown in the channel too
        await self._post(ticket, payload)

    async def callback_requested(self, ticket: Ticket) -> None:
        ref = parse_ping_ref(ticket.ping_ref)
        text = callback_text(ticket)
        payload: dict[str, Any] = {"channel": ref.channel if ref else self._channel, "text": text}
        if ref is not None:
            payload["thread_ts"] = ref.ts
        await self._post(ticket, payload)

    async def forget(self, ticket: Ticket) -> None:
        """Deletes the ping and every remembered post about the ticket (``chat.delete``);
        a post that cannot be deleted is redacted instead (``chat.update``)."""
        refs = await self._posts.of(ticket) if self._posts else [ticket.ping_ref or ""]
        for ref in filter(None, map(parse_ping_ref, refs)):
            await self._remove(ref.channel, ref.ts)

    async def _remove(self, channel: str, ts: str) -> None:
        async def delete() -> Any:
            return await self._client.chat_delete(channel=channel, ts=ts)

        async def redact() -> Any:
            return await self._client.chat_update(
                channel=channel, ts=ts, text=FORGOTTEN_TEXT, blocks=[]
            )

        try:
            await self._call(delete, {"channel": channel, "ts": ts})
        except Exception as deleting:
            if "message_not_found" in str(deleting):
                return  # already gone (an agent deleted it, or a forget-me retried)
            try:
                await self._call(redact, {"channel": channel, "ts": ts})
            except Exception as redacting:
                logger.error(
                    "could not delete (%s) nor redact (%s) the agents' post %s",
                    type(deleting).__name__,
                    type(redacting).__name__,
                    ts,
                )
                raise

    async def _post(self, ticket: Ticket, payload: dict[str, Any]) -> None:
        response = await self._call(lambda: self._client.chat_postMessage(**payload), payload)
        if self._posts is not None and response.get("ts"):
            channel = str(response.get("channel") or payload["channel"])
            await self._posts.record(ticket, str(PingRef(channel, str(response["ts"]))))

    async def _call(
        self, call: Callable[[], Awaitable[Any]], payload: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """A Web API call with the channel's retries (``Retry-After``, backoff); the final
        failure is recorded in the delivery store and raised (``DeliveryFailed``)."""
        if self._store is None:
            self._store = self._store_factory()
        response = await call_with_retry(call, self._store, f"slack:{self._channel}", payload)
        data = getattr(response, "data", response)
        return data if isinstance(data, Mapping) else {}


def agent_client(env: Mapping[str, str] = os.environ) -> AsyncWebClient:
    """The Web API client of the agents' side: ``SLACK_BOT_TOKEN``, ``SLACK_API_URL``."""
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not token:
        raise ValueError("Slack agents need a bot token (SLACK_BOT_TOKEN)")
    base_url = env.get("SLACK_API_URL", "").strip() or AsyncWebClient.BASE_URL
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=[])


def notifier_from_env(env: Mapping[str, str] = os.environ) -> SlackAgentNotifier:
    """``SLACK_AGENT_CHANNEL`` (a channel id), ``SLACK_BOT_TOKEN``, optional ``SLACK_API_URL``
    and ``SLACK_AGENT_REMIND_MENTION`` (``here`` or ``channel``: reminders re-mention)."""
    channel = env.get("SLACK_AGENT_CHANNEL", "").strip()
    if not channel:
        raise ValueError("SLACK_AGENT_CHANNEL is not set")
    mention = env.get("SLACK_AGENT_REMIND_MENTION", "").strip().lstrip("@!")
    if mention not in ("", "here", "channel"):
        raise ValueError("SLACK_AGENT_REMIND_MENTION must be 'here', 'channel' or empty")
    return SlackAgentNotifier(
        agent_client(env), channel, remind_mention=mention, posts=AgentPosts()
    )
