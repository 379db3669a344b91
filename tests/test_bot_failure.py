"""When the bot fails on a message: an apology and a ticket, never silence."""

from __future__ import annotations

from dataclasses import replace

from bot.handoff.bot_failure import apologise_and_escalate
from bot.handoff.service import HandoffServices
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import EscalationReason


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
