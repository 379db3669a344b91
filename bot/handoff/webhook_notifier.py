"""Agent pings as JSON POSTs to a URL (``BOT_AGENT_WEBHOOK_URL``): for custom agent tools."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import aiohttp

from bot.handoff.tickets import Ticket


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """A ticket as plain JSON values."""
    data = asdict(ticket)
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
        elif hasattr(value, "value"):
            data[key] = value.value
    data["last_turns"] = [{**t, "at": t["at"].isoformat()} for t in data["last_turns"]]
    return data


class WebhookNotifier:
    """POSTs ``{"event": ..., "ticket": {...}, "text": ...}`` for every ticket change."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def _post(self, event: str, ticket: Ticket, **extra: Any) -> None:
        body = {"event": event, "ticket": ticket_json(ticket), **extra}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as response,
        ):
            response.raise_for_status()

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        await self._post("ticket_opened", ticket)
        return None

    async def ticket_changed(self, ticket: Ticket) -> None:
        await self._post("ticket_changed", ticket)

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        await self._post("customer_said", ticket, text=text)

    async def remind(self, ticket: Ticket) -> None:
        await self._post("remind", ticket)

    async def callback_requested(self, ticket: Ticket) -> None:
        await self._post("callback_requested", ticket)

    async def forget(self, ticket: Ticket) -> None:
        """Tells the tool to delete the ticket; the body names only its id."""
        body = {"event": "ticket_forgotten", "ticket": {"id": ticket.id}}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as response,
        ):
            response.raise_for_status()


def notifier_from_env() -> WebhookNotifier:
    return WebhookNotifier(os.environ["BOT_AGENT_WEBHOOK_URL"])
