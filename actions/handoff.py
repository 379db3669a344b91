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
from bot.handoff.service import handoff_services
from bot.handoff.tickets import EscalationReason
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
