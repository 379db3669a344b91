"""Ways out of a handoff: the relay acts on a waiting customer's cancel, restart, "leave a
message" and files; agents see every change; the bot takes over again with a kind line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock

import pytest
import pytest_asyncio

from bot.faq.knowledge_base import load_knowledge_base
from bot.handoff.attachments import describe_attachments
from bot.handoff.config import load_handoff_config
from bot.handoff.desk import AgentDesk
from bot.handoff.exits import HandoffExits
from bot.handoff.notifier import FanoutNotifier
from bot.handoff.relay import RelayEventBroker
from bot.handoff.schedule import BusinessHours
from bot.handoff.service import HandoffServices
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import EscalationReason, NewTicket, Ticket, TicketState

PROJECT = Path(__file__).resolve().parents[1]
TEXTS = domain_texts(str(PROJECT / "domain.yml"))


@dataclass
class Agents:
    """Stands in for the notifier (what agents see) and Rasa's conversation API."""

    said: list[tuple[int, str]] = field(default_factory=list)
    changed: list[tuple[int, str]] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)
    appended: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    async def customer_said(self, ticket: Ticket, text: str) -> None:
        self.said.append((ticket.id, text))

    async def ticket_changed(self, ticket: Ticket) -> None:
        self.changed.append((ticket.id, ticket.state.value))

    async def callback_requested(self, ticket: Ticket) -> None:
        self.callbacks.append(ticket.id)

    async def remind(self, ticket: Ticket) -> None:
        raise AssertionError("not expected here")

    async def ticket_opened(self, ticket: Ticket) -> str | None:
        return None

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        self.appended.append((conversation_id, events))

    def bot_texts(self) -> list[str]:
        return [
            str(e["text"]) for _, events in self.appended for e in events if e["event"] == "bot"
        ]


@dataclass
class Setup:
    broker: RelayEventBroker
    store: SqliteTicketStore
    agents: Agents
    ticket: Ticket

    async def customer(
        self, text: str, intent: str = "faq", confidence: float = 0.95, **metadata: Any
    ) -> None:
        self.broker.publish(
            {
                "event": "user",
                "sender_id": self.ticket.conversation_id,
                "timestamp": datetime.now(timezone.utc).timestamp() + 1,
                "text": text,
                "parse_data": {"intent": {"name": intent, "confidence": confidence}},
                "metadata": metadata,
            }
        )
        await self.broker.close()

    async def state(self) -> TicketState:
        ticket = await self.store.get(self.ticket.id)
        assert ticket is not None
        return ticket.state


@pytest_asyncio.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    config = load_handoff_config(PROJECT / "data/handoff.yml")
    store = SqliteTicketStore(tmp_path / "bot.db", weights=config.priority)
    agents = Agents()
    services = HandoffServices(
        config,
        store,
        agents,
        AgentDesk(store, agents, agents, TEXTS),  # type: ignore[arg-type]
        load_knowledge_base([PROJECT / "data"]),
        HandoffExits(store, agents, agents, TEXTS),  # type: ignore[arg-type]
    )
    opened = await store.open(NewTicket("telegram:42", "telegram", EscalationReason.REQUESTED))
    yield Setup(RelayEventBroker(services), store, agents, opened.ticket)
    await store.close()


def is_response(text: str, response: str) -> bool:
    return text in {str(v["text"]) for v in TEXTS.responses[response]}


async def test_the_cancel_button_closes_the_ticket_and_the_bot_takes_over(setup: Setup) -> None:
    await setup.customer("/handoff_cancel", "handoff_cancel", 1.0)
    assert await setup.state() is TicketState.ABANDONED
    trail = await setup.store.history(setup.ticket.id)
    assert (trail[-1].actor, trail[-1].detail) == ("customer", "cancelled by customer")
    assert setup.agents.changed == [(setup.ticket.id, "abandoned")]  # the ping is updated
    (conversation_id, events), *_ = setup.agents.appended
    assert conversation_id == "telegram:42"
    assert [e["event"] for e in events] == ["slot", "resume", "action", "bot"]
    assert events[0]["value"] == "cancelled"
    assert is_response(events[-1]["text"], "utter_handoff_cancelled")
    assert setup.agents.said == []  # a button press is not relayed as words


@pytest.mark.parametrize("words", ["never mind", "Cancel!", "forget it, it works now"])
async def test_short_cancel_words_of_a_queued_customer_cancel(setup: Setup, words: str) -> None:
    await setup.customer(words, "deny", 0.6)  # whatever NLU made of it
    assert await setup.state() is TicketState.ABANDONED


async def test_a_cancel_the_model_is_unsure_about_goes_to_the_agent(setup: Setup) -> None:
    await setup.customer("i don't need the old router any more", "handoff_cancel", 0.55)
    assert await setup.state() is TicketState.QUEUED
    assert setup.agents.said == [(setup.ticket.id, "i don't need the old router any more")]


async def test_a_customer_talking_to_an_agent_can_cancel_and_the_agent_sees_why(
    setup: Setup,
) -> None:
    await setup.store.claim(setup.ticket.id, "slack:U1")
    await setup.customer("never mind")  # short words mean the conversation with the agent
    assert await setup.state() is TicketState.CLAIMED
    await setup.customer("it works now, I don't need help anymore", "handoff_cancel", 0.93)
    assert await setup.state() is TicketState.RESOLVED
    trail = await setup.store.history(setup.ticket.id)
    assert (trail[-1].event, trail[-1].actor) == ("resolved", "customer")
    assert setup.agents.said[-1] == (setup.ticket.id, "it works now, I don't need help anymore")
    assert setup.agents.changed == [(setup.ticket.id, "resolved")]


async def test_restart_during_a_handoff_closes_the_ticket_cleanly(setup: Setup) -> None:
    await setup.customer("/restart", "restart", 1.0)
    assert await setup.state() is TicketState.ABANDONED
    trail = await setup.store.history(setup.ticket.id)
    assert trail[-1].detail == "restarted the conversation"
    assert setup.agents.changed == [(setup.ticket.id, "abandoned")]
    assert setup.agents.appended == []  # Rasa's restart resets the conversation itself


async def test_leaving_a_message_creates_a_callback_request_agents_see(setup: Setup) -> None:
    await setup.customer("/handoff_leave_message", "handoff_leave_message", 1.0)
    assert setup.agents.callbacks == [setup.ticket.id]
    assert [e.event for e in await setup.store.history(setup.ticket.id)][-1] == (
        "callback_requested"
    )
    assert is_response(setup.agents.bot_texts()[-1], "utter_handoff_leave_message")
    await setup.customer("Please call me back about my bill")
    assert setup.agents.said == [(setup.ticket.id, "Please call me back about my bill")]
    assert await setup.state() is TicketState.QUEUED  # it waits for an agent


async def test_a_photo_reaches_the_agent_as_a_file_reference(setup: Setup) -> None:
    telegram = {"content": {"type": "photo", "file_id": "AgACAgQ", "caption": "my router"}}
    await setup.customer("/unsupported_content", "unsupported_content", 1.0, telegram=telegram)
    ((ticket_id, text),) = setup.agents.said
    assert ticket_id == setup.ticket.id
    assert "photo" in text and "AgACAgQ" in text and "my router" in text
    assert "/unsupported_content" not in text
    assert setup.agents.appended == []  # no bot reply


def test_slack_files_are_described_with_their_links() -> None:
    slack = {
        "files": [
            {"name": "bill.pdf", "mimetype": "application/pdf", "permalink": "https://x/bill"},
            {"id": "F2", "filetype": "m4a"},
        ],
        "text": "see attached",
    }
    assert describe_attachments({"slack": slack}).splitlines() == [
        "📎 bill.pdf (application/pdf): https://x/bill",
        "📎 a file (m4a): file id F2",
        "with the words: see attached",
    ]


def test_a_telegram_voice_note_is_described_with_its_length_and_file_id() -> None:
    voice = {"type": "voice", "file_id": "AwACAgQ", "duration": 4, "mime_type": "audio/ogg"}
    assert describe_attachments({"telegram": {"content": voice}}) == (
        "📎 a voice note (audio/ogg, 4 s): Telegram file id AwACAgQ"
    )


def test_cancel_phrases_match_whole_short_messages_only() -> None:
    config = load_handoff_config(PROJECT / "data/handoff.yml")
    assert config.is_cancel_phrase("Never mind.")
    assert config.is_cancel_phrase("forget it, it works now")
    assert not config.is_cancel_phrase("I want to cancel my contract")
    assert not config.is_cancel_phrase("no, that's not it")


class Failing:
    def __init__(self) -> None:
        self.tried = 0

    async def forget(self, ticket: Ticket) -> None:
        self.tried += 1
        raise RuntimeError("Slack is unreachable")


async def test_forgetting_tries_every_place_and_then_reports_the_failure(setup: Setup) -> None:
    failing, working = Failing(), Failing()
    working.forget = AsyncMock()  # type: ignore[method-assign]
    fanout = FanoutNotifier([failing, working])  # type: ignore[list-item]
    with pytest.raises(RuntimeError, match="unreachable"):
        await fanout.forget(setup.ticket)  # forget-me then says it could not delete everything
    assert failing.tried == 1 and working.forget.await_count == 1


def test_a_window_may_run_until_midnight() -> None:
    hours = BusinessHours.from_config(
        {"timezone": "UTC", "weekly": {"mon": "00:00-24:00", "tue": "09:00-17:00"}}
    )
    assert hours.is_open(datetime(2026, 11, 30, 23, 59, 59, tzinfo=timezone.utc))  # Monday
    assert hours.is_open(datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc))
    assert not hours.is_open(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))  # Tuesday 00:00
