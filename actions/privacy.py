"""Privacy actions: /privacy (what the bot keeps), and forget-me after a confirmation."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.profile import first_text, private_speaker, speaker
from bot.privacy.report import report_lines
from bot.privacy.service import privacy_service
from bot.privacy.transcripts import TranscriptsUnreachable
from bot.privacy.turns import asked_right_before
from bot.profiles.service import profile_service

logger = logging.getLogger(__name__)

ASK_ACTION = "action_ask_forget_me"
ASK_RESPONSE = "utter_ask_forget_me"


class ActionPrivacyReport(Action):
    """Shows everything stored about the customer, with the choices they have; only in a
    private chat with them."""

    def name(self) -> str:
        return "action_privacy_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        who = private_speaker(dispatcher, tracker)
        if who is None:
            return []
        service = profile_service()
        profile = await service.profile(who)
        if profile is None or who.identity is None:
            dispatcher.utter_message(response="utter_privacy_nothing")
            return []
        lines = report_lines(
            profile,
            service.allowed_level(profile),
            lambda response: first_text(domain, response),
            topic_title=service.topic_title(profile),
            open_ticket=await service.open_ticket(who.identity),
        )
        dispatcher.utter_message(text="\n".join(lines))
        dispatcher.utter_message(response="utter_privacy_options")
        return []


class ActionAskForgetMe(Action):
    """Asks the customer to confirm that everything about them is deleted."""

    def name(self) -> str:
        return ASK_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        private = speaker(tracker).private
        dispatcher.utter_message(response=ASK_RESPONSE if private else "utter_privacy_private_only")
        return []


class ActionForgetMe(Action):
    """Deletes everything about the customer once they confirmed the question just asked
    (otherwise asks it). The running conversation ends with a fresh session and its
    transcript is purged as soon as Rasa has saved the turn."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        who = private_speaker(dispatcher, tracker)
        if who is None or who.identity is None:
            return []
        if not asked_right_before(tracker.events, ASK_RESPONSE):
            dispatcher.utter_message(response=ASK_RESPONSE)
            return []
        try:
            _, events = await privacy_service().forget(who.identity, tracker.sender_id)
        except TranscriptsUnreachable:
            logger.error("forget-me refused: the action server cannot read the tracker store")
            dispatcher.utter_message(response="utter_forget_me_unreachable")
            return []
        except Exception:
            logger.exception("forgetting a customer failed")
            dispatcher.utter_message(response="utter_forget_me_failed")
            return []
        dispatcher.utter_message(response="utter_forget_me_done")
        return events
