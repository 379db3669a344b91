"""What the bot posted about a ticket in the agents' Slack channel or Telegram group, so that
forgetting a customer can remove it: the ping (the ticket's ``ping_ref``) and every later
post (customer messages, reminders, callback requests), kept as ``agent_post`` events in
the ticket's audit trail (deleted with the ticket)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.handoff.store import TicketStore, ticket_store_from_env
from bot.handoff.tickets import HandoffError, Ticket

logger = logging.getLogger(__name__)

#: The audit event of a post about the ticket in the agents' place; detail = its reference.
POST_EVENT = "agent_post"


class AgentPosts:
    """Remembers and lists the agents' posts about tickets (the store is opened on first use)."""

    def __init__(self, store_factory: Callable[[], TicketStore] = ticket_store_from_env) -> None:
        self._factory = store_factory
        self._store: TicketStore | None = None

    def _tickets(self) -> TicketStore:
        if self._store is None:
            self._store = self._factory()
        return self._store

    async def record(self, ticket: Ticket, ref: str) -> None:
        """Remembers a post (best effort: a closed ticket takes no notes)."""
        try:
            await self._tickets().note(ticket.id, POST_EVENT, "bot", ref)
        except HandoffError as error:
            logger.info("post %s of ticket %s not remembered: %s", ref, ticket.id, error)

    async def of(self, ticket: Ticket) -> list[str]:
        """The ticket's posts, newest first, then its ping."""
        history = await self._tickets().history(ticket.id)
        refs = [event.detail for event in reversed(history) if event.event == POST_EVENT]
        return [*refs, ticket.ping_ref] if ticket.ping_ref else refs
