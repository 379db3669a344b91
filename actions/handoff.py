"""Handoff actions: escalate to the human queue (the rating afterwards: actions/followup.py)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import warn_about_secrets
from bot.handoff.escalation import (
    Conversation,
    customer_message,
    customer_name,
    escalate,
    tracker_events,
)
from bot.handoff.exits import CALLBACK_EVENT
from bot.handoff.service import handoff_services
from bot.handoff.tickets import EscalationReason, TicketState
from bot.handoff.triggers import escalation_reason, escalation_rules

logger = logging.getLogger(__name__)


def conversation_of(tracker: Tracker) -> Conversation:
    """The escalation's view of a rasa_sdk tracker."""
    metadata = tracker.latest_message.get("metadata") or {}
    return Conversation(
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "rest",
        events=tracker.events,
        customer_name=customer_name(metadata),
        tier=str(metadata.get("customer_tier") or "standard"),
    )


class ActionEscalate(Action):
    """Opens a ticket, pings agents, pauses the bot, and tells the customer what happens next."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_about_secrets(dispatcher, tracker.latest_message)  # a shared password: first
        conversation = conversation_of(tracker)
        reason = (
            escalation_reason(conversation.user_turns(), escalation_rules())
            or EscalationReason.REQUESTED
        )
        try:
            services = handoff_services()
            outcome = await escalate(
                conversation,
                reason,
                store=services.store,
                notifier=services.notifier,
                hours=services.config.hours,
                knowledge_base=services.knowledge_base,
            )
        except Exception:
            logger.exception("escalation failed for a conversation")
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        response, values = customer_message(outcome)
        dispatcher.utter_message(response=response, **values)
        return tracker_events(outcome, reason)


#: The slot values of a conversation with an open ticket: the relay acts on its choices.
OPEN_HANDOFF_STATES = {TicketState.QUEUED.value, TicketState.CLAIMED.value}


class ActionHandoffChoice(Action):
    """ "Never mind", "Keep waiting" and "Leave a message" when the conversation has no open
    ticket (with one, bot/handoff/relay.py acts on them, paused or not, and this stays
    silent so nothing is answered twice)."""

    def name(self) -> str:
        return "action_handoff_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("handoff_state") in OPEN_HANDOFF_STATES:
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "handoff_cancel":
            dispatcher.utter_message(response="utter_handoff_nothing_to_cancel")
            return []
        # keep waiting / leave a message after the request expired: a new request
        conversation = conversation_of(tracker)
        try:
            services = handoff_services()
            outcome = await escalate(
                conversation,
                EscalationReason.REQUESTED,
                store=services.store,
                notifier=services.notifier,
                hours=services.config.hours,
                knowledge_base=services.knowledge_base,
            )
            if intent == "handoff_leave_message":
                await services.store.note(outcome.ticket.id, CALLBACK_EVENT, "customer")
                await services.notifier.callback_requested(outcome.ticket)
        except Exception:
            logger.exception("could not reopen a request for a person")
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        if intent == "handoff_leave_message":
            dispatcher.utter_message(response="utter_handoff_leave_message")
        else:
            response, values = customer_message(outcome)
            dispatcher.utter_message(response=response, **values)
        return tracker_events(outcome, EscalationReason.REQUESTED)
