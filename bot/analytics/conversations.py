"""Conversations (Rasa sessions) and the facts the KPIs need, built from the event log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from bot.analytics.events import (
    SESSION_START_ACTION,
    SESSION_STARTED,
    Period,
    SenderHistory,
    StoredEvent,
    split_sessions,
    utc,
)
from bot.analytics.source import EventSource

FALLBACK_INTENT = "nlu_fallback"
CHANNELS = ("slack", "telegram", "rest")
OTHER_TOPIC = "other"


@dataclass
class Ticket:
    """One handoff to a person, from ``queued`` to its final state."""

    ticket_id: str
    queued_at: float
    reason: str | None = None
    state: str = "queued"
    claimed_at: float | None = None
    agent: str | None = None
    first_reply_at: float | None = None
    resolved_at: float | None = None


@dataclass(frozen=True)
class UserTurn:
    """A customer message with what NLU made of it."""

    text: str
    at: float
    intent: str | None
    confidence: float | None
    topic: str
    faq_id: str | None
    sentiment: float | None

    @property
    def is_fallback(self) -> bool:
        """A fallback turn: the intent is ``nlu_fallback``."""
        return self.intent == FALLBACK_INTENT


@dataclass
class Conversation:
    """One Rasa session of one sender, with at least one customer message."""

    sender_id: str
    started: float
    ended: float
    channel: str
    turns: list[UserTurn] = field(default_factory=list)
    bot_messages: int = 0
    agent_messages: int = 0
    tickets: list[Ticket] = field(default_factory=list)
    resolution: str | None = None
    csat: int | None = None
    csat_by: str | None = None
    csat_comment: str | None = None  # the optional free text after the rating
    next_contact_at: float | None = None  # the sender's next customer message, later on

    @property
    def id(self) -> str:
        """``<sender id>@<start, UTC, basic ISO 8601>``: stable across periods and pruning."""
        return f"{self.sender_id}@{utc(self.started):%Y%m%dT%H%M%SZ}"

    @property
    def topic(self) -> str:
        """The first customer message's topic other than ``other``; else ``other``."""
        return next((t.topic for t in self.turns if t.topic != OTHER_TOPIC), OTHER_TOPIC)

    @property
    def escalated(self) -> bool:
        """Handed to a person: a ticket was queued or an agent wrote."""
        return bool(self.tickets) or self.agent_messages > 0

    @property
    def fallback_turns(self) -> int:
        return sum(1 for t in self.turns if t.is_fallback)


def _metadata(event: StoredEvent) -> Mapping[str, Any]:
    metadata = event.data.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _channel(sender_id: str, first_user: StoredEvent) -> str:
    channel = first_user.data.get("input_channel")
    if isinstance(channel, str) and channel:
        return channel
    prefix = sender_id.split(":", 1)[0]
    return prefix if prefix in CHANNELS else "unknown"


def user_turn(event: StoredEvent) -> UserTurn:
    """The customer message in a ``user`` event."""
    parse = event.data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    selector = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key = selector.get("intent_response_key")
    sentiment = parse.get("sentiment") or {}
    score = sentiment.get("score") if isinstance(sentiment, dict) else None
    return UserTurn(
        text=str(event.data.get("text") or ""),
        at=event.timestamp,
        intent=intent.get("name") or event.intent_name,
        confidence=intent.get("confidence"),
        topic=str(parse.get("topic") or OTHER_TOPIC),
        faq_id=key.split("/", 1)[1] if isinstance(key, str) and "/" in key else None,
        sentiment=float(score) if isinstance(score, (int, float)) else None,
    )


def _ticket_for(conversation: Conversation, metadata: Mapping[str, Any]) -> Ticket | None:
    ticket_id = metadata.get("ticket_id")
    for ticket in reversed(conversation.tickets):
        if ticket_id is None or ticket.ticket_id == str(ticket_id):
            return ticket
    return None


def _on_handoff(conversation: Conversation, event: StoredEvent, state: str) -> None:
    metadata = _metadata(event)
    if state == "queued":
        ticket_id = str(metadata.get("ticket_id") or f"#{len(conversation.tickets) + 1}")
        reason = metadata.get("reason")
        conversation.tickets.append(Ticket(ticket_id, event.timestamp, reason))
        return
    ticket = _ticket_for(conversation, metadata)
    if ticket is None:
        return
    ticket.state = state
    if state == "claimed":
        ticket.claimed_at = event.timestamp
        agent = metadata.get("agent") or {}
        ticket.agent = agent.get("name") if isinstance(agent, dict) else None
    elif state == "resolved":
        ticket.resolved_at = event.timestamp


def _on_slot(conversation: Conversation, event: StoredEvent) -> None:
    name, value = event.data.get("name"), event.data.get("value")
    if name == "handoff_state" and isinstance(value, str):
        _on_handoff(conversation, event, value)
    elif name == "resolution" and isinstance(value, str):
        conversation.resolution = value
    elif name == "csat_score" and value is not None:
        conversation.csat = int(value)
        by = _metadata(event).get("resolved_by")
        conversation.csat_by = str(by) if by in {"bot", "agent"} else None
    elif name == "csat_comment" and isinstance(value, str) and value:
        conversation.csat_comment = value


def _customer_wrote(event: StoredEvent) -> bool:
    """A customer message; intents the bot triggers itself (a hand-back, a check-in) are not."""
    return event.type_name == "user" and not _metadata(event).get("is_external")


def build_conversation(sender_id: str, events: Sequence[StoredEvent]) -> Conversation | None:
    """The conversation in one session's events; ``None`` when the customer never wrote."""
    first_user = next((e for e in events if _customer_wrote(e)), None)
    if first_user is None:
        return None
    conversation = Conversation(
        sender_id, events[0].timestamp, events[-1].timestamp, _channel(sender_id, first_user)
    )
    for event in events:
        if _customer_wrote(event):
            conversation.turns.append(user_turn(event))
        elif event.type_name == "bot":
            metadata = _metadata(event)
            if metadata.get("source") == "agent":
                conversation.agent_messages += 1
                ticket = _ticket_for(conversation, metadata)
                if ticket is not None and ticket.first_reply_at is None:
                    ticket.first_reply_at = event.timestamp
            else:
                conversation.bot_messages += 1
        elif event.type_name == "slot":
            _on_slot(conversation, event)
    if conversation.csat is not None and conversation.csat_by is None:
        conversation.csat_by = "agent" if conversation.escalated else "bot"
    return conversation


def _opens_session(event: StoredEvent) -> bool:
    return event.type_name == SESSION_STARTED or (
        event.type_name == "action" and event.action_name == SESSION_START_ACTION
    )


def sender_conversations(history: SenderHistory) -> list[Conversation]:
    """All conversations in one sender's history, each knowing the sender's next contact."""
    sessions = list(split_sessions(history.events))
    if history.started_before and sessions and not _opens_session(sessions[0][0]):
        sessions = sessions[1:]  # the tail of a conversation that began before the period
    built = [c for c in (build_conversation(history.sender_id, s) for s in sessions) if c]
    for earlier, later in pairwise(built):
        earlier.next_contact_at = later.turns[0].at
    return built


async def conversations(source: EventSource, period: Period) -> AsyncIterator[Conversation]:
    """Every conversation that starts in the period, streamed sender by sender."""
    async for history in source.histories(period):
        for conversation in sender_conversations(history):
            if period.contains(conversation.started):
                yield conversation
