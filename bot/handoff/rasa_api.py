"""Rasa's conversation HTTP API: how agents' messages and handoff events reach a conversation.

Appending events with ``output_channel=latest`` makes Rasa deliver any bot message
through the customer's own channel (Slack, Telegram, local chat) and log it in the
tracker, even while the conversation is paused.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

DEFAULT_RASA_URL = "http://127.0.0.1:5005"


class RasaConversations:
    """A small client for ``/conversations/{id}/...``."""

    def __init__(self, base_url: str | None = None, token: str | None = None) -> None:
        self._base_url = (base_url or os.environ.get("BOT_RASA_URL") or DEFAULT_RASA_URL).rstrip(
            "/"
        )
        self._token = token if token is not None else os.environ.get("BOT_RASA_TOKEN")

    def _url(self, conversation_id: str, path: str) -> str:
        return f"{self._base_url}/conversations/{quote(conversation_id, safe='')}/{path}"

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self._token:
            params["token"] = self._token
        return params

    async def append_events(self, conversation_id: str, events: Sequence[dict[str, Any]]) -> None:
        """Appends ``events``; bot messages among them are sent to the customer."""
        params = self._params(output_channel="latest", execute_side_effects="true")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self._url(conversation_id, "tracker/events"), params=params, json=list(events)
            ) as response,
        ):
            await _check(response)

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Runs the bot as if the customer had expressed ``intent``; answers go to their channel."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self._url(conversation_id, "trigger_intent"),
                params=self._params(output_channel="latest"),
                json={"name": intent, "entities": entities or {}},
            ) as response,
        ):
            await _check(response)
            body = await response.json()
            return list(body.get("messages") or [])

    async def is_up(self, timeout: float = 2.0) -> bool:
        """Whether the Rasa server answers (``GET /``); it does only once its model is loaded."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.get(f"{self._base_url}/") as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's tracker (all events)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                self._url(conversation_id, "tracker"), params=self._params(include_events="ALL")
            ) as response,
        ):
            await _check(response)
            tracker: dict[str, Any] = await response.json()
            return tracker


async def _check(response: aiohttp.ClientResponse) -> None:
    if response.status == 401:
        raise RuntimeError(
            f"Rasa refused {response.url.path} (401): set BOT_RASA_TOKEN to the token the bot "
            "was started with (docs/security.md)"
        )
    if response.status >= 400:
        detail = (await response.text())[:300]
        raise RuntimeError(f"Rasa answered {response.status} for {response.url.path}: {detail}")


def bot_message(message: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """A ``bot`` event carrying a rendered message and its metadata."""
    data = {k: v for k, v in message.items() if k in {"buttons", "image", "custom"}}
    return {"event": "bot", "text": message.get("text"), "data": data, "metadata": metadata}


def slot_event(name: str, value: Any, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``slot`` event, optionally with metadata (see docs/events.md)."""
    event: dict[str, Any] = {"event": "slot", "name": name, "value": value}
    if metadata:
        event["metadata"] = metadata
    return event
