"""Pure rendering of the Telegram agents' side: the escalation ping and the posts replying to it.

Messages use Telegram's HTML parse mode; everything a customer (or the bot) wrote goes
through :func:`channels.telegram.render.escape`, so a customer cannot format, link or
inject markup in the agents' group. Every message the bot posts there starts with
``Ticket <id>``: an agent's reply to any of them leads back to the ticket
(:func:`ticket_id_of`), the ping itself through its ``ping_ref``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.handoff.ping_words import duration_words, sentiment_words
from bot.handoff.tickets import Ticket, TicketState
from channels.telegram.render import MAX_CALLBACK_BYTES, MAX_TEXT, escape

PREFIX = "telegram"
CALLBACK_PREFIX = "handoff"  # callback_data = "handoff:<action>:<ticket id>"
TURN_CHARS = 300  # of one turn in the ping
SUMMARY_CHARS = 1000
CUSTOMER_TEXT_CHARS = 3500  # of one relayed customer message (the message limit is 4096)
PING_BUDGET = MAX_TEXT - 200  # visible characters of the ping, with room to spare

Action = Literal["claim", "resolve"]
ACTIONS: tuple[Action, ...] = ("claim", "resolve")
_TICKET_HEADER = re.compile(r"^\W*Ticket (\d+)\b")
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class PingRef:
    """Where a ping lives: the agents' group and the message's id."""

    chat_id: int
    message_id: int

    def __str__(self) -> str:
        return f"{PREFIX}:{self.chat_id}:{self.message_id}"


def parse_ping_ref(ref: str | None) -> PingRef | None:
    """The inverse of ``str(PingRef)``; None for other notifiers' references."""
    parts = (ref or "").split(":")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        return PingRef(int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def callback_data(action: Action, ticket_id: int) -> str:
    """The ``callback_data`` of a ping's button (well within Telegram's 64 bytes)."""
    data = f"{CALLBACK_PREFIX}:{action}:{ticket_id}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def is_handoff_callback(data: str | None) -> bool:
    """Whether button data belongs to an agents' ping (never a customer's choice)."""
    return (data or "").startswith(f"{CALLBACK_PREFIX}:")


def parse_callback(data: str | None) -> tuple[Action, int] | None:
    """``(action, ticket id)`` of a ping's button press, or None when it is not one."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != CALLBACK_PREFIX:
        return None
    action = next((a for a in ACTIONS if a == parts[1]), None)
    if action is None or not parts[2].isdigit() or len(parts[2]) > 18:
        return None
    return action, int(parts[2])


def ticket_id_of(text: str | None) -> int | None:
    """The ticket a message the bot posted in the agents' group is about (its first line)."""
    match = _TICKET_HEADER.match(text or "")
    return int(match.group(1)) if match else None


def _utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def customer_label(ticket: Ticket) -> str:
    """The customer's name, or their conversation id when the channel gave no name."""
    return ticket.customer_name or ticket.conversation_id


def agent_html(agent_id: str | None, names: dict[str, str] | None = None) -> str:
    """An agent for the ping: a Telegram agent as a link to their profile, others by name."""
    if not agent_id:
        return "nobody"
    prefix, _, rest = agent_id.partition(":")
    name = (names or {}).get(agent_id) or rest or agent_id
    if prefix == PREFIX and rest.isdigit():
        return f'<a href="tg://user?id={rest}">{escape(name)}</a>'
    return escape(name)


def status_line(ticket: Ticket, now: datetime, names: dict[str, str] | None = None) -> str:
    """Who has the ticket and since when (HTML)."""
    if ticket.state is TicketState.QUEUED:
        return f"⏳ Waiting for an agent ({duration_words(now - _utc(ticket.created_at))})"
    who = agent_html(ticket.claimed_by, names)
    if ticket.state is TicketState.CLAIMED:
        waited = duration_words(_utc(ticket.claimed_at or now) - _utc(ticket.created_at))
        return f"🙋 Claimed by {who} (after waiting {waited})"
    if ticket.state is TicketState.RESOLVED:
        took = duration_words(_utc(ticket.resolved_at or now) - _utc(ticket.created_at))
        return f"✅ Resolved by {who} ({took} after opening)"
    if ticket.state is TicketState.ABANDONED:
        return "⚪ Cancelled by the customer: they no longer need a person"
    return f"⚪ {escape(ticket.state.value.capitalize())}: no agent took it"


def _turn_lines(ticket: Ticket) -> list[str]:
    lines = []
    for turn in ticket.last_turns:
        who = "Customer" if turn.who == "customer" else turn.who.capitalize() or "?"
        lines.append(f"<b>{escape(who)}:</b> {escape(_shorten(turn.text, TURN_CHARS))}")
    return lines


def visible_length(html_text: str) -> int:
    """Roughly what Telegram counts: the text without tags, entities decoded."""
    return len(html.unescape(_TAG.sub("", html_text)))


def ping_html(
    ticket: Ticket, now: datetime | None = None, names: dict[str, str] | None = None
) -> str:
    """The ping: who, where, what, how they feel, since when, why; summary, last turns, state."""
    now = _utc(now or datetime.now(timezone.utc))
    created = _utc(ticket.created_at)
    head = [
        f"🎫 <b>Ticket {ticket.id}: {escape(customer_label(ticket))} needs a person</b>",
        "",
        f"<b>Customer:</b> {escape(customer_label(ticket))}",
        f"<b>Channel:</b> {escape(ticket.channel or '?')}",
        f"<b>Topic:</b> {escape(ticket.topic or 'other')}",
        f"<b>Sentiment:</b> {sentiment_words(ticket.sentiment)}",
        f"<b>Waiting since:</b> {created:%Y-%m-%d %H:%M} UTC",
        f"<b>Reason:</b> {escape(ticket.reason.value.replace('_', ' '))}",
    ]
    summary = (
        ["", f"<b>Summary</b>\n{escape(_shorten(ticket.summary, SUMMARY_CHARS))}"]
        if ticket.summary
        else []
    )
    tail = ["", status_line(ticket, now, names)]
    turns = _turn_lines(ticket)
    while True:  # the oldest turns give way to the length limit
        body = ["", "<b>Last turns</b>", *(["…"] if len(turns) < len(ticket.last_turns) else [])]
        text = "\n".join(head + summary + (body + turns if turns else []) + tail)
        if visible_length(text) <= PING_BUDGET or not turns:
            return text
        turns.pop(0)


def ping_keyboard(ticket: Ticket) -> InlineKeyboardMarkup | None:
    """The buttons the ticket's state still allows: Claim while queued, Resolve until done."""
    buttons = []
    if ticket.state is TicketState.QUEUED:
        buttons.append(
            InlineKeyboardButton("🙋 Claim", callback_data=callback_data("claim", ticket.id))
        )
    if ticket.state in (TicketState.QUEUED, TicketState.CLAIMED):
        buttons.append(
            InlineKeyboardButton("✅ Resolve", callback_data=callback_data("resolve", ticket.id))
        )
    return InlineKeyboardMarkup([buttons]) if buttons else None


def customer_said_html(ticket: Ticket, text: str) -> str:
    """A customer's message as posted (in reply to the ping) in the agents' group."""
    return (
        f"💬 <b>Ticket {ticket.id}</b> · {escape(customer_label(ticket))}:\n"
        f"{escape(_shorten_keep_lines(text, CUSTOMER_TEXT_CHARS))}"
    )


def _shorten_keep_lines(text: str, limit: int) -> str:
    text = text.strip() or "(empty message)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What is left of a message about a customer who asked to be forgotten, if it cannot go.
FORGOTTEN_TEXT = "(removed: the customer asked us to delete their data)"


def callback_html(ticket: Ticket) -> str:
    """A left message: the customer stopped waiting and asks for a reply when someone is free."""
    return (
        f"📝 <b>Ticket {ticket.id}</b>: {escape(customer_label(ticket))} left a message instead"
        " of waiting (callback request): please reply to this ticket when someone is free."
    )


def reminder_html(ticket: Ticket, now: datetime | None = None) -> str:
    """The reminder, posted in reply to the ping."""
    now = _utc(now or datetime.now(timezone.utc))
    waited = duration_words(now - _utc(ticket.created_at))
    return f"⏰ <b>Ticket {ticket.id}</b> has waited {waited} and nobody has claimed it yet."


def refusal_text(what: str = "claim, answer or resolve tickets") -> str:
    """Said to someone who is not a member of the agents' group (plain text)."""
    return f"Only members of the agents' group can {what}."
