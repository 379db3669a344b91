"""Ways out of a handoff that do not need an agent: the customer cancels, restarts or leaves
a message, or nobody claims the ticket in time.

Every way out closes (or marks) the ticket with an audit event, keeps the agents' view
current through the ``Notifier`` and, when the bot takes over again, resumes the
conversation and tells the customer so (texts: domain.yml).
"""

from __future__ import annotations

from typing import Any

from bot.handoff.notifier import Notifier
from bot.handoff.rasa_api import RasaConversations, bot_message, slot_event
from bot.handoff.store import TicketStore
from bot.handoff.texts import Texts
from bot.handoff.tickets import AuditEvent, Ticket, TicketState

#: The audit event of a left message: the ticket became a callback request.
CALLBACK_EVENT = "callback_requested"
CANCELLED_BY_CUSTOMER = "cancelled by customer"
RESTARTED_BY_CUSTOMER = "restarted the conversation"
#: The ``handoff_state`` slot values of the ways out (docs/events.md).
CANCELLED_STATE = "cancelled"


def is_callback(history: list[AuditEvent] | tuple[AuditEvent, ...]) -> bool:
    """Whether the customer left a message on the ticket (its audit trail says so)."""
    return any(event.event == CALLBACK_EVENT for event in history)


class HandoffExits:
    """Closes or marks tickets for the customer's choices and for expiry."""

    def __init__(
        self, store: TicketStore, conversations: RasaConversations, notifier: Notifier, texts: Texts
    ) -> None:
        self._store = store
        self._conversations = conversations
        self._notifier = notifier
        self._texts = texts

    async def cancel(self, ticket: Ticket) -> Ticket:
        """The customer no longer needs a person: close the ticket, the bot takes over."""
        closed = await self._close(ticket, CANCELLED_BY_CUSTOMER)
        await self._hand_back(closed, CANCELLED_STATE, "utter_handoff_cancelled")
        await self._notifier.ticket_changed(closed)
        return closed

    async def restart(self, ticket: Ticket) -> Ticket:
        """The customer restarted the conversation (Rasa resets it): close the ticket."""
        closed = await self._close(ticket, RESTARTED_BY_CUSTOMER)
        await self._notifier.ticket_changed(closed)
        return closed

    async def expire(self, ticket: Ticket, waited_words: str) -> Ticket:
        """Nobody claimed in time: say so honestly, offer to leave a message, un-pause."""
        expired = await self._store.expire(ticket.id, f"no agent claimed it within {waited_words}")
        await self._hand_back(expired, TicketState.EXPIRED.value, "utter_handoff_expired")
        await self._notifier.ticket_changed(expired)
        return expired

    async def leave_message(self, ticket: Ticket) -> None:
        """The customer leaves a message instead of waiting: no more nudges, agents see a
        callback request, and the customer's next words reach them."""
        if not is_callback(tuple(await self._store.history(ticket.id))):
            await self._store.note(ticket.id, CALLBACK_EVENT, "customer")
            await self._notifier.callback_requested(ticket)
        await self.tell(ticket, "utter_handoff_leave_message")

    async def tell(self, ticket: Ticket, response: str, **values: Any) -> None:
        """Sends a handoff notice (a domain response) to the ticket's customer."""
        message = self._texts.render(response, **values)
        await self._conversations.append_events(
            ticket.conversation_id,
            [bot_message(message, {"source": "handoff", "ticket_id": ticket.id})],
        )

    async def _close(self, ticket: Ticket, detail: str) -> Ticket:
        if ticket.state is TicketState.CLAIMED:  # the agent had it: resolved, by the customer
            return await self._store.resolve(ticket.id, "customer", detail)
        return await self._store.abandon(ticket.id, "customer", detail)

    async def _hand_back(self, ticket: Ticket, state: str, response: str) -> None:
        metadata = {"ticket_id": ticket.id, "source": "handoff"}
        message = self._texts.render(response)
        await self._conversations.append_events(
            ticket.conversation_id,
            [
                slot_event("handoff_state", state, {"ticket_id": ticket.id}),
                {"event": "resume"},
                # a paused conversation logs no action_listen; rules need one before a turn
                {"event": "action", "name": "action_listen"},
                bot_message(message, metadata),
            ],
        )
