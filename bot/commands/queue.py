"""`bot queue`: look at the handoff queue: list tickets, show one with its audit trail."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot.handoff.config import DEFAULT_CONFIG_PATH, HandoffConfig, load_handoff_config
from bot.handoff.rows import utc_now
from bot.handoff.store import TicketStore, ticket_store_from_env
from bot.handoff.tickets import OPEN_STATES, Ticket, TicketState

_STATES = [state.value for state in TicketState]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "queue",
        help="list handoff tickets or show one with its audit trail",
        description="Reads the handoff queue (PostgreSQL when BOT_DATABASE_URL is set, "
        "else .state/bot.db or BOT_SQLITE_PATH).",
    )
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="handoff settings file"
    )
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    listing = actions.add_parser(
        "list",
        help="tickets, the queue first in the order agents get them",
        description="Lists tickets: queued ones in queue order (with place and waiting time), "
        "then the others, newest first. Without --state: queued and claimed tickets.",
    )
    listing.add_argument(
        "--state", action="append", choices=_STATES, help="only this state (repeatable)"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    show = actions.add_parser(
        "show",
        help="one ticket with its conversation excerpt and audit trail",
        description="Shows everything stored about a ticket, its place in the queue and "
        "estimated wait when queued, and every change in its audit trail.",
    )
    show.add_argument("ticket", type=int, help="ticket id")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    config = load_handoff_config(args.config)
    store = ticket_store_from_env(config=config)
    try:
        if args.action == "list":
            states = [TicketState(s) for s in args.state] if args.state else list(OPEN_STATES)
            await _list(store, config, states, args.limit)
            return 0
        return await _show(store, config, args.ticket)
    finally:
        await store.close()


async def _list(
    store: TicketStore, config: HandoffConfig, states: list[TicketState], limit: int
) -> None:
    tickets = await store.list(states=states, limit=limit)
    if not tickets:
        print(f"No {' or '.join(s.value for s in states)} tickets.")
        return
    now = utc_now()
    header = ["ID", "STATE", "PLACE", "PRIORITY", "WAITED", "CHANNEL", "CUSTOMER", "TOPIC"]
    header += ["REASON", "AGENT"]
    rows: list[Sequence[str]] = [header]
    for place, ticket in enumerate(tickets, start=1):
        queued = ticket.state is TicketState.QUEUED
        rows.append(
            (
                str(ticket.id),
                ticket.state.value,
                str(place) if queued else "-",
                f"{_priority_now(ticket, config, now):.1f}" if queued else f"{ticket.priority:.1f}",
                duration(now - ticket.created_at) if queued else "-",
                ticket.channel,
                ticket.customer_name or "-",
                ticket.topic or "-",
                ticket.reason.value,
                ticket.claimed_by or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


async def _show(store: TicketStore, config: HandoffConfig, ticket_id: int) -> int:
    ticket = await store.get(ticket_id)
    if ticket is None:
        print(f"error: there is no ticket {ticket_id}", file=sys.stderr)
        return 1
    zone, now = config.hours.timezone, utc_now()
    print(f"Ticket {ticket.id}: {ticket.state.value}")
    queued = ticket.state is TicketState.QUEUED
    priority = f"{ticket.priority:.1f} at opening"
    if queued:
        priority = f"{_priority_now(ticket, config, now):.1f} now ({priority})"
    claimed = (
        f"{when(ticket.claimed_at, zone)} by {ticket.claimed_by}" if ticket.claimed_by else "-"
    )
    fields = [
        ("conversation", f"{ticket.conversation_id} ({ticket.channel})"),
        ("customer", f"{ticket.customer_name or '-'} (tier {ticket.tier})"),
        ("topic", ticket.topic or "-"),
        ("reason", ticket.reason.value),
        ("summary", ticket.summary or "-"),
        ("signals", f"sentiment {ticket.sentiment:+.2f}, urgency {ticket.urgency:.2f}"),
        ("priority", priority),
        ("opened", when(ticket.created_at, zone)),
        ("claimed", claimed),
        ("first reply", when(ticket.first_agent_reply_at, zone)),
        ("resolved", when(ticket.resolved_at, zone)),
        ("agent ping", ticket.ping_ref or "-"),
    ]
    if queued:
        fields.append(("queue", await _place(store, ticket.id)))
    for label, value in fields:
        print(f"  {label:<13}{value}")
    if ticket.last_turns:
        print("\nLast turns")
        for turn in ticket.last_turns:
            print(f"  {when(turn.at, zone)}  {turn.who}: {turn.text}")
    print("\nAudit trail")
    for event in await store.history(ticket.id):
        detail = f"  ({event.detail})" if event.detail else ""
        print(f"  {when(event.at, zone)}  {event.event:<14}by {event.actor}{detail}")
    return 0


async def _place(store: TicketStore, ticket_id: int) -> str:
    place, wait = await store.position(ticket_id), await store.estimated_wait(ticket_id)
    estimate = (
        f"estimated wait {duration(wait)} (median recent wait x place)"
        if wait is not None
        else "no wait estimate yet: no ticket has been claimed recently"
    )
    return f"place {place}; {estimate}"


def _priority_now(ticket: Ticket, config: HandoffConfig, now: datetime) -> float:
    return config.priority.effective(ticket.priority, now - ticket.created_at)


def when(at: datetime | None, zone: tzinfo) -> str:
    """A moment in the desk's time zone, e.g. ``2026-03-02 10:00:05 GMT``; "-" for None."""
    return "-" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def duration(span: timedelta) -> str:
    """A short human duration: ``45s``, ``12m``, ``2h 05m``, ``3d 4h``."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{seconds}s"
