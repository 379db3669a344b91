"""What a handoff ticket is: its data, its states and the transitions between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class TicketState(str, Enum):
    """Where a ticket is: queued -> claimed -> resolved, or queued -> abandoned / expired."""

    QUEUED = "queued"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"
    EXPIRED = "expired"


#: The states a ticket may move to from each state; the last three are final.
TRANSITIONS: Mapping[TicketState, frozenset[TicketState]] = {
    TicketState.QUEUED: frozenset(
        {TicketState.CLAIMED, TicketState.ABANDONED, TicketState.EXPIRED}
    ),
    TicketState.CLAIMED: frozenset({TicketState.RESOLVED}),
    TicketState.RESOLVED: frozenset(),
    TicketState.ABANDONED: frozenset(),
    TicketState.EXPIRED: frozenset(),
}

#: States in which a conversation has its (single) open ticket.
OPEN_STATES = (TicketState.QUEUED, TicketState.CLAIMED)


class EscalationReason(str, Enum):
    """Why the bot handed the conversation to a person."""

    REQUESTED = "requested"
    LOW_CONFIDENCE = "low_confidence"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    HUMAN_ONLY_TOPIC = "human_only_topic"
    BOT_FAILURE = "bot_failure"  # the bot could not answer a message (bot/handoff/bot_failure.py)


@dataclass(frozen=True)
class Turn:
    """One line of the conversation shown to the agent."""

    who: str  # "customer" or "bot"
    text: str
    at: datetime


@dataclass(frozen=True)
class NewTicket:
    """What the bot knows when it escalates a conversation."""

    conversation_id: str  # Rasa sender id, e.g. "slack:C123:1700.1" or "telegram:42"
    channel: str
    reason: EscalationReason
    customer_name: str = ""
    topic: str = ""
    summary: str = ""
    last_turns: tuple[Turn, ...] = ()
    sentiment: float = 0.0  # -1 (very negative) .. 1 (very positive)
    urgency: float = 0.0  # 0 .. 1
    tier: str = "standard"


@dataclass(frozen=True)
class Ticket:
    """A stored ticket; ``priority`` is the part fixed at escalation (waiting time adds to it)."""

    id: int
    conversation_id: str
    channel: str
    reason: EscalationReason
    customer_name: str
    topic: str
    summary: str
    last_turns: tuple[Turn, ...]
    sentiment: float
    urgency: float
    tier: str
    state: TicketState
    priority: float
    created_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    first_agent_reply_at: datetime | None = None
    resolved_at: datetime | None = None
    ping_ref: str | None = None  # the agents' ping message, e.g. "slack:C0AGENTS:1700.2"


@dataclass(frozen=True)
class AuditEvent:
    """One entry of a ticket's audit trail: a state change or another notable event."""

    at: datetime
    event: str  # a TicketState value, or "agent_replied"
    actor: str
    detail: str = ""


@dataclass(frozen=True)
class OpenResult:
    """The conversation's open ticket, and whether this call created it."""

    ticket: Ticket
    created: bool


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of one claim: ``won`` only for the agent who now owns the ticket."""

    ticket: Ticket
    won: bool

    @property
    def owner(self) -> str | None:
        """Who holds the ticket now (None when nobody claimed it)."""
        return self.ticket.claimed_by

    @property
    def message(self) -> str:
        """A sentence for the agent who tried to claim."""
        ticket = self.ticket
        if self.won:
            return f"You claimed ticket {ticket.id}."
        if ticket.state is TicketState.CLAIMED:
            return f"Ticket {ticket.id} is already claimed by {ticket.claimed_by}."
        return f"Ticket {ticket.id} is {ticket.state.value}; there is nothing to claim."


class HandoffError(Exception):
    """A handoff queue operation that cannot be done."""


class TicketNotFound(HandoffError, LookupError):
    """No ticket has this id (it may have been deleted for privacy)."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"there is no ticket {ticket_id}")
        self.ticket_id = ticket_id


class InvalidTransition(HandoffError):
    """The ticket's current state does not allow the requested change."""

    def __init__(self, ticket_id: int, current: TicketState, target: TicketState) -> None:
        allowed = sorted(state.value for state in TRANSITIONS[current])
        hint = (
            f"a {current.value} ticket can become {' or '.join(allowed)}"
            if allowed
            else (f"{current.value} is final")
        )
        super().__init__(
            f"ticket {ticket_id} is {current.value}; it cannot become {target.value} ({hint})"
        )
        self.ticket_id, self.current, self.target = ticket_id, current, target


class NotClaimed(HandoffError):
    """Agent replies are recorded only on a claimed ticket."""

    def __init__(self, ticket_id: int, current: TicketState) -> None:
        super().__init__(
            f"ticket {ticket_id} is {current.value}; only a claimed ticket records agent replies"
        )
        self.ticket_id, self.current = ticket_id, current


class NotOpen(HandoffError):
    """Notes (a callback request, ...) are added only to a queued or claimed ticket."""

    def __init__(self, ticket_id: int, current: TicketState) -> None:
        super().__init__(f"ticket {ticket_id} is {current.value}; only an open ticket takes notes")
        self.ticket_id, self.current = ticket_id, current


def sources_of(target: TicketState) -> tuple[TicketState, ...]:
    """The states from which a ticket may move to ``target``."""
    return tuple(state for state, targets in TRANSITIONS.items() if target in targets)
