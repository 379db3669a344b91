"""With the action server unreachable, a customer's question gets an apology and a person
(a ``bot_failure`` ticket), not the silence stock Rasa leaves."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import pytest

from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import EscalationReason
from bot.testing.servers import free_port, running_bot

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
