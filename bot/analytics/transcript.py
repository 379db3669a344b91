"""Readable transcripts of conversations (text and JSON), always redacted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.analytics.conversations import build_conversation
from bot.analytics.events import StoredEvent, split_sessions, utc
from bot.analytics.redact import redact

_ID = re.compile(r"^(?P<sender>.+)@(?P<stamp>\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class Line:
    """One entry of a transcript: a message or a change of state."""

    at: str
    who: str  # customer, bot, agent, handoff, resolution, csat
    text: str
    name: str | None = None  # the agent's name


@dataclass(frozen=True)
class Transcript:
    """One conversation, ready to print or export."""

    conversation_id: str
    sender_id: str
    channel: str
    started: str
    ended: str
    lines: list[Line]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_conversation_id(value: str) -> tuple[str, str | None]:
    """``(sender id, start stamp or None)`` from ``sender`` or ``sender@YYYYMMDDTHHMMSSZ``."""
    match = _ID.match(value)
    return (match["sender"], match["stamp"]) if match else (value, None)


def _iso(timestamp: float) -> str:
    return utc(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(event: StoredEvent) -> Line | None:
    data, at = event.data, _iso(event.timestamp)
    raw = data.get("metadata")
    metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if event.type_name == "user":
        return Line(at, "customer", redact(str(data.get("text") or "")))
    if event.type_name == "bot":
        if metadata.get("source") == "agent":
            agent = metadata.get("agent") or {}
            return Line(at, "agent", redact(str(data.get("text") or "")), agent.get("name"))
        return Line(at, "bot", redact(str(data.get("text") or "")))
    if event.type_name != "slot":
        return None
    name, value = data.get("name"), data.get("value")
    if name == "handoff_state":
        agent = metadata.get("agent") or {}
        details = [f"ticket {metadata['ticket_id']}"] if metadata.get("ticket_id") else []
        if metadata.get("reason"):
            details.append(f"reason {metadata['reason']}")
        suffix = f" ({', '.join(details)})" if details else ""
        return Line(at, "handoff", f"{value}{suffix}", agent.get("name"))
    if name == "resolution":
        return Line(at, "resolution", str(value))
    if name == "csat_score":
        return Line(at, "csat", f"{value} ({metadata.get('resolved_by', 'unknown')})")
    if name == "csat_comment" and value:
        return Line(at, "csat", redact(str(value)))
    return None


def transcripts(
    sender_id: str, events: Sequence[StoredEvent], stamp: str | None = None
) -> list[Transcript]:
    """The sender's conversations (only the one starting at ``stamp`` when given)."""
    found: list[Transcript] = []
    for session in split_sessions(events):
        conversation = build_conversation(sender_id, session)
        if conversation is None or (stamp and not conversation.id.endswith(f"@{stamp}")):
            continue
        lines = [line for line in map(_line, session) if line is not None]
        found.append(
            Transcript(
                conversation.id,
                sender_id,
                conversation.channel,
                _iso(conversation.started),
                _iso(conversation.ended),
                lines,
            )
        )
    return found


def render_text(transcript: Transcript) -> str:
    """The transcript as lines of ``time  who: text``."""
    out = [
        f"Conversation {transcript.conversation_id}",
        f"  channel {transcript.channel}, {transcript.started} .. {transcript.ended}",
    ]
    for line in transcript.lines:
        who = f"{line.who} {line.name}" if line.who == "agent" and line.name else line.who
        text = f"{line.text} by {line.name}" if line.who == "handoff" and line.name else line.text
        marker = "  --" if line.who in {"handoff", "resolution", "csat"} else "   "
        out.append(f"{line.at}{marker} {who}: {text}")
    return "\n".join(out)
