"""Forget-me in the agents' places: what the bot posted about a customer's tickets in the
agents' Slack channel and Telegram group goes (or is redacted) before the tickets do."""

from __future__ import annotations

from collections.abc import Collection

from bot.handoff.notifier import Notifier
from bot.handoff.store import TicketStore


class AgentPostsOfCustomer:
    """A ``ConversationData`` store (bot/privacy/erasure.py) over the agents' posts."""

    def __init__(self, store: TicketStore, notifier: Notifier) -> None:
        self._store, self._notifier = store, notifier

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        """Removes the posts about these conversations' tickets; returns how many tickets."""
        tickets = await self._store.tickets_of(conversation_ids)
        for ticket in tickets:
            await self._notifier.forget(ticket)
        return len(tickets)
