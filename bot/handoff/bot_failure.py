"""When the bot itself fails on a customer's message (Rasa raised while handling it: a lock
wait that timed out, an unreachable tracker store ...): an apology and an escalation, never
silence. The channel adapters call :func:`apologise_and_escalate` with the message Rasa
could not handle and send the customer what it returns.

A ``bot_failure`` ticket is not a relay: while it is queued, the messages the bot fails on
again reach the agents (here), the ones it answers do not, and the first normal answer
closes the ticket (:func:`bot.handoff.relay.RelayEventBroker`, :func:`close_recovered`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.handoff.escalation import Conversation, customer_name, escalate
from bot.handoff.service import HandoffServices, handoff_services
from bot.handoff.texts import Texts, domain_texts
from bot.handoff.tickets import EscalationReason, Ticket

logger = logging.getLogger(__name__)
APOLOGY = "utter_bot_failure"
QUEUE_UNREACHABLE = "utter_handoff_failed"  # says sorry and gives the phone number
#: Metadata key marking the bot messages of a failure (so they do not count as answers).
FAILURE_MARK = "bot_failure"
RECOVERED_ACTOR = "bot"
RECOVERED_DETAIL = "the bot answered the customer's next message normally"


async def apologise_and_escalate(
    conversation_id: str,
    channel: str,
    text: str,
    metadata: Mapping[str, Any] | None = None,
    *,
    services: HandoffServices | None = None,
    texts: Texts | None = None,
) -> list[dict[str, Any]]:
    """Opens (or finds) the conversation's ticket with reason ``bot_failure`` and the
    customer's message, pings the agents about a new one, and returns the messages for the
    customer: the apology with their place in the queue; or, when the queue cannot be
    reached either, the apology with the phone number. (The queue's usual "anything you
    write goes straight to them" is not promised: the bot could not pause itself.)"""
    texts = texts or domain_texts()
    metadata = metadata or {}
    conversation = Conversation(
        conversation_id=conversation_id,
        channel=channel,
        events=[{"event": "user", "text": text, "timestamp": time.time(), "parse_data": {}}],
        customer_name=customer_name(metadata),
        tier=str(metadata.get("customer_tier") or "standard"),
    )
    try:
        services = services or handoff_services()
        outcome = await escalate(
            conversation,
            EscalationReason.BOT_FAILURE,
            store=services.store,
            notifier=services.notifier,
            hours=services.config.hours,
            knowledge_base=services.knowledge_base,
        )
        if not outcome.created:  # failing again: the agents see this message too
            await services.notifier.customer_said(outcome.ticket, text)
    except Exception:
        logger.exception("the bot failed and so did its escalation (%s)", channel)
        return [texts.render(QUEUE_UNREACHABLE)]
    return [texts.render(APOLOGY, position=outcome.position or 1)]


def is_normal_answer(event: Mapping[str, Any]) -> bool:
    """Whether a logged ``bot`` event is the bot answering: not an apology for a failure
    (:data:`FAILURE_MARK`), not a handoff notice nor an agent (``metadata.source``)."""
    metadata = event.get("metadata") or {}
    return (
        event.get("event") == "bot"
        and not metadata.get(FAILURE_MARK)
        and not metadata.get("source")
        and bool(event.get("text") or event.get("data"))
    )


async def close_recovered(ticket: Ticket, services: HandoffServices) -> Ticket:
    """Closes a queued ``bot_failure`` ticket once the bot answers again (``abandoned`` by
    the bot, in the audit trail) and updates the agents' ping."""
    closed = await services.store.abandon(ticket.id, RECOVERED_ACTOR, RECOVERED_DETAIL)
    logger.info("ticket %s closed: %s", ticket.id, RECOVERED_DETAIL)
    await services.notifier.ticket_changed(closed)
    return closed


async def answer_failure(
    output: OutputChannel,
    conversation_id: str,
    channel: str,
    text: str,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """:func:`apologise_and_escalate`, with its messages sent through the channel's
    ``output`` (a message that cannot be sent is logged; the channel records it)."""
    for message in await apologise_and_escalate(conversation_id, channel, text, metadata):
        try:
            await output.send_response(conversation_id, message)
        except Exception:
            logger.exception("could not send the apology on %s", channel)
