"""CSAT rules over a conversation's events: asked at most once per conversation (Rasa
session), answerable for a while, one rating per request, then an optional comment."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

#: A rating request older than this is no longer accepted.
CSAT_EXPIRY_SECONDS = 24 * 3600
#: Longer comments are cut here (the event log is not a document store).
MAX_COMMENT_CHARS = 1000

ASKED_SLOT = "csat_asked_at"
SCORE_SLOT = "csat_score"
COMMENT_SLOT = "csat_comment"
#: Intents that are never a comment: "No thanks", a request for a person, and events the
#: bot triggers itself (an agent's hand-back, a check-in).
NOT_A_COMMENT = frozenset(
    {"csat_no_comment", "human_handoff", "handoff_resolved", "followup_checkin"}
)
#: A short message with one of these intents ("no", "thanks", "bye") means nothing to add.
NOTHING_TO_ADD = frozenset({"deny", "thanks", "goodbye"})
SHORT_WORDS = 4

Event = Mapping[str, Any]


class CsatState(str, Enum):
    """What an incoming rating meets."""

    OK = "ok"
    ALREADY = "already"  # this request was rated
    EXPIRED = "expired"  # the request is too old
    NOT_ASKED = "not_asked"


def csat_buttons() -> list[dict[str, str]]:
    """The 1-5 rating buttons (payloads carry the score as an entity)."""
    return [
        {"title": str(score), "payload": "/csat" + json.dumps({"csat_score": score})}
        for score in range(1, 6)
    ]


def current_session(events: Sequence[Event]) -> list[Event]:
    """The events of the latest session, from its first customer message on (slots carried
    over from an earlier session are re-set before it and do not count)."""
    start = max((i for i, e in enumerate(events) if e.get("event") == "session_started"), default=0)
    session = list(events[start:])
    first_user = next((i for i, e in enumerate(session) if e.get("event") == "user"), len(session))
    return session[first_user:]


def _slot_events(events: Iterable[Event], name: str) -> list[Event]:
    return [
        e
        for e in events
        if e.get("event") == "slot" and e.get("name") == name and e.get("value") is not None
    ]


def may_ask_csat(events: Sequence[Event]) -> bool:
    """At most once per conversation."""
    return not _slot_events(current_session(events), ASKED_SLOT)


def latest_request(events: Sequence[Event]) -> float | None:
    """When the latest rating request was made (epoch seconds), if ever."""
    asked = _slot_events(events, ASKED_SLOT)
    return float(asked[-1]["value"]) if asked else None


def csat_answer_state(events: Sequence[Event], now: float) -> CsatState:
    """Whether a rating arriving ``now`` answers an open request."""
    asked_at = latest_request(events)
    if asked_at is None:
        return CsatState.NOT_ASKED
    rated = any(
        (e.get("metadata") or {}).get("asked_at") == asked_at
        for e in _slot_events(events, SCORE_SLOT)
    )
    if rated:
        return CsatState.ALREADY
    if now - asked_at > CSAT_EXPIRY_SECONDS:
        return CsatState.EXPIRED
    return CsatState.OK


def rating(value: Any) -> int | None:
    """A 1-5 score from an entity value ("5", 5, 5.0), else None."""
    try:
        score = int(float(str(value)))
    except ValueError:
        return None
    return score if 1 <= score <= 5 else None


def rating_metadata(slots: Mapping[str, Any], asked_at: float | None) -> dict[str, Any]:
    """Who resolved the conversation, the ticket and which request (docs/events.md)."""
    resolved_by = "agent" if slots.get("handoff_state") == "resolved" else "bot"
    return {
        "resolved_by": resolved_by,
        "ticket_id": slots.get("handoff_ticket"),
        "asked_at": asked_at,
    }


def comment(text: str | None, intent: str | None) -> str | None:
    """The customer's free text as a comment, or None when the message is not one (a button
    payload, "No thanks" or a short "no" / "thanks" / "bye", a request for a person, an
    event the bot triggered)."""
    cleaned = (text or "").strip()
    if not cleaned or cleaned.startswith(("/", "EXTERNAL:")) or intent in NOT_A_COMMENT:
        return None
    if intent in NOTHING_TO_ADD and len(cleaned.split()) <= SHORT_WORDS:
        return None
    return cleaned[:MAX_COMMENT_CHARS]


def comment_metadata(events: Sequence[Event]) -> dict[str, Any]:
    """The comment belongs to the latest rating: its metadata, with the score."""
    scores = _slot_events(events, SCORE_SLOT)
    if not scores:
        return {}
    latest = scores[-1]
    return {**(latest.get("metadata") or {}), "csat_score": latest.get("value")}
