"""Customers' messages during a handoff reach the agents: a Rasa event broker.

Configured in endpoints.yml as ``event_broker: {type: bot.handoff.relay.RelayEventBroker}``.
Rasa logs a paused conversation's messages without answering them; this broker sees
every logged event and forwards the customer's words (and a reference to their files)
to the ticket's agents, and acts on the customer's choices while they wait: cancel,
restart, keep waiting, leave a message. It is the one place that does so for every
conversation with an open ticket, paused or not, so a choice is never handled twice.

A queued ``bot_failure`` ticket is no relay (the bot was not paused, it answers): the
customer's messages are not forwarded (the ones the bot fails on again reach the agents
with the apology), and the bot's first normal answer closes the ticket
(:mod:`bot.handoff.bot_failure`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.handoff.attachments import UNSUPPORTED_INTENT, describe_attachments
from bot.handoff.bot_failure import close_recovered, is_normal_answer
from bot.handoff.service import HandoffServices, handoff_services
from bot.handoff.tickets import EscalationReason, Ticket, TicketState

logger = logging.getLogger(__name__)

CANCEL_INTENT = "handoff_cancel"
RESTART_INTENT = "restart"
KEEP_WAITING_INTENT = "handoff_keep_waiting"
LEAVE_MESSAGE_INTENT = "handoff_leave_message"
#: A typed cancel ("never mind") must be this sure; below it the words go to the agent.
#: Buttons and commands (/cancel) carry confidence 1.
CANCEL_CONFIDENCE = 0.8


class RelayEventBroker:
    """Forwards customer messages of conversations with an open ticket (duck-typed EventBroker)."""

    def __init__(self, services: HandoffServices | None = None) -> None:
        self._services = services
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: Any, event_loop: Any = None
    ) -> RelayEventBroker:
        return cls()

    def publish(self, event: dict[str, Any]) -> None:
        """Called by Rasa's tracker store for every new event; never blocks the turn."""
        if event.get("event") not in ("user", "bot") or not event.get("sender_id"):
            return
        if event["event"] == "user" and (event.get("metadata") or {}).get("is_external"):
            return  # an intent the bot triggered (a hand-back, a check-in), not the customer
        task = asyncio.get_running_loop().create_task(self._forward(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward(self, event: dict[str, Any]) -> None:
        services = self._services or handoff_services()
        try:
            ticket = await services.store.find_open(str(event["sender_id"]))
            if ticket is None or ticket.state not in (TicketState.QUEUED, TicketState.CLAIMED):
                return
            if float(event.get("timestamp") or 0) < ticket.created_at.timestamp():
                return  # the message that escalated: already in the ticket's summary
            if _awaits_recovery(ticket):
                if is_normal_answer(event):
                    await close_recovered(ticket, services)
                return
            if event["event"] != "user":
                return
            await self._handle(services, ticket, event)
        except Exception:
            logger.exception("could not relay a customer message to the agents")

    @staticmethod
    async def _handle(services: HandoffServices, ticket: Ticket, event: dict[str, Any]) -> None:
        intent = (event.get("parse_data") or {}).get("intent") or {}
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        text = str(event.get("text") or "")
        typed_cancel = ticket.state is TicketState.QUEUED and services.config.is_cancel_phrase(text)
        if (name == CANCEL_INTENT and confidence >= CANCEL_CONFIDENCE) or typed_cancel:
            if ticket.state is TicketState.CLAIMED and not text.startswith("/"):
                await services.notifier.customer_said(ticket, text)  # the agent sees why
            await services.exits.cancel(ticket)
        elif name == RESTART_INTENT:
            await services.exits.restart(ticket)
        elif name == KEEP_WAITING_INTENT:
            await services.exits.tell(ticket, "utter_handoff_keep_waiting")
        elif name == LEAVE_MESSAGE_INTENT:
            await services.exits.leave_message(ticket)
        elif name == UNSUPPORTED_INTENT:
            metadata = event.get("metadata") or {}
            await services.notifier.customer_said(ticket, describe_attachments(metadata))
        else:
            await services.notifier.customer_said(ticket, text)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _awaits_recovery(ticket: Ticket) -> bool:
    """A ``bot_failure`` ticket nobody has claimed: closed by the bot's next answer."""
    return ticket.reason is EscalationReason.BOT_FAILURE and ticket.state is TicketState.QUEUED
