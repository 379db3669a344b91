"""Pure rendering of the agents' side: the escalation ping (Block Kit) and its thread posts.

Everything a customer or the bot wrote goes through :func:`channels.slack.render.escape`,
so a customer cannot format, mention (``<!channel>``) or link in the agents' channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.handoff.ping_words import duration_words, sentiment_words
from bot.handoff.tickets import Ticket, TicketState
from channels.slack.render import SECTION_LIMIT, escape

CLAIM_ACTION = "handoff_claim"  # action_id of the Claim button; value = ticket id
RESOLVE_ACTION = "handoff_resolve"  # action_id of the Resolve button; value = ticket id
ACTIONS_BLOCK = "handoff_actions"  # block_id of the ping's button row
PREFIX = "slack"
TURN_CHARS = 300  # of one turn in the ping
HEADER_LIMIT = 150  # plain_text of a header block
FIELD_LIMIT = 2000  # text of one section field

Message = dict[str, Any]


@dataclass(frozen=True)
class PingRef:
    """Where a ping lives: the agents' channel and the message's ts (the thread root)."""

    channel: str
    ts: str

    def __str__(self) -> str:
        return f"{PREFIX}:{self.channel}:{self.ts}"


def parse_ping_ref(ref: str | None) -> PingRef | None:
    """The inverse of ``str(PingRef)``; None for other notifiers' references."""
    prefix, _, rest = (ref or "").partition(":")
    channel, _, ts = rest.partition(":")
    if prefix != PREFIX or not channel or not ts:
        return None
    return PingRef(channel, ts)


def slack_date(at: datetime) -> str:
    """A Slack date token (shown in the reader's time zone), with a UTC fallback."""
    utc = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {{time}}|{utc:%Y-%m-%d %H:%M} UTC>"


def agent_mrkdwn(agent_id: str | None) -> str:
    """A Slack agent as a mention (``<@U123>``), any other agent by name (escaped)."""
    if not agent_id:
        return "nobody"
    prefix, _, rest = agent_id.partition(":")
    if prefix == PREFIX and rest.startswith(("U", "W")) and rest.isalnum():
        return f"<@{rest}>"
    return escape(rest or agent_id)


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"[:FIELD_LIMIT]}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:SECTION_LIMIT]}}


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _turns(ticket: Ticket) -> str:
    lines = []
    for turn in ticket.last_turns:
        who = "Customer" if turn.who == "customer" else turn.who.capitalize() or "?"
        lines.append(f"> *{escape(who)}:* {escape(_shorten(turn.text, TURN_CHARS))}")
    text = "\n".join(lines)
    while len(text) > SECTION_LIMIT - 20 and lines:  # the oldest turns give way
        lines.pop(0)
        text = "…\n" + "\n".join(lines)
    return text


def customer_label(ticket: Ticket) -> str:
    """The customer's name, or their conversation id when the channel gave no name."""
    return ticket.customer_name or ticket.conversation_id


def ping_text(ticket: Ticket) -> str:
    """The notification text of the ping (plain, for notifications and screen readers)."""
    state = "" if ticket.state is TicketState.QUEUED else f" [{ticket.state.value}]"
    return escape(
        f"Ticket {ticket.id}: {customer_label(ticket)} needs a person "
        f"({ticket.reason.value.replace('_', ' ')}){state}"
    )


def status_line(ticket: Ticket, now: datetime) -> str:
    """Who has the ticket and since when (mrkdwn)."""
    if ticket.state is TicketState.QUEUED:
        return f"⏳ Waiting for an agent ({duration_words(now - ticket.created_at)})"
    if ticket.state is TicketState.CLAIMED:
        waited = duration_words((ticket.claimed_at or now) - ticket.created_at)
        return f"🙋 Claimed by {agent_mrkdwn(ticket.claimed_by)} (after waiting {waited})"
    if ticket.state is TicketState.RESOLVED:
        took = duration_words((ticket.resolved_at or now) - ticket.created_at)
        return f"✅ Resolved by {agent_mrkdwn(ticket.claimed_by)} ({took} after opening)"
    if ticket.state is TicketState.ABANDONED:
        return "⚪ Cancelled by the customer: they no longer need a person"
    return f"⚪ {escape(ticket.state.value.capitalize())}: no agent took it"


def ping_blocks(ticket: Ticket, now: datetime | None = None) -> list[dict[str, Any]]:
    """The ping: who, where, what, how they feel, how long, why; summary, last turns,
    its state and the buttons it still allows (Claim / Resolve, value = ticket id)."""
    now = now or datetime.now(timezone.utc)
    header = _shorten(f"Ticket {ticket.id}: {customer_label(ticket)} needs a person", HEADER_LIMIT)
    fields = [
        _field("Customer", escape(customer_label(ticket))),
        _field("Channel", escape(ticket.channel or "?")),
        _field("Topic", escape(ticket.topic or "other")),
        _field("Sentiment", sentiment_words(ticket.sentiment)),
        _field("Waiting", f"since {slack_date(ticket.created_at)}"),
        _field("Reason", escape(ticket.reason.value.replace("_", " "))),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "fields": fields},
    ]
    if ticket.summary:
        blocks.append(_section(f"*Summary*\n{escape(_shorten(ticket.summary, 1500))}"))
    if ticket.last_turns:
        blocks.append(_section(f"*Last turns*\n{_turns(ticket)}"))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": status_line(ticket, now)}]}
    )
    buttons = []
    if ticket.state is TicketState.QUEUED:
        buttons.append(_button("Claim", CLAIM_ACTION, ticket.id, style="primary"))
    if ticket.state in (TicketState.QUEUED, TicketState.CLAIMED):
        buttons.append(_button("Resolve", RESOLVE_ACTION, ticket.id))
    if buttons:
        blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons})
    return blocks


def _button(title: str, action_id: str, ticket_id: int, style: str | None = None) -> Message:
    button: Message = {
        "type": "button",
        "text": {"type": "plain_text", "text": title, "emoji": True},
        "action_id": action_id,
        "value": str(ticket_id),
    }
    if style:
        button["style"] = style
    return button


def ping_message(ticket: Ticket, now: datetime | None = None) -> Message:
    """``text`` and ``blocks`` of the ping (for chat.postMessage and chat.update)."""
    return {"text": ping_text(ticket), "blocks": ping_blocks(ticket, now)}


def customer_said_text(ticket: Ticket, text: str) -> str:
    """A customer's message as posted in the ping's thread."""
    return f"*{escape(customer_label(ticket))}:* {escape(text)}"


def unthreaded_customer_said_text(ticket: Ticket, text: str) -> str:
    """The same, when the ticket has no Slack ping to thread under."""
    return f"*Ticket {ticket.id}*, {customer_said_text(ticket, text)}"


#: What is left of a post about a customer who asked to be forgotten, if it cannot go.
FORGOTTEN_TEXT = "(removed: the customer asked us to delete their data)"


def callback_text(ticket: Ticket) -> str:
    """A left message: the customer stopped waiting and asks for a reply when someone is free."""
    return (
        f"📝 Ticket {ticket.id}: {escape(customer_label(ticket))} left a message instead of"
        " waiting (callback request): please reply in this thread when someone is free."
    )


def reminder_text(ticket: Ticket, now: datetime | None = None, mention: str = "") -> str:
    """The reminder in the ping's thread; ``mention`` is ``here`` or ``channel`` (or empty)."""
    now = now or datetime.now(timezone.utc)
    waited = duration_words(now - ticket.created_at)
    who = f"<!{mention}> " if mention in ("here", "channel") else ""
    return f"{who}⏰ Ticket {ticket.id} has waited {waited} and nobody has claimed it yet."
