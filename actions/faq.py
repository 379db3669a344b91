"""FAQ actions: clarification and answering a chosen entry."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.faq.clarify import clarification_already_tried, suggestions
from bot.faq.service import knowledge_base


class ActionClarify(Action):
    """Offers the top FAQ candidates once; when that already failed, offers a human."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        candidates = suggestions(tracker.latest_message, knowledge_base())
        if not candidates or clarification_already_tried(tracker.events):
            dispatcher.utter_message(response="utter_offer_human")
            return []
        none_of_these = domain["responses"]["utter_clarify_none"][0]["text"]
        buttons = [{"title": s.question, "payload": s.payload} for s in candidates]
        buttons.append({"title": none_of_these, "payload": "/clarify_none"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


class ActionAnswerFaq(Action):
    """Answers the FAQ entry the customer picked from a clarification."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        entry = knowledge_base().entry(str(tracker.get_slot("faq_id") or ""))
        if entry is None:
            dispatcher.utter_message(response="utter_rephrase")
            return []
        dispatcher.utter_message(response=entry.response_name)
        return []
