"""How support staff hear about tickets: one small interface, one implementation per place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.handoff.tickets import Ticket

logger = logging.getLogger(__name__)


class Notifier(Protocol):
    """Pings agents and keeps their view of a ticket current."""

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        """Posts the escalation ping; returns its reference (kept as the ticket's ping_ref)."""

    async def ticket_changed(self, ticket: Ticket) -> None:
        """Updates the ping after a claim or resolution."""

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        """Shows a customer's message to the agents (in the ping's thread)."""

    async def remind(self, ticket: Ticket) -> None:
        """Pings again: nobody has claimed the ticket in time."""

    async def callback_requested(self, ticket: Ticket) -> None:
        """The customer left a message instead of waiting: reply when someone is free."""

    async def forget(self, ticket: Ticket) -> None:
        """Removes (or redacts) everything posted about the ticket: the customer asked to be
        forgotten. Raises when something could not be removed."""


class LogNotifier:
    """Writes ticket news to the log: the notifier of the local mode (agents use `bot agent`)."""

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        logger.warning(
            "Ticket %s opened for %s (%s, topic %s): %s",
            ticket.id,
            ticket.conversation_id,
            ticket.reason.value,
            ticket.topic or "other",
            ticket.summary,
        )
        return None

    async def ticket_changed(self, ticket: Ticket) -> None:
        logger.warning(
            "Ticket %s is %s (%s)", ticket.id, ticket.state.value, ticket.claimed_by or "-"
        )

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        logger.warning("Ticket %s, customer: %s", ticket.id, text)

    async def remind(self, ticket: Ticket) -> None:
        logger.warning("Ticket %s is still waiting for an agent", ticket.id)

    async def callback_requested(self, ticket: Ticket) -> None:
        logger.warning("Ticket %s: the customer left a message (callback request)", ticket.id)

    async def forget(self, ticket: Ticket) -> None:
        logger.warning("Ticket %s: the customer asked to be forgotten", ticket.id)


class FanoutNotifier:
    """Notifies several places; one failing place does not stop the others."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = list(notifiers)

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        refs = await self._all(n.ticket_opened(ticket) for n in self._notifiers)
        return next((r for r in refs if isinstance(r, str)), None)

    async def ticket_changed(self, ticket: Ticket) -> None:
        await self._all(n.ticket_changed(ticket) for n in self._notifiers)

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        await self._all(n.customer_said(ticket, text) for n in self._notifiers)

    async def remind(self, ticket: Ticket) -> None:
        await self._all(n.remind(ticket) for n in self._notifiers)

    async def callback_requested(self, ticket: Ticket) -> None:
        await self._all(n.callback_requested(ticket) for n in self._notifiers)

    async def forget(self, ticket: Ticket) -> None:
        """Every place forgets; the first failure is raised once all have tried (forget-me
        then says it could not delete everything, and a retry tries again)."""
        results = await self._all(n.forget(ticket) for n in self._notifiers)
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            raise failed

    @staticmethod
    async def _all(calls: object) -> list[object]:
        results = await asyncio.gather(*calls, return_exceptions=True)  # type: ignore[misc]
        for result in results:
            if isinstance(result, BaseException):
                logger.error("an agent notification failed: %s", result)
        return list(results)
