"""Rasa's REST webhook (``POST /webhooks/rest/webhook``), behind a bearer token.

Same request and answer as Rasa's stock ``rest`` channel (``{"sender", "message"}`` in,
the bot's messages as a JSON list out), with:

- ``Authorization: Bearer $BOT_REST_TOKEN`` required (constant-time check; 401 otherwise);
- the body checked (:func:`channels.rest.request.rest_message`): 400 with a short JSON
  error for anything but an object with string ``sender`` and ``message``;
- the sender namespaced: ``abc`` speaks in conversation ``rest:abc`` (:mod:`channels.rest.ids`);
- no client-chosen input channel or metadata.

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
        return cls(token)

    def __init__(self, token: str) -> None:
        self._token = token

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
            # --- CUSTOMER-TEXT GATE: the single place the bot.inbound check of
            # `message.text` belongs (before Rasa sees it); not written here. ---
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        message.text,
                        collector,
                        message.conversation_id,
                        input_channel=self.name(),
                    )
                )
            except asyncio.CancelledError:
                logger.error("REST message timed out in %s", message.conversation_id)
            except Exception:
                logger.exception("REST message failed in %s", message.conversation_id)
            return response.json(collector.messages)

        return webhook
