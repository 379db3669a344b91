"""FAQ actions: clarification, answering (with empathy and "Did that solve it?"), and the
customer's verdict on the answer."""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.followup import ask_for_rating
from actions.safety import warn_about_secrets
from bot.faq.clarify import clarification_already_tried, suggestions
from bot.faq.context import (
    answered,
    contexts,
    follow_up_in_context,
    next_step,
    repeats_latest,
    says_already_tried,
)
from bot.faq.knowledge_base import DEFAULT_FOLLOW_UP, FaqEntry
from bot.faq.multi import Corrected, corrected, questions_in, topic_in_clauses
from bot.faq.offtopic import content_stems, is_probably_not_english, off_topic, related
from bot.faq.service import faq_parser, knowledge_base
from bot.followup.service import followup_services
from bot.handoff.escalation import Conversation
from bot.handoff.triggers import ESCALATE_ACTION, escalation_rules
from bot.latest_turn import events_before_latest_message
from bot.profiles.service import remember_topic
from bot.signals.empathy import empathy_response, pick_line

logger = logging.getLogger(__name__)
#: How sure an unsure reading must be that it names advice already given ("I already ...").
REPEAT_READING_CONFIDENCE = 0.2
#: The follow-up of topics only the customer's own account can answer: yes means a person.
ACCOUNT_FOLLOW_UP = "utter_account_follow_up"


class ActionClarify(Action):
    """Offers the top FAQ candidates related to the message once; when that already
    failed, offers a human. A message in another language, or about nothing the bot
    knows, is told what the bot can help with instead of a menu of unrelated entries."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        history = answered(tracker.events)
        if follow_up := follow_up_in_context(tracker.latest_message, knowledge_base(), history):
            return await answer(dispatcher, tracker, domain, [follow_up])  # "and in the app?"
        if tried_again(tracker, history):  # "I already restarted it twice", read unsurely
            return await not_solved(dispatcher, tracker, domain, history)
        fix = await correction_in(tracker)
        if fix is not None and fix.wanted is not None:  # "not X, Y": Y understood
            return await answer(dispatcher, tracker, domain, [fix.wanted])
        if found := await questions_asked(tracker):  # a question buried in a long message
            return await answer(dispatcher, tracker, domain, found)
        if topic := await topic_of_clauses(tracker):  # "I'm at my wits' end, the wifi ..."
            return await answer(dispatcher, tracker, domain, [topic])
        return clarify(dispatcher, tracker, domain, fix)


class ActionUnhappy(Action):
    """An unhappy customer: the help for their problem, led by an acknowledgement, when a
    clause names it ("this is ridiculous, my internet has been down all day"); otherwise
    the apology and the offer of a person."""

    def name(self) -> str:
        return "action_unhappy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if topic := await topic_of_clauses(tracker):
            return await answer(dispatcher, tracker, domain, [topic])
        dispatcher.utter_message(response="utter_mood_unhappy")
        return []


async def topic_of_clauses(tracker: Tracker) -> FaqEntry | None:
    """The FAQ entry a clause of the latest message is surely about (bot.faq.multi)."""
    text = str(tracker.latest_message.get("text") or "")
    human_only = escalation_rules().human_only
    return await topic_in_clauses(text, faq_parser(), knowledge_base(), excluded=human_only)


def clarify(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    fix: Corrected | None = None,
) -> list[dict[str, Any]]:
    """The top FAQ candidates once (never the entry the customer said they do not mean);
    a person when that already failed."""
    warn_about_secrets(dispatcher, tracker.latest_message)
    text = str(tracker.latest_message.get("text") or "")
    if is_probably_not_english(text):
        dispatcher.utter_message(response="utter_english_only")
        return []
    base = knowledge_base()
    negated = fix.negated.id if fix is not None and fix.negated is not None else None
    offered = [
        (c, e)
        for c in suggestions(tracker.latest_message, base)
        if c.entry_id != negated and (e := base.entry(c.entry_id)) is not None
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
    """Answers the FAQ entry the customer asked for or picked: the warning first when they
    shared a secret, an acknowledgement when they are upset, then the answer with "Did that
    solve it?" buttons."""

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
        entries = [entry]
        history = answered(tracker.events)
        if (latest.get("intent") or {}).get("name") == "faq":
            follow_up = follow_up_in_context(latest, knowledge_base(), history)
            if follow_up is not None:  # "and from the app?" after the answer on paying
                return await answer(dispatcher, tracker, domain, [follow_up])
            if repeats_latest(entry, history, knowledge_base()) and says_already_tried(
                str(latest.get("text") or "")
            ):  # "I already restarted it twice": the next step, not the same advice
                return await not_solved(dispatcher, tracker, domain, history)
            fix = await correction_in(tracker)
            if fix is not None and fix.wanted is not None:  # "not X, Y": Y understood
                return await answer(dispatcher, tracker, domain, [fix.wanted])
            if fix is not None and fix.negated == entry:  # never what they said they don't mean
                return clarify(dispatcher, tracker, domain, fix)
            several = await questions_asked(tracker)
            entries = several if len(several) > 1 else entries  # several questions at once
        if entry.intent_response_key in escalation_rules().human_only:
            return [{"event": "followup", "name": ESCALATE_ACTION}]  # a person answers these
        return await answer(dispatcher, tracker, domain, entries)


async def questions_asked(tracker: Tracker) -> list[FaqEntry]:
    """The FAQ entries the customer's latest message asks about when it holds several
    questions (bot.faq.multi); [] for a single question."""
    text = str(tracker.latest_message.get("text") or "")
    human_only = escalation_rules().human_only
    roots = contexts(answered(tracker.events), knowledge_base())
    return await questions_in(
        text, faq_parser(), knowledge_base(), excluded=human_only, contexts=roots
    )


def tried_again(tracker: Tracker, history: list[str]) -> bool:
    """Whether the customer says they already tried what the bot's likeliest reading of
    their message would advise again (the model unsure, but that reading clear enough)."""
    text = str(tracker.latest_message.get("text") or "")
    if not says_already_tried(text):
        return False
    for candidate in suggestions(tracker.latest_message, knowledge_base(), limit=1):
        entry = knowledge_base().entry(candidate.entry_id)
        return bool(
            entry is not None
            and candidate.confidence >= REPEAT_READING_CONFIDENCE
            and repeats_latest(entry, history, knowledge_base())
        )
    return False


async def not_solved(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    history: list[str],
) -> list[dict[str, Any]]:
    """The latest answer did not help: its next step, never the same answer again; after
    the last step, the offer of a person."""
    step = next_step(history, knowledge_base())
    if step is not None:
        return await answer(dispatcher, tracker, domain, [step])
    if offered_a_person(tracker.events):  # said twice: a person, not the same offer again
        return [{"event": "followup", "name": ESCALATE_ACTION}]
    dispatcher.utter_message(response="utter_sorry_not_solved")
    return []


def answered_last_turn(events: list[dict[str, Any]]) -> bool:
    """Whether the bot's answer to the previous message was a FAQ answer (or a next step),
    so a "yes" or "no" now is the customer's verdict on it."""
    return any(
        str((e.get("metadata") or {}).get("utter_action") or "").startswith("utter_faq/")
        for e in events_before_latest_message(events)
        if e.get("event") == "bot"
    )


def offered_a_person(events: list[dict[str, Any]]) -> bool:
    """Whether the bot's answer to the previous message offered a person because nothing
    it tried had helped."""
    return any(
        (e.get("metadata") or {}).get("utter_action") == "utter_sorry_not_solved"
        for e in events_before_latest_message(events)
        if e.get("event") == "bot"
    )


async def correction_in(tracker: Tracker) -> Corrected | None:
    """The correction ("not X, Y") the customer's latest message makes, read by the model."""
    text = str(tracker.latest_message.get("text") or "")
    human_only = escalation_rules().human_only
    return await corrected(text, faq_parser(), knowledge_base(), excluded=human_only)


async def answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    entries: list[FaqEntry],
) -> list[dict[str, Any]]:
    """Answers ``entries`` in order: an acknowledgement first when the customer is upset,
    "Did that solve it?" after the last answer, a check-in per declared topic."""
    latest = tracker.latest_message
    await remember_topic(tracker.sender_id, latest.get("metadata"), entries[0].topic)
    warn_about_secrets(dispatcher, latest)  # a shared card number or password: first
    turns = Conversation(tracker.sender_id, "", tracker.events).user_turns()
    if acknowledgement := empathy_response(turns):
        said = [str(e.get("text")) for e in tracker.events if e.get("event") == "bot"]
        dispatcher.utter_message(text=pick_line(domain["responses"][acknowledgement], said))
    for entry in entries[:-1]:
        dispatcher.utter_message(response=entry.response_name)
    topic = knowledge_base().topic(entries[-1].topic)
    follow_up = topic.follow_up if topic is not None else DEFAULT_FOLLOW_UP
    if follow_up == DEFAULT_FOLLOW_UP:  # the answer itself carries "Did that solve it?" buttons
        buttons = domain["responses"][DEFAULT_FOLLOW_UP][0]["buttons"]
        dispatcher.utter_message(response=entries[-1].response_name, buttons=buttons)
    else:
        dispatcher.utter_message(response=entries[-1].response_name)
        if follow_up:  # the topic's own question (its text and buttons), or nothing
            dispatcher.utter_message(response=follow_up)
    events: list[dict[str, Any]] = [{"event": "slot", "name": "faq_id", "value": entries[-1].id}]
    for entry in entries:
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
        if intent in {"affirm", "deny"} and not answered_last_turn(tracker.events):
            # a plain yes/no to something other than an answer ("anything else?")
            reply = "utter_anything_else" if intent == "affirm" else "utter_deny_ack"
            dispatcher.utter_message(response=reply)
            return []
        solved = intent in {"resolution_confirmed", "affirm"}
        entry = knowledge_base().entry(str(tracker.get_slot("faq_id") or ""))
        own = knowledge_base().topic(entry.topic) if entry is not None else None
        if own is not None and own.follow_up != DEFAULT_FOLLOW_UP:
            # the topic asked its own question ("Would you like a person ...?") or none
            if solved and own.follow_up == ACCOUNT_FOLLOW_UP:
                return [{"event": "followup", "name": ESCALATE_ACTION}]
            dispatcher.utter_message(response="utter_anything_else")
            return []
        metadata = {"faq_id": tracker.get_slot("faq_id")}
        events: list[dict[str, Any]] = [
            {
                "event": "slot",
                "name": "resolution",
                "value": "confirmed" if solved else "not_resolved",
                "metadata": metadata,
            }
        ]
        if not solved:  # the next step when the entry has one, else the offer of a person
            return events + await not_solved(dispatcher, tracker, domain, answered(tracker.events))
        dispatcher.utter_message(response="utter_glad_it_helped")
        try:
            cancel = followup_services().cancel
            events += await cancel(tracker.sender_id, entry.topic) if entry is not None else []
        except Exception:
            logger.exception("could not cancel a check-in")
        return events + ask_for_rating(dispatcher, tracker)
