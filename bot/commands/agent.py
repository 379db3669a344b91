"""`bot agent`: work the handoff queue from the terminal (teams without Slack, local mode)."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from bot.handoff.desk import Agent
from bot.handoff.service import handoff_services
from bot.handoff.tickets import HandoffError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "agent",
        help="claim, reply to and resolve handoff tickets",
        description="Act as a support agent. Messages reach the customer on their own channel.",
    )
    parser.add_argument(
        "--as", dest="name", default=getpass.getuser(), help="your name as customers see it"
    )
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    claim = actions.add_parser("claim", help="claim a ticket", description="Claim a queued ticket.")
    claim.add_argument("ticket", type=int)
    actions.add_parser(
        "next", help="claim the highest-priority ticket", description="Claim the next ticket."
    )
    reply = actions.add_parser(
        "reply", help="write to the customer", description="Send a message to the customer."
    )
    reply.add_argument("ticket", type=int)
    reply.add_argument("text", nargs="+")
    resolve = actions.add_parser(
        "resolve", help="resolve and hand back to the bot", description="Resolve a ticket."
    )
    resolve.add_argument("ticket", type=int)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    services = handoff_services()
    agent = Agent(id=f"cli:{args.name}", name=args.name)
    try:
        if args.action == "claim":
            result = await services.desk.claim(args.ticket, agent)
            print(result.message)
            return 0 if result.won else 1
        if args.action == "next":
            ticket = await services.desk.claim_next(agent)
            if ticket is None:
                print("The queue is empty.")
                return 1
            print(f"Claimed ticket {ticket.id} ({ticket.conversation_id}): {ticket.summary}")
            return 0
        if args.action == "reply":
            await services.desk.reply(args.ticket, agent, " ".join(args.text))
            print("Sent.")
            return 0
        ticket = await services.desk.resolve(args.ticket, agent)
        print(f"Ticket {ticket.id} resolved; the bot has taken over again.")
        return 0
    except HandoffError as error:
        print(f"error: {error}")
        return 1
    finally:
        await services.store.close()
