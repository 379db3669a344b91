"""The slack-bolt AsyncApp the channel composes: exactly-once intake, then thin listeners."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.store import DeliveryStore
from channels.slack.agent_render import CLAIM_ACTION, RESOLVE_ACTION
from channels.slack.config import SlackSettings
from channels.slack.inbound import delivery_key
from channels.slack.render import BUTTON_ACTION, LINK_ACTION

logger = logging.getLogger(__name__)


class Handlers(Protocol):
    """What the channel does with a new event or a click (after Slack got its ack)."""

    async def on_event(
        self, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
    ) -> None: ...

    async def on_click(self, body: dict[str, Any]) -> None: ...

    async def on_agent_click(self, body: dict[str, Any]) -> None: ...


def build_app(
    settings: SlackSettings, client: AsyncWebClient, store: DeliveryStore, handlers: Handlers
) -> AsyncApp:
    """A bolt app acking first and processing after (``process_before_response=False``)."""
    app = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret or "",
        request_verification_enabled=bool(settings.signing_secret),
        process_before_response=False,
        logger=logging.getLogger("channels.slack.bolt"),
    )
    app.use(exactly_once(store))

    async def on_event(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await handlers.on_event(body, event, context.bot_user_id)

    async def on_click(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # within Slack's 3 seconds; the work happens after
        await handlers.on_click(body)

    async def on_agent_click(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # Claim / Resolve in the agents' channel: the desk works after the ack
        await handlers.on_agent_click(body)

    async def on_link(ack: AsyncAck) -> None:
        await ack()  # Slack opens the URL itself; nothing to tell Rasa

    app.event("message")(on_event)
    app.event("app_mention")(on_event)
    app.action(re.compile("^" + re.escape(BUTTON_ACTION)))(on_click)
    app.action(re.compile("^" + re.escape(LINK_ACTION)))(on_link)
    app.action(CLAIM_ACTION)(on_agent_click)
    app.action(RESOLVE_ACTION)(on_agent_click)
    return app


def exactly_once(store: DeliveryStore) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Global middleware: a delivery seen before (a retry, a redelivery, across restarts)
    is acknowledged and dropped; the key is recorded in the persistent DeliveryStore."""

    async def middleware(
        body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not await store.first_time(key):
            retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
            logger.info("dropping a repeated Slack delivery %s (retry %s)", key, retry)
            return BoltResponse(status=200, body="")
        await next()
        return None

    return middleware
