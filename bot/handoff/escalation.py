"""Escalating a conversation: summarise it, open (or find) its ticket, ping agents, and
tell the customer honestly what happens next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.faq.knowledge_base import KnowledgeBase
from bot.handoff.notifier import Notifier
from bot.handoff.rasa_api import slot_event
from bot.handoff.schedule import BusinessHours
from bot.handoff.store import TicketStore
from bot.handoff.tickets import EscalationReason, NewTicket, Ticket, Turn

LAST_TURNS = 6
SUMMARY_CHARS = 280


@dataclass(frozen=True)
class Conversation:
    """What escalation needs from a tracker: its id, channel, customer and events."""

    conversation_id: str
    channel: str
    events: Sequence[Mapping[str, Any]]
    customer_name: str = ""
    tier: str = "standard"

    def user_turns(self) -> list[Mapping[str, Any]]:
        """Parse data (with text) of the customer's messages since the session started."""
        turns: list[Mapping[str, Any]] = []
        for event in self.events:
            if event.get("event") == "session_started":
                turns = []
            elif event.get("event") == "user":
                turns.append({**(event.get("parse_data") or {}), "text": event.get("text") or ""})
        return turns


@dataclass(frozen=True)
class Escalated:
    """The outcome, for the customer message and the tracker events."""

    ticket: Ticket
    created: bool
    position: int | None
    wait: timedelta | None
    open_now: bool
    next_opening: datetime | None


def customer_name(metadata: Mapping[str, Any]) -> str:
    """The customer's display name from the channel's message metadata, if it has one."""
    telegram_user = (metadata.get("telegram") or {}).get("user") or {}
    return str(metadata.get("user_name") or telegram_user.get("first_name") or "")


def new_ticket(
    conversation: Conversation, reason: EscalationReason, knowledge_base: KnowledgeBase
) -> NewTicket:
    """The ticket for ``conversation``: topic, a short summary, last turns, signals."""
    turns = conversation.user_turns()
    topic = _topic(turns, knowledge_base)
    asked = [
        t["text"]
        for t in turns
        if t.get("text") and not str(t["text"]).startswith(("/", "EXTERNAL:"))
    ]
    summary = f"{reason.value.replace('_', ' ').capitalize()}. "
    if asked:
        summary += f"First asked: \u201c{asked[0]}\u201d"
        if len(asked) > 1:
            summary += f"; latest: \u201c{asked[-1]}\u201d"
    sentiment = [s for t in turns if (s := (t.get("sentiment") or {}).get("score")) is not None]
    urgency = [u for t in turns if isinstance(u := t.get("urgency"), (int, float))]
    return NewTicket(
        conversation_id=conversation.conversation_id,
        channel=conversation.channel,
        reason=reason,
        customer_name=conversation.customer_name,
        topic=topic,
        summary=summary[:SUMMARY_CHARS],
        last_turns=_last_turns(conversation.events),
        sentiment=float(min(sentiment)) if sentiment else 0.0,
        urgency=float(max(urgency)) if urgency else 0.0,
        tier=conversation.tier,
    )


async def escalate(
    conversation: Conversation,
    reason: EscalationReason,
    *,
    store: TicketStore,
    notifier: Notifier,
    hours: BusinessHours,
    knowledge_base: KnowledgeBase,
    now: datetime | None = None,
) -> Escalated:
    """Opens the conversation's ticket (once) and pings the agents about a new one."""
    now = now or datetime.now(timezone.utc)
    opened = await store.open(new_ticket(conversation, reason, knowledge_base))
    ticket = opened.ticket
    if opened.created:
        reference = await notifier.ticket_opened(ticket)
        if reference:
            await store.set_ping_ref(ticket.id, reference)
    open_now = hours.is_open(now)
    return Escalated(
        ticket=ticket,
        created=opened.created,
        position=await store.position(ticket.id),
        wait=await store.estimated_wait(ticket.id),
        open_now=open_now,
        next_opening=None if open_now else hours.next_opening(now),
    )


def customer_message(escalated: Escalated) -> tuple[str, dict[str, Any]]:
    """The domain response (and its values) that tells the customer what happens next."""
    if not escalated.open_now and escalated.next_opening is not None:
        return "utter_handoff_closed", {"next_opening": format_opening(escalated.next_opening)}
    values = {"position": escalated.position or 1}
    if escalated.wait is None:
        return "utter_handoff_queued_no_estimate", values
    return "utter_handoff_queued", {**values, "wait": format_wait(escalated.wait)}


def tracker_events(escalated: Escalated, reason: EscalationReason) -> list[dict[str, Any]]:
    """The slot events (docs/events.md) and the pause that hands the conversation over.

    Outside business hours the bot is not paused: the customer may keep using it until an
    agent claims the ticket (the claim pauses the conversation then)."""
    ticket = escalated.ticket
    metadata = {"ticket_id": ticket.id, "reason": reason.value, "at": ticket.created_at.timestamp()}
    events = [
        slot_event("handoff_ticket", str(ticket.id)),
        slot_event("handoff_state", ticket.state.value, metadata),
    ]
    if not escalated.open_now:
        return events
    # Paused, Rasa logs no action_listen after this turn; without one its own rules (the
    # /restart rule) would not match the customer's next message.
    return [*events, {"event": "action", "name": "action_listen"}, {"event": "pause"}]


def format_wait(wait: timedelta) -> str:
    """A wait as people say it: "less than a minute", "about 6 minutes", "about 2 hours"."""
    minutes = round(wait.total_seconds() / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {round(minutes / 60)} hours"


def format_opening(at: datetime) -> str:
    """When the team is next available, in the schedule's own timezone."""
    return at.strftime("%A at %H:%M (%Z)")


def _topic(turns: Sequence[Mapping[str, Any]], knowledge_base: KnowledgeBase) -> str:
    """What the customer was asking about: the latest FAQ topic, else the latest topic."""
    faq_topics = {topic.name for topic in knowledge_base.topics}
    fallback = "other"
    for turn in reversed(turns):
        if (intent := (turn.get("intent") or {}).get("name")) == "faq":
            selector = (turn.get("response_selector") or {}).get("faq") or {}
            key = (selector.get("response") or {}).get("intent_response_key")
            if key and (topic := knowledge_base.topic_of(str(key))):
                return topic
        if turn.get("topic") in faq_topics:
            return str(turn["topic"])
        if fallback == "other" and turn.get("topic") and intent != "nlu_fallback":
            fallback = str(turn["topic"])
    return fallback


def _last_turns(events: Sequence[Mapping[str, Any]]) -> tuple[Turn, ...]:
    turns = [
        Turn(
            who="customer" if e["event"] == "user" else "bot",
            text=str(e.get("text")),
            at=datetime.fromtimestamp(float(e.get("timestamp") or 0), timezone.utc),
        )
        for e in events
        if e.get("event") in {"user", "bot"} and e.get("text")
    ]
    return tuple(turns[-LAST_TURNS:])
