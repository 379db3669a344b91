"""The slack-bolt AsyncApp the channel composes: exactly-once intake, then thin listeners.

Every request Slack sends is acknowledged with a 200, also the ones no listener takes
(reactions, joins, app home, a modal's or shortcut's interaction, ...): Slack counts any
other answer as a failed delivery and disables the event subscriptions of an app whose
deliveries fail too often.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.store import DeliveryStore
from channels.slack.agent_render import CLAIM_ACTION, RESOLVE_ACTION
from channels.slack.config import SlackSettings
from channels.slack.inbound import SLASH_COMMANDS, delivery_key
from channels.slack.render import BUTTON_ACTION, LINK_ACTION

logger = logging.getLogger(__name__)


class Handlers(Protocol):
    """What the channel does with a new event or a click (after Slack got its ack)."""

    async def on_event(
        self, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
    ) -> None: ...

    async def on_click(self, body: dict[str, Any]) -> None: ...

    async def on_agent_click(self, body: dict[str, Any]) -> None: ...

    async def on_command(self, body: dict[str, Any]) -> None: ...

    async def on_revoked(self, event: dict[str, Any]) -> None: ...


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
        raise_error_for_unhandled_request=True,  # -> acknowledge_unhandled, not a 404
    )
    app.use(exactly_once(store))
    app.use(rate_limit_notice)
    app.error(acknowledge_unhandled)

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

    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # an empty 200: the answer comes as a message in the customer's DM
        await handlers.on_command(body)

    async def on_revoked(event: dict[str, Any]) -> None:
        await handlers.on_revoked(event)

    app.event("message")(on_event)
    app.event("app_mention")(on_event)
    app.event("tokens_revoked")(on_revoked)
    app.event("app_uninstalled")(on_revoked)
    for name in SLASH_COMMANDS:
        app.command(f"/{name}")(on_command)
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


async def rate_limit_notice(
    body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """``app_rate_limited`` (sent without a subscription when the app exceeded 30,000
    events per hour): logged as a warning with the minute it started, then acknowledged."""
    if body.get("type") == "app_rate_limited":
        minute = body.get("minute_rate_limited")
        logger.warning(
            "Slack rate-limited this app's events from minute %s (UTC epoch); events of "
            "that minute were not delivered",
            minute,
        )
        return BoltResponse(status=200, body="")
    await next()
    return None


async def acknowledge_unhandled(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    """The app's error handler: a request no listener takes is acknowledged (200) with one
    debug line; a listener's failure is logged with its traceback (bolt's default)."""
    if isinstance(error, BoltUnhandledRequestError):
        logger.debug("acknowledged a Slack request the bot does not handle: %s", _kind(body))
        return BoltResponse(status=200, body="")
    logger.error("a Slack listener failed (%s)", _kind(body), exc_info=error)
    return None


def _kind(body: dict[str, Any]) -> str:
    """What a request is, for the logs: ``event_callback/reaction_added``, ``shortcut``..."""
    kind = str(body.get("type") or ("slash_command" if body.get("command") else "unknown"))
    event = body.get("event")
    return f"{kind}/{event.get('type')}" if isinstance(event, dict) else kind
