"""The agent desk: claiming, replying to and resolving tickets, whatever the agent's tool.

Slack buttons, Telegram replies and `bot agent` all end up here. Every step is written
into the customer's tracker (docs/events.md) through Rasa's conversation API, which also
delivers messages on the customer's own channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.handoff.notifier import Notifier
from bot.handoff.rasa_api import RasaConversations, bot_message, slot_event
from bot.handoff.store import TicketStore
from bot.handoff.texts import Texts
from bot.handoff.tickets import ClaimResult, HandoffError, Ticket, TicketNotFound, TicketState

logger = logging.getLogger(__name__)
RESOLVED_INTENT = "handoff_resolved"


@dataclass(frozen=True)
class Agent:
    """A support agent: a stable id (``slack:U123``, ``cli:sam``) and a display name."""

    id: str
    name: str

    def as_metadata(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


class NotTicketOwner(HandoffError):
    """Only the agent who claimed a ticket may write to its customer."""


class AgentDesk:
    """What agents can do with tickets."""

    def __init__(
        self, store: TicketStore, conversations: RasaConversations, notifier: Notifier, texts: Texts
    ) -> None:
        self._store = store
        self._conversations = conversations
        self._notifier = notifier
        self._texts = texts

    async def claim(self, ticket_id: int, agent: Agent) -> ClaimResult:
        """Claims the ticket; the winner's name is announced to the customer."""
        result = await self._store.claim(ticket_id, agent.id)
        if result.won:
            await self._announce_claim(result.ticket, agent)
        return result

    async def claim_next(self, agent: Agent) -> Ticket | None:
        """Claims the highest-priority queued ticket (None when the queue is empty)."""
        ticket = await self._store.claim_next(agent.id)
        if ticket is not None:
            await self._announce_claim(ticket, agent)
        return ticket

    async def _announce_claim(self, ticket: Ticket, agent: Agent) -> None:
        metadata = {"ticket_id": ticket.id, "agent": agent.as_metadata()}
        joined = self._texts.render("utter_agent_joined", agent_name=agent.name)
        await self._conversations.append_events(
            ticket.conversation_id,
            [
                slot_event("handoff_state", TicketState.CLAIMED.value, metadata),
                # a ticket opened outside business hours left the bot running until now
                {"event": "pause"},
                bot_message(joined, {**metadata, "source": "handoff"}),
            ],
        )
        await self._notifier.ticket_changed(ticket)

    async def reply(self, ticket_id: int, agent: Agent, text: str) -> Ticket:
        """Sends the agent's message to the customer, marked as from a person."""
        ticket = await self._ticket(ticket_id)
        if ticket.state is not TicketState.CLAIMED or ticket.claimed_by != agent.id:
            owner = ticket.claimed_by or "nobody"
            raise NotTicketOwner(
                f"Ticket {ticket_id} is {ticket.state.value} (owner: {owner}); claim it first."
            )
        message = self._texts.render("utter_agent_message", agent_name=agent.name, text=text)
        metadata = {"source": "agent", "agent": agent.as_metadata(), "ticket_id": ticket.id}
        await self._conversations.append_events(
            ticket.conversation_id, [bot_message(message, metadata)]
        )
        return await self._store.record_agent_reply(ticket_id, agent.id)

    async def resolve(self, ticket_id: int, agent: Agent) -> Ticket:
        """Closes the ticket; the bot takes over with a hand-back and the CSAT question."""
        ticket = await self._ticket(ticket_id)
        if ticket.state is TicketState.QUEUED:
            await self.claim(ticket_id, agent)
        ticket = await self._store.resolve(ticket_id, agent.id)
        metadata = {"ticket_id": ticket.id, "agent": agent.as_metadata()}
        await self._conversations.append_events(
            ticket.conversation_id,
            [
                slot_event("handoff_state", TicketState.RESOLVED.value, metadata),
                {"event": "resume"},
                # a paused conversation logs no action_listen; rules need one before a turn
                {"event": "action", "name": "action_listen"},
            ],
        )
        await self._conversations.trigger_intent(ticket.conversation_id, RESOLVED_INTENT)
        await self._notifier.ticket_changed(ticket)
        return ticket

    async def tell_customer(self, ticket: Ticket, response: str, **values: Any) -> None:
        """Sends a handoff notice (a domain response) to the ticket's customer."""
        message = self._texts.render(response, **values)
        await self._conversations.append_events(
            ticket.conversation_id,
            [bot_message(message, {"source": "handoff", "ticket_id": ticket.id})],
        )

    async def _ticket(self, ticket_id: int) -> Ticket:
        ticket = await self._store.get(ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket
