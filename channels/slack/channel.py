"""``channels.slack.SlackInput``: the Rasa input channel for Slack (Socket Mode or Events API)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_bolt.adapter.sanic import AsyncSlackRequestHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.retry import DeliveryFailed
from bot.delivery.store import DeliveryStore, delivery_store_from_env
from bot.handoff.bot_failure import answer_failure
from bot.inbound import gate
from bot.inbound.limits import max_message_chars
from bot.inbound.seal import PayloadSeal
from bot.privacy.log_redaction import known_names
from channels.slack.agent_desk import SlackAgents, display_name
from channels.slack.bolt_app import build_app
from channels.slack.config import SlackSettings, settings_from
from channels.slack.ids import Conversation
from channels.slack.inbound import Ignored, Inbound, from_click, from_command, from_event
from channels.slack.outbound import CHANNEL, SlackOutput, call_with_retry
from channels.slack.render import choice_mrkdwn, mark_choice
from channels.slack.transports import SocketTransport, malformed, rejection

logger = logging.getLogger(__name__)
CHOICE_RESPONSE = "utter_slack_button_chosen"  # domain.yml: the line shown after a click

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SlackInput(InputChannel):
    """Slack DMs, @mentions (answered in a thread) and thread replies, through slack-bolt."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        return cls(settings_from(credentials))

    def __init__(
        self,
        settings: SlackSettings,
        store_factory: Callable[[], DeliveryStore] = delivery_store_from_env,
    ) -> None:
        self.settings = settings
        self._store_factory = store_factory
        self._runtime: _Runtime | None = None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """``GET /webhooks/slack/`` (health) and ``POST /webhooks/slack/events``; starts and
        stops the Slack side with the server."""
        blueprint = Blueprint("slack_webhook", __name__)

        @blueprint.listener("after_server_start")  # type: ignore[untyped-decorator]
        async def start(app: Any, _loop: Any) -> None:
            self._runtime = _Runtime(self.settings, self._store_factory(), on_new_message, app)
            await self._runtime.start()

        @blueprint.listener("before_server_stop")  # type: ignore[untyped-decorator]
        async def stop(_app: Any, _loop: Any) -> None:
            if self._runtime is not None:
                await self._runtime.stop()

        @blueprint.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_request: Request) -> HTTPResponse:
            revoked = self._runtime.revoked if self._runtime is not None else None
            if revoked is not None:  # the app was uninstalled or its token revoked
                return response.json(
                    {
                        "status": "token_revoked",
                        "reason": revoked,
                        "transport": self.settings.transport,
                    },
                    status=503,
                )
            return response.json({"status": "ok", "transport": self.settings.transport})

        @blueprint.route("/events", methods=["POST"])  # type: ignore[untyped-decorator]
        async def events(request: Request) -> HTTPResponse:
            secret = self.settings.signing_secret
            if not secret or self._runtime is None:
                return response.json({"error": "the Events API is not enabled"}, status=404)
            reason = rejection(secret, request.body, dict(request.headers))
            if reason is not None:
                logger.warning("rejected a Slack request from %s: %s", request.ip, reason)
                return response.json({"error": "invalid request"}, status=401)
            if malformed(request.body, request.headers.get("content-type")) is not None:
                return response.json({"error": "malformed request"}, status=400)
            return await self._runtime.http.handle(request)

        return blueprint

    def get_output_channel(self) -> OutputChannel | None:
        """For proactive messages (trigger_intent, reminders): the sender id says where."""
        return self._runtime.output if self._runtime is not None else None


class _Runtime:
    """What exists while the server runs: the Web API client, the bolt app, the transport."""

    def __init__(
        self,
        settings: SlackSettings,
        store: DeliveryStore,
        on_new_message: OnNewMessage,
        server: Any,
    ) -> None:
        self.settings, self.store, self._on_new_message, self._server = (
            settings,
            store,
            on_new_message,
            server,
        )
        # retries are ours (bot.delivery.retry): Retry-After first, then backoff
        self.client = AsyncWebClient(
            token=settings.bot_token,
            base_url=settings.api_url or AsyncWebClient.BASE_URL,
            retry_handlers=[],
        )
        self.seal = PayloadSeal.from_env()
        self.max_chars = max_message_chars()
        self.output = SlackOutput(self.client, store, self.seal)
        self.agents = (
            SlackAgents(self.client, settings.agent_channel, store)
            if settings.agent_channel
            else None
        )
        self._names: dict[str, str] = {}  # customer user id -> display name
        self.app = build_app(settings, self.client, store, self)
        self.http = AsyncSlackRequestHandler(self.app)
        self._socket: SocketTransport | None = None
        #: why the bot token no longer works (``tokens_revoked`` / ``app_uninstalled``)
        self.revoked: str | None = None

    async def start(self) -> None:
        # one HTTP session for every Web API call: slack_sdk otherwise opens a session and
        # a connection (a TLS handshake with slack.com) per call
        if self.client.session is None or self.client.session.closed:
            timeout = aiohttp.ClientTimeout(total=self.client.timeout)
            self.client.session = aiohttp.ClientSession(timeout=timeout)
        if self.settings.transport == "socket" and self.settings.app_token:
            self._socket = SocketTransport(self.app, self.settings.app_token)
            self._socket.start()
        logger.info("Slack channel ready (%r)", self.settings)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.stop()
        if self.client.session is not None:
            await self.client.session.close()
        await self.store.close()

    async def on_event(
        self, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
    ) -> None:
        if self.revoked is not None:
            return  # the token is dead: nothing can be answered
        if self.agents is not None and self.agents.owns(event.get("channel")):
            await self._agents_do(self.agents.on_event(event, bot_user_id))
            return  # the agents' channel never talks to Rasa
        decision = from_event(
            event, body, bot_user_id=bot_user_id, scope=self.settings.conversation_scope
        )
        if isinstance(decision, Ignored):
            logger.debug("ignoring Slack event %s: %s", body.get("event_id"), decision.reason)
            return
        if decision.only_if_known and not await self._known(decision.conversation.sender_id):
            logger.debug(
                "ignoring Slack event %s: a reply in a thread the bot is not part of",
                body.get("event_id"),
            )
            return
        turn = (
            gate.typed(decision.text, self.max_chars)
            if decision.typed
            else gate.command(decision.text)
        )
        await self._forward(decision, turn)

    async def on_command(self, body: dict[str, Any]) -> None:
        """A slash command: answered in the customer's DM with the bot (opened if needed)."""
        decision = from_command(body)
        if isinstance(decision, Ignored):
            logger.debug("ignoring a Slack slash command: %s", decision.reason)
            return
        if self.revoked is not None:
            return
        try:
            opened = await self.client.conversations_open(users=decision.user)
        except Exception as error:
            logger.error("could not open the DM for a slash command (%s)", type(error).__name__)
            return
        channel = str((opened.get("channel") or {}).get("id") or "")
        metadata = dict(decision.metadata)
        metadata["slack"] = {**metadata["slack"], "channel": channel, "channel_type": "im"}
        inbound = Inbound(Conversation(channel), decision.text, metadata, typed=False)
        await self._forward(inbound, gate.command(decision.text))

    async def on_revoked(self, event: dict[str, Any]) -> None:
        """``app_uninstalled``, or ``tokens_revoked`` naming bot tokens: the token is dead,
        so the Slack side stops calling the Web API (the health check says why)."""
        kind = str(event.get("type"))
        if kind == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            logger.info("Slack revoked user tokens only; the bot token still works")
            return
        if self.revoked is None:
            self.revoked = kind
            self.output.stop(kind)
            logger.error(
                "Slack %s: the bot token no longer works; this server stops posting to "
                "Slack until it is reinstalled and restarted with a new token",
                "uninstalled the app" if kind == "app_uninstalled" else "revoked the bot token",
            )

    async def on_agent_click(self, body: dict[str, Any]) -> None:
        if self.agents is None:
            logger.warning("a handoff button click, but SLACK_AGENT_CHANNEL is not set")
            return
        await self._agents_do(self.agents.on_click(body))

    @staticmethod
    async def _agents_do(work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            logger.exception("an agent's action in Slack failed")

    async def on_click(self, body: dict[str, Any]) -> None:
        if self.revoked is not None:
            return  # the token is dead: the message cannot be updated nor answered
        container = body.get("container") or {}
        if self.agents is not None and self.agents.owns(container.get("channel_id")):
            logger.warning("ignoring a customer button clicked in the agents' channel")
            return
        decision = from_click(body)
        if isinstance(decision, Ignored):
            logger.debug("ignoring a Slack click: %s", decision.reason)
            return
        inbound, title = decision
        message = body.get("message") or {}
        if message.get("ts"):
            update = {
                "channel": inbound.conversation.channel,
                "ts": message["ts"],
                "text": message.get("text", ""),
                "blocks": mark_choice(
                    message.get("blocks") or [], choice_mrkdwn(title, self._template())
                ),
            }
            try:
                await call_with_retry(
                    lambda: self.client.chat_update(**update),
                    self.store,
                    inbound.conversation.sender_id,
                    update,
                )
            except DeliveryFailed:
                logger.error("could not mark the chosen button in Slack (recorded)")
        turn = gate.pressed(self.seal, inbound.conversation.sender_id, inbound.text)
        if turn.text == gate.BUTTON_EXPIRED:
            logger.warning(
                "a button the bot did not send to %s was pressed", inbound.conversation.sender_id
            )
        await self._forward(inbound, turn)

    async def _customer_name(self, user: str | None) -> str:
        """The customer's Slack display name (users.info, cached); "" when unknown."""
        if not user:
            return ""
        if user not in self._names:
            try:
                info = await self.client.users_info(user=user)
                self._names[user] = display_name(info.get("user") or {})
                known_names().add(self._names[user])  # masked in this process's logs at once
            except Exception as error:
                logger.info("users.info failed for a customer (%s)", type(error).__name__)
                return ""
        return self._names[user]

    async def _forward(self, inbound: Inbound, turn: gate.Turn) -> None:
        metadata = turn.merged(inbound.metadata)
        if name := await self._customer_name((metadata.get("slack") or {}).get("user")):
            metadata["user_name"] = name
        try:
            await self._on_new_message(
                UserMessage(
                    turn.text,
                    self.output,
                    inbound.conversation.sender_id,
                    input_channel=CHANNEL,
                    metadata=metadata,
                )
            )
        except Exception:
            logger.exception(
                "Rasa failed to handle a Slack message for %s", inbound.conversation.sender_id
            )
            await answer_failure(
                self.output, inbound.conversation.sender_id, CHANNEL, turn.text, metadata
            )

    async def _known(self, sender_id: str) -> bool:
        agent = getattr(getattr(self._server, "ctx", None), "agent", None)
        return bool(agent and await agent.tracker_store.exists(sender_id))

    def _template(self) -> str | None:
        agent = getattr(getattr(self._server, "ctx", None), "agent", None)
        variants = agent.domain.responses.get(CHOICE_RESPONSE) if agent and agent.domain else None
        return str(variants[0].get("text") or "") or None if variants else None
