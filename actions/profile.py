"""Personalisation actions: recognise the customer at each session start, follow up last
time's topic, the customer's personalisation choice, and linking their chat accounts."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.faq.clarify import Suggestion
from bot.profiles.greeting import GREETING_SLOT, NAME_SLOT, PLAIN, Greeting
from bot.profiles.link_codes import LINK_CODE_TTL, code_in
from bot.profiles.model import Level
from bot.profiles.service import profile_service
from bot.profiles.session import session_start_events, starting_metadata
from bot.profiles.speaker import Speaker, speaker_of

logger = logging.getLogger(__name__)

LINK_CODE_SLOT = "profile_link_code"
LEVEL_INTENTS = {f"personalisation_{level.value}": level for level in Level}


def speaker(tracker: Tracker) -> Speaker:
    """The author of the latest message."""
    return speaker_of(tracker.sender_id, tracker.latest_message.get("metadata"))


def private_speaker(dispatcher: CollectingDispatcher, tracker: Tracker) -> Speaker | None:
    """The customer, when this is a private chat with them; otherwise says why not (profile
    data is never shown in a group or to someone else) and gives None."""
    who = speaker(tracker)
    if who.private and who.identity is not None:
        return who
    dispatcher.utter_message(response="utter_privacy_private_only")
    return None


def first_text(domain: dict[str, Any], response: str) -> str:
    """The text of a domain response's first variant."""
    return str(domain["responses"][response][0]["text"])


class ActionSessionStart(Action):
    """Rasa's session start, plus counting the conversation in the customer's profile and
    choosing their greeting. A failing profile store never stops the conversation."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        metadata = starting_metadata(tracker.get_slot("session_started_metadata"), tracker.events)
        greeting: Greeting = PLAIN
        if metadata:  # a customer's message starts it (not the bot's own proactive events)
            try:
                greeting = await profile_service().start_conversation(
                    tracker.sender_id, speaker_of(tracker.sender_id, metadata)
                )
            except Exception:
                logger.exception("could not update the customer's profile; plain greeting")
        carry = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True)
        return session_start_events(tracker.applied_events(), bool(carry), greeting)


class ActionProfileSameTopic(Action):
    """It is about last time's topic: that topic's questions as buttons."""

    def name(self) -> str:
        return "action_profile_same_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        entries = await profile_service().topic_entries(speaker(tracker))
        if not entries:
            dispatcher.utter_message(response="utter_profile_new_topic")
        else:
            buttons = [
                {"title": e.question, "payload": Suggestion(e.id, e.question, 1.0).payload}
                for e in entries
            ]
            buttons.append(
                {"title": first_text(domain, "utter_clarify_none"), "payload": "/clarify_none"}
            )
            dispatcher.utter_message(response="utter_profile_same_topic", buttons=buttons)
        return [{"event": "slot", "name": GREETING_SLOT, "value": "name"}]  # asked and answered


class ActionProfileNewTopic(Action):
    """It is about something else: ask what, and never ask about last time again."""

    def name(self) -> str:
        return "action_profile_new_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_profile_new_topic")
        return [{"event": "slot", "name": GREETING_SLOT, "value": "name"}]


class ActionSetPersonalisation(Action):
    """The customer's own level (full, name only, off), from the /privacy buttons."""

    def name(self) -> str:
        return "action_set_personalisation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        who = private_speaker(dispatcher, tracker)
        if who is None:
            return []
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
        service = profile_service()
        profile = await service.set_level(who, LEVEL_INTENTS.get(intent, Level.FULL))
        if profile is None:
            dispatcher.utter_message(response="utter_privacy_nothing")
            return []
        level = service.allowed_level(profile)
        dispatcher.utter_message(
            response="utter_personalisation_set",
            level=first_text(domain, f"utter_personalisation_level_{level.value}"),
        )
        if level is Level.OFF:
            return PLAIN.slot_events()
        if level is Level.NAME and tracker.get_slot(NAME_SLOT):
            return [{"event": "slot", "name": GREETING_SLOT, "value": "name"}]
        return []


class ActionLinkAccount(Action):
    """Linking accounts: "link my accounts" shows a one-time code; "link <code>" sent from
    the other app asks the customer to confirm linking the two."""

    def name(self) -> str:
        return "action_link_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        who = private_speaker(dispatcher, tracker)
        if who is None:
            return []
        service = profile_service()
        telegram = (tracker.latest_message.get("metadata") or {}).get("telegram") or {}
        written = f"{tracker.latest_message.get('text') or ''} {telegram.get('command_args') or ''}"
        code = code_in(written)
        if code is None:
            new_code = await service.new_link_code(who)
            minutes = int(LINK_CODE_TTL.total_seconds() // 60)
            dispatcher.utter_message(response="utter_link_code", code=new_code, minutes=minutes)
            return []
        offer = await service.link_offer(who, code)
        if offer.status != "ok":
            response = "utter_link_already" if offer.status == "already" else "utter_link_invalid"
            dispatcher.utter_message(response=response)
            return []
        dispatcher.utter_message(
            response="utter_link_ask", channel=offer.channel.capitalize(), name=offer.name
        )
        return [{"event": "slot", "name": LINK_CODE_SLOT, "value": code}]


class ActionLinkConfirm(Action):
    """The customer confirmed: link the two accounts."""

    def name(self) -> str:
        return "action_link_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = tracker.get_slot(LINK_CODE_SLOT)
        linked = await profile_service().link(speaker(tracker), str(code)) if code else None
        dispatcher.utter_message(response="utter_link_done" if linked else "utter_link_invalid")
        return [{"event": "slot", "name": LINK_CODE_SLOT, "value": None}]


class ActionUnlinkAccount(Action):
    """Unlinks this chat app from the customer's other linked accounts."""

    def name(self) -> str:
        return "action_unlink_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        who = private_speaker(dispatcher, tracker)
        if who is None:
            return []
        channels = await profile_service().unlink(who)
        if not channels:
            dispatcher.utter_message(response="utter_unlink_not_linked")
            return []
        names = " and ".join(channel.capitalize() for channel in channels)
        dispatcher.utter_message(response="utter_unlink_done", channel=names)
        return []
