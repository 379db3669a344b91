"""When the bot fails on a message: an apology and a ticket, never silence; when it answers
again, the ticket closes itself and the conversation is no relay."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from bot.handoff.bot_failure import FAILURE_MARK, RECOVERED_DETAIL, apologise_and_escalate
from bot.handoff.relay import RelayEventBroker
from bot.handoff.service import HandoffServices
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import EscalationReason, Ticket, TicketState


async def test_the_customer_gets_an_apology_and_agents_a_ticket_with_the_message(
    handoff_here: HandoffServices,
) -> None:
    metadata = {"user_name": "Ada"}
    [apology] = await apologise_and_escalate(
        "slack:D1", "slack", "my internet is down again", metadata
    )

    assert apology["text"] in {
        v["text"].format(position=1) for v in domain_texts().responses["utter_bot_failure"]
    }
    ticket = await handoff_here.store.find_open("slack:D1")
    assert ticket is not None
    assert (ticket.reason, ticket.channel, ticket.customer_name) == (
        EscalationReason.BOT_FAILURE,
        "slack",
        "Ada",
    )
    assert [(t.who, t.text) for t in ticket.last_turns] == [
        ("customer", "my internet is down again")
    ]


async def test_failing_again_keeps_one_ticket_and_never_repeats_the_same_words(
    handoff_here: HandoffServices,
) -> None:
    [first] = await apologise_and_escalate("telegram:7", "telegram", "hello?")
    [second] = await apologise_and_escalate("telegram:7", "telegram", "hello??")

    assert first["text"] != second["text"]
    tickets = await handoff_here.store.list()
    assert [t.conversation_id for t in tickets] == ["telegram:7"]


async def test_an_unreachable_queue_too_still_gets_an_apology_with_the_phone_number(
    handoff_here: HandoffServices,
) -> None:
    class Unreachable:
        async def open(self, *_: object) -> None:
            raise ConnectionError("queue down")

    broken = replace(handoff_here, store=Unreachable())  # type: ignore[arg-type]
    [message] = await apologise_and_escalate("slack:D2", "slack", "help", services=broken)

    assert message["text"] == domain_texts().responses["utter_handoff_failed"][0]["text"]
    assert "0800 555 0100" in message["text"]


@dataclass
class AgentsSee:
    """Stands in for the agents' notifier: what reached them."""

    said: list[str] = field(default_factory=list)
    changed: list[TicketState] = field(default_factory=list)

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        return None

    async def ticket_changed(self, ticket: Ticket) -> None:
        self.changed.append(ticket.state)

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        self.said.append(text)

    async def remind(self, ticket: Ticket) -> None:
        return None


def logged(kind: str, sender: str, text: str, **metadata: object) -> dict[str, Any]:
    """An event as Rasa's tracker store publishes it to the event broker."""
    return {
        "event": kind,
        "sender_id": sender,
        "text": text,
        "timestamp": time.time(),
        "metadata": metadata,
        "parse_data": {"intent": {"name": "faq"}} if kind == "user" else {},
    }


async def replay(services: HandoffServices, *events: dict[str, Any]) -> None:
    broker = RelayEventBroker(services)
    for event in events:
        broker.publish(event)
        await broker.close()  # one event at a time, as turns follow each other


async def test_the_bots_next_normal_answer_closes_the_ticket_without_relaying(
    handoff_here: HandoffServices,
) -> None:
    agents = AgentsSee()
    services = replace(handoff_here, notifier=agents)
    await apologise_and_escalate("telegram:9", "telegram", "where is my order", services=services)
    [ticket] = await services.store.list()

    await replay(
        services,
        logged("user", "telegram:9", "how do I pay my bill"),
        logged("bot", "telegram:9", "You can pay by card or transfer ..."),
    )

    assert await services.store.find_open("telegram:9") is None
    closed = await services.store.get(ticket.id)
    assert closed is not None and closed.state is TicketState.ABANDONED
    last = (await services.store.history(ticket.id))[-1]
    assert (last.event, last.actor, last.detail) == ("abandoned", "bot", RECOVERED_DETAIL)
    assert agents.said == [] and agents.changed == [TicketState.ABANDONED]


async def test_while_the_bot_keeps_failing_the_ticket_stays_and_agents_see_each_message(
    handoff_here: HandoffServices,
) -> None:
    agents = AgentsSee()
    services = replace(handoff_here, notifier=agents)
    await apologise_and_escalate("slack:D9", "slack", "my router blinks red", services=services)
    [apology] = await apologise_and_escalate(
        "slack:D9", "slack", "hello? still there?", services=services
    )

    await replay(
        services,
        logged("user", "slack:D9", "hello? still there?"),
        logged("bot", "slack:D9", apology["text"], **{FAILURE_MARK: True}),
        logged("bot", "slack:D9", "Still waiting?", source="handoff", ticket_id=1),
    )

    ticket = await services.store.find_open("slack:D9")
    assert ticket is not None and ticket.state is TicketState.QUEUED
    assert agents.said == ["hello? still there?"] and agents.changed == []


async def test_a_claimed_bot_failure_ticket_stays_with_its_agent(
    handoff_here: HandoffServices,
) -> None:
    agents = AgentsSee()
    services = replace(handoff_here, notifier=agents)
    await apologise_and_escalate("slack:D8", "slack", "it broke", services=services)
    [ticket] = await services.store.list()
    await services.store.claim(ticket.id, "Sam")

    await replay(
        services,
        logged("user", "slack:D8", "any news?"),
        logged("bot", "slack:D8", "Some answer"),
    )

    still = await services.store.find_open("slack:D8")
    assert still is not None and still.state is TicketState.CLAIMED
    assert agents.said == ["any news?"]
