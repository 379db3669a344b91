"""FAQ actions: clarification, answering (with empathy and "Did that solve it?"), and the
customer's verdict on the answer."""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.followup import ask_for_rating
from bot.faq.clarify import clarification_already_tried, suggestions
from bot.faq.offtopic import content_stems, is_probably_not_english, off_topic, related
from bot.faq.service import knowledge_base
from bot.followup.service import followup_services
from bot.handoff.escalation import Conversation
from bot.profiles.service import remember_topic
from bot.signals.empathy import empathy_response, pick_line

logger = logging.getLogger(__name__)


class ActionClarify(Action):
    """Offers the top FAQ candidates related to the message once; when that already
    failed, offers a human. A message in another language, or about nothing the bot
    knows, is told what the bot can help with instead of a menu of unrelated entries."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        if is_probably_not_english(text):
            dispatcher.utter_message(response="utter_english_only")
            return []
        base = knowledge_base()
        offered = [
            (c, e)
            for c in suggestions(tracker.latest_message, base)
            if (e := base.entry(c.entry_id)) is not None
        ]
        if offered and off_topic(text, [e for _, e in offered]):
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        if content_stems(text):  # only the entries the message has a word in common with
            offered = [(c, e) for c, e in offered if related(text, e)]
        candidates = [c for c, _ in offered]
        if not candidates or clarification_already_tried(tracker.events):
            dispatcher.utter_message(response="utter_offer_human")
            return []
        none_of_these = domain["responses"]["utter_clarify_none"][0]["text"]
        buttons = [{"title": s.question, "payload": s.payload} for s in candidates]
        buttons.append({"title": none_of_these, "payload": "/clarify_none"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


class ActionAnswer(Action):
    """Answers the FAQ entry the customer asked for or picked: an acknowledgement first when
    they are upset, then the answer with "Did that solve it?" buttons."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message
        entry_id = str(tracker.get_slot("faq_id") or "")
        if (latest.get("intent") or {}).get("name") == "faq":
            selected = ((latest.get("response_selector") or {}).get("faq") or {}).get(
                "response"
            ) or {}
            entry_id = str(selected.get("intent_response_key") or entry_id)
        entry = knowledge_base().entry(entry_id)
        if entry is None:
            dispatcher.utter_message(response="utter_rephrase")
            return []
        await remember_topic(tracker.sender_id, latest.get("metadata"), entry.topic)
        turns = Conversation(tracker.sender_id, "", tracker.events).user_turns()
        if acknowledgement := empathy_response(turns):
            said = [str(e.get("text")) for e in tracker.events if e.get("event") == "bot"]
            dispatcher.utter_message(text=pick_line(domain["responses"][acknowledgement], said))
        follow_up = domain["responses"]["utter_did_that_help"][0]["buttons"]
        dispatcher.utter_message(response=entry.response_name, buttons=follow_up)
        events: list[dict[str, Any]] = [{"event": "slot", "name": "faq_id", "value": entry.id}]
        try:  # a check-in later, when designers declared one for the topic (docs/followup.md)
            events += await followup_services().schedule(
                tracker.sender_id, entry.topic, entry.id, time.time()
            )
        except Exception:
            logger.exception("could not schedule a check-in")
        return events


class ActionRecordResolution(Action):
    """Keeps the customer's verdict (docs/events.md); thanks, cancels the topic's pending
    check-in and asks for a rating once, or offers more help."""

    def name(self) -> str:
        return "action_record_resolution"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        solved = intent in {"resolution_confirmed", "affirm"}
        metadata = {"faq_id": tracker.get_slot("faq_id")}
        events: list[dict[str, Any]] = [
            {
                "event": "slot",
                "name": "resolution",
                "value": "confirmed" if solved else "not_resolved",
                "metadata": metadata,
            }
        ]
        if not solved:
            dispatcher.utter_message(response="utter_sorry_not_solved")
            return events
        dispatcher.utter_message(response="utter_glad_it_helped")
        topic = knowledge_base().topic_of(str(tracker.get_slot("faq_id") or ""))
        try:
            events += await followup_services().cancel(tracker.sender_id, topic) if topic else []
        except Exception:
            logger.exception("could not cancel a check-in")
        return events + ask_for_rating(dispatcher, tracker)
