"""Reading one piece of a message with the trained model (Rasa's ``POST /model/parse``).

The action server asks the Rasa server to read each question of a message that holds
several (bot.faq.multi): the same model, so a piece is understood exactly as it would be
on its own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp

from bot.handoff.rasa_api import DEFAULT_RASA_URL

#: Seconds one parse may take before the piece is treated as not understood.
PARSE_TIMEOUT = 5.0


class Parser(Protocol):
    """Reads one text: Rasa's parse data (intent, response_selector, ...)."""

    async def parse(self, text: str) -> Mapping[str, Any]: ...


class RasaParser:
    """:class:`Parser` over Rasa's HTTP API (``BOT_RASA_URL``, ``BOT_RASA_TOKEN``); one
    connection pool, opened on first use."""

    def __init__(self, base_url: str | None = None, token: str | None = None) -> None:
        self._url = (base_url or os.environ.get("BOT_RASA_URL") or DEFAULT_RASA_URL).rstrip("/")
        self._token = token if token is not None else os.environ.get("BOT_RASA_TOKEN")
        self._session: aiohttp.ClientSession | None = None

    async def parse(self, text: str) -> Mapping[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PARSE_TIMEOUT)
            )
        params = {"token": self._token} if self._token else {}
        try:
            async with self._session.post(
                f"{self._url}/model/parse", params=params, json={"text": text}
            ) as response:
                if response.status != 200:
                    return {}
                body: dict[str, Any] = await response.json()
                return body
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
