"""Follow-up actions: the CSAT rating and its optional comment, and scheduled check-ins."""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.followup.csat import (
    ASKED_SLOT,
    COMMENT_SLOT,
    SCORE_SLOT,
    CsatState,
    comment,
    comment_metadata,
    csat_answer_state,
    csat_buttons,
    latest_request,
    may_ask_csat,
    rating,
    rating_metadata,
)
from bot.followup.reminders import CHECKIN_ENTITY
from bot.followup.service import followup_services

logger = logging.getLogger(__name__)
INVITED_SLOT = "csat_comment_invited"
_NOT_TAKEN = {
    CsatState.ALREADY: "utter_csat_already",
    CsatState.EXPIRED: "utter_csat_expired",
    CsatState.NOT_ASKED: "utter_csat_expired",
}


def ask_for_rating(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Asks for a 1-5 rating unless this conversation already had the question."""
    if not may_ask_csat(tracker.events):
        return []
    dispatcher.utter_message(response="utter_ask_csat", buttons=csat_buttons())
    return [{"event": "slot", "name": ASKED_SLOT, "value": time.time()}]


def _slot(name: str, value: Any, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"event": "slot", "name": name, "value": value}
    if metadata:
        event["metadata"] = metadata
    return event


class ActionAskCsat(Action):
    """Asks for a rating after an agent handed the conversation back (once per conversation)."""

    def name(self) -> str:
        return "action_ask_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return ask_for_rating(dispatcher, tracker)


class ActionRecordCsat(Action):
    """Keeps the 1-5 rating with who resolved the conversation (docs/events.md), once per
    request and only while it is fresh; then invites an optional comment."""

    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = csat_answer_state(tracker.events, time.time())
        score = rating(next(tracker.get_latest_entity_values(SCORE_SLOT), None))
        if state is not CsatState.OK:
            dispatcher.utter_message(response=_NOT_TAKEN[state])
            return [_slot(INVITED_SLOT, False)]
        if score is None:
            dispatcher.utter_message(response="utter_ask_csat", buttons=csat_buttons())
            return [_slot(INVITED_SLOT, False)]
        dispatcher.utter_message(response="utter_csat_thanks")
        metadata = rating_metadata(tracker.slots, latest_request(tracker.events))
        return [
            _slot(SCORE_SLOT, score, metadata),
            _slot(COMMENT_SLOT, None),  # the comment form asks only for an empty slot
            _slot(INVITED_SLOT, True),
        ]


class ActionExtractCsatComment(Action):
    """Fills ``csat_comment`` from the customer's next free text while the comment form asks
    for it (a custom slot mapping); "No thanks", buttons and a request for a person are not
    comments, so the form steps aside for them."""

    def name(self) -> str:
        return "action_extract_csat_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message
        text = comment(latest.get("text"), (latest.get("intent") or {}).get("name"))
        if text is None:
            return []
        return [_slot(COMMENT_SLOT, text, comment_metadata(tracker.events))]


class ActionCheckin(Action):
    """Says a due check-in (triggered by its reminder or by `bot worker`) exactly once."""

    def name(self) -> str:
        return "action_checkin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        value = next(tracker.get_latest_entity_values(CHECKIN_ENTITY), None)
        try:
            checkin_id = int(str(value))
        except ValueError:
            return []
        try:
            checkin = await followup_services().claim(tracker.sender_id, checkin_id, time.time())
        except Exception:
            logger.exception("could not claim check-in %s", checkin_id)
            return []
        if checkin is not None:
            dispatcher.utter_message(response=checkin.response)
        return []
