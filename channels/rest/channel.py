"""Rasa's REST webhook (``POST /webhooks/rest/webhook``), behind a bearer token.

Same request and answer as Rasa's stock ``rest`` channel (``{"sender", "message"}`` in,
the bot's messages as a JSON list out), with:

- ``Authorization: Bearer $BOT_REST_TOKEN`` required (constant-time check; 401 otherwise);
- the body checked (:func:`channels.rest.request.rest_message`): 400 with a short JSON
  error for anything but an object with string ``sender`` and ``message``;
- the sender namespaced: ``abc`` speaks in conversation ``rest:abc`` (:mod:`channels.rest.ids`);
- no client-chosen input channel or metadata;
- the customer-text gate (:mod:`bot.inbound.gate`): a message in the form of a sealed
  payload (the answers' button payloads are sealed) is a button press, accepted only when
  sealed for this conversation (else ``/button_expired``); anything else is typed text:
  bounded, secrets masked, never an internal intent;
- a message Rasa fails on gets the apology (and a ticket), never an empty answer.

`bot run` enables it when no Slack or Telegram credentials are set, or with
``BOT_REST_ENABLED=true`` (:func:`bot.runtime.settings.with_rest_channel`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.bot_failure import answer_failure
from bot.inbound import gate
from bot.inbound.limits import max_message_chars
from bot.inbound.seal import PayloadSeal
from bot.runtime.json_body import BadBody, bad_request, unauthorised
from bot.runtime.secrets import REST_TOKEN
from channels.rest.request import authorised, rest_message

logger = logging.getLogger(__name__)


class RestInput(InputChannel):
    """The token-guarded REST channel (Rasa's input-channel interface)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        token = os.environ.get(REST_TOKEN)
        if not token:
            raise ValueError(f"the REST channel needs {REST_TOKEN} (bot run sets it)")
        return cls(token, PayloadSeal.from_env())

    def __init__(self, token: str, seal: PayloadSeal) -> None:
        self._token = token
        self._seal = seal
        self._max_chars = max_message_chars()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def receive(request: Request) -> HTTPResponse:
            if not authorised(request.headers.get("authorization"), self._token):
                return unauthorised()
            try:
                message = rest_message(request.body)
            except BadBody as error:
                return bad_request(error)
            conversation = message.conversation_id
            turn = (
                gate.pressed(self._seal, conversation, message.text)
                if PayloadSeal.looks_sealed(message.text)
                else gate.typed(message.text, self._max_chars)
            )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        turn.text,
                        collector,
                        conversation,
                        input_channel=self.name(),
                        metadata=turn.metadata,
                    )
                )
            except (asyncio.CancelledError, Exception):
                logger.exception("REST message failed in %s", conversation)
                await answer_failure(collector, conversation, self.name(), turn.text, {})
            return response.json([self._sealed(conversation, m) for m in collector.messages])

        return webhook

    def _sealed(self, conversation: str, message: dict[str, Any]) -> dict[str, Any]:
        """A collected message with its button payloads sealed for ``conversation``."""
        sealed = dict(message)
        for key in ("buttons", "quick_replies"):
            if isinstance(message.get(key), list):
                sealed[key] = [
                    {**b, "payload": self._seal.seal(conversation, str(b["payload"]))}
                    if isinstance(b, dict) and b.get("payload")
                    else b
                    for b in message[key]
                ]
        return sealed
