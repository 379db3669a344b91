"""Handoff actions: escalate to the human queue; record the customer's rating."""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff.escalation import (
    Conversation,
    customer_message,
    customer_name,
    escalate,
    tracker_events,
)
from bot.handoff.service import handoff_services
from bot.handoff.tickets import EscalationReason
from bot.handoff.triggers import EscalationRules, escalation_reason
from bot.signals.feedback import csat_answer_state, csat_buttons, may_ask_csat

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
        conversation = conversation_of(tracker)
        reason = (
            escalation_reason(conversation.user_turns(), EscalationRules.load())
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


class ActionAskCsat(Action):
    """Asks for a 1-5 rating, at most once per conversation."""

    def name(self) -> str:
        return "action_ask_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not may_ask_csat(tracker.slots):
            return []
        dispatcher.utter_message(response="utter_ask_csat", buttons=csat_buttons())
        return [{"event": "slot", "name": "csat_asked_at", "value": time.time()}]


class ActionRecordCsat(Action):
    """Keeps the customer's 1-5 rating with who resolved the conversation (docs/events.md);
    once per conversation, and only while the request is fresh."""

    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        score = next(tracker.get_latest_entity_values("csat_score"), None)
        try:
            rating = int(float(str(score)))
        except ValueError:
            rating = 0
        state = csat_answer_state(tracker.slots, time.time())
        if state == "already":
            dispatcher.utter_message(response="utter_csat_already")
            return []
        if state == "expired":
            dispatcher.utter_message(response="utter_csat_expired")
            return []
        if not 1 <= rating <= 5:
            dispatcher.utter_message(response="utter_ask_csat", buttons=csat_buttons())
            return []
        resolved_by = "agent" if tracker.get_slot("handoff_state") == "resolved" else "bot"
        ticket = tracker.get_slot("handoff_ticket")
        dispatcher.utter_message(response="utter_csat_thanks")
        metadata = {"resolved_by": resolved_by, "ticket_id": ticket}
        return [{"event": "slot", "name": "csat_score", "value": rating, "metadata": metadata}]
