"""With the action server unreachable, a customer's question gets an apology and a person
(a ``bot_failure`` ticket), not the silence stock Rasa leaves; once it is back, the next
answer closes that ticket."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest

from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import EscalationReason, Ticket, TicketState
from bot.privacy.launch import launch_command
from bot.runtime.supervisor import Service, running
from bot.testing.servers import RunningBot, free_port, running_bot

pytestmark = pytest.mark.e2e


async def test_a_question_while_the_action_server_is_down_gets_an_apology_and_a_ticket(
    tmp_path: Path,
) -> None:
    nowhere = {"action_endpoint": {"url": f"http://127.0.0.1:{free_port()}/webhook"}}
    sender, question = f"down-{uuid.uuid4().hex[:8]}", "how do I pay my bill"
    async with (
        running_bot(endpoints=nowhere, state=tmp_path) as bot,
        aiohttp.ClientSession() as session,
        session.post(
            f"{bot.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": question},
            headers=bot.rest_headers,
        ) as reply,
    ):
        answers = [m.get("text") for m in await reply.json()]

    apologies = {
        v["text"].format(position=1) for v in domain_texts().responses["utter_bot_failure"]
    }
    assert len(answers) == 1 and answers[0] in apologies, answers
    store = SqliteTicketStore(tmp_path / "bot.db")
    try:
        ticket = await store.find_open(f"rest:{sender}")
    finally:
        await store.close()
    assert ticket is not None and ticket.reason is EscalationReason.BOT_FAILURE
    assert [(t.who, t.text) for t in ticket.last_turns] == [("customer", question)]


async def test_once_the_action_server_is_back_the_next_answer_closes_the_ticket(
    tmp_path: Path,
) -> None:
    actions_port = free_port()
    later = {"action_endpoint": {"url": f"http://127.0.0.1:{actions_port}/webhook"}}
    sender, question = f"back-{uuid.uuid4().hex[:8]}", "how do I pay my bill"
    action_server = Service(
        "action server",
        launch_command(
            "rasa", "run", "actions", "--actions", "actions", "--port", str(actions_port)
        ),
        f"http://127.0.0.1:{actions_port}/health",
        tmp_path / "late-actions.log",
    )
    async with (
        running_bot(endpoints=later, state=tmp_path) as bot,
        aiohttp.ClientSession() as session,
    ):
        first = await _ask(session, bot, sender, question)
        async with running([action_server], env={"BOT_SQLITE_PATH": str(tmp_path / "bot.db")}):
            second = await _ask(session, bot, sender, question)
            ticket = await _ticket_when_closed(tmp_path / "bot.db", bot.rest_conversation(sender))

    assert len(first) == 1 and first[0] in _apologies()
    assert second and not set(second) & _apologies()
    assert ticket.state is TicketState.ABANDONED
    store = SqliteTicketStore(tmp_path / "bot.db")
    try:
        trail = [(e.event, e.actor) for e in await store.history(ticket.id)]
    finally:
        await store.close()
    assert trail[-1] == ("abandoned", "bot")


async def _ask(
    session: aiohttp.ClientSession, bot: RunningBot, sender: str, text: str
) -> list[str]:
    async with session.post(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers=bot.rest_headers,
    ) as reply:
        return [str(m.get("text")) for m in await reply.json()]


def _apologies() -> set[str]:
    return {v["text"].format(position=1) for v in domain_texts().responses["utter_bot_failure"]}


async def _ticket_when_closed(database: Path, conversation: str) -> Ticket:
    """The conversation's bot_failure ticket once nothing is open any more (the event broker
    closes it in the background); fails after a while."""
    store = SqliteTicketStore(database)
    try:
        for _ in range(100):
            if await store.find_open(conversation) is None:
                [ticket] = [t for t in await store.list() if t.conversation_id == conversation]
                return ticket
            await asyncio.sleep(0.1)
        raise AssertionError("the bot_failure ticket is still open")
    finally:
        await store.close()
