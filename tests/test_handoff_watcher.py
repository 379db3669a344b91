"""While customers wait: told when the queue moves, nudged (and agents re-pinged) when
nobody claims in time, never twice for the same wait."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.faq.knowledge_base import load_knowledge_base
from bot.handoff.config import load_handoff_config
from bot.handoff.exits import HandoffExits
from bot.handoff.service import HandoffServices
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.texts import domain_texts
from bot.handoff.tickets import EscalationReason, NewTicket, Ticket, TicketState
from bot.handoff.watcher import WaitWatcher

PROJECT = Path(__file__).resolve().parents[1]
#: A Tuesday at noon in London: the team is at work.
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


@dataclass
class Clock:
    now: datetime = NOON

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Recorder:
    """Stands in for the desk (customer notices) and the notifier (agent reminders)."""

    told: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    changed: list[tuple[int, str]] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)
    appended: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    async def tell_customer(self, ticket: Ticket, response: str, **values: Any) -> None:
        self.told.append((ticket.id, response, values))

    async def remind(self, ticket: Ticket) -> None:
        self.reminded.append(ticket.id)

    async def ticket_changed(self, ticket: Ticket) -> None:
        self.changed.append((ticket.id, ticket.state.value))

    async def callback_requested(self, ticket: Ticket) -> None:
        self.callbacks.append(ticket.id)

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Rasa's conversation API (the customer's tracker)."""
        self.appended.append((conversation_id, events))

    def customer_heard(self, conversation_id: str) -> list[str]:
        return [
            str(e.get("text"))
            for cid, events in self.appended
            if cid == conversation_id
            for e in events
            if e["event"] == "bot"
        ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def setup(
    tmp_path: Path, clock: Clock
) -> Iterator[tuple[WaitWatcher, SqliteTicketStore, Recorder]]:
    config = replace(
        load_handoff_config(PROJECT / "data/handoff.yml"),
        claim_timeout=timedelta(minutes=10),
        expire_after=timedelta(minutes=30),
    )
    store = SqliteTicketStore(tmp_path / "bot.db", weights=config.priority, clock=clock)
    recorder = Recorder()
    services = HandoffServices(
        config,
        store,
        recorder,
        recorder,
        load_knowledge_base([PROJECT / "data"]),  # type: ignore[arg-type]
        HandoffExits(
            store,
            recorder,  # type: ignore[arg-type]
            recorder,  # type: ignore[arg-type]
            domain_texts(str(PROJECT / "domain.yml")),
        ),
    )
    yield WaitWatcher(services), store, recorder


async def open_tickets(store: SqliteTicketStore, count: int) -> list[Ticket]:
    return [
        (await store.open(NewTicket(f"rest:{n}", "rest", EscalationReason.REQUESTED))).ticket
        for n in range(count)
    ]


async def test_a_customer_is_told_when_they_move_to_the_front(setup: Any, clock: Clock) -> None:
    watcher, store, recorder = setup
    first, second, third = await open_tickets(store, 3)
    await watcher.tick(clock.now)
    assert recorder.told == []  # escalation already told them where they are
    clock.now += timedelta(minutes=2)
    await store.claim(first.id, "cli:sam")
    await store.claim(second.id, "cli:alex")
    await watcher.tick(clock.now)
    updates = [(t, r) for t, r, _ in recorder.told]
    assert updates == [(third.id, "utter_handoff_position_update")]
    assert recorder.told[0][2]["position"] == 1
    await watcher.tick(clock.now)
    assert len(recorder.told) == 1  # nothing new to say


async def test_nobody_claiming_in_time_nudges_the_customer_and_re_pings_agents(
    setup: Any, clock: Clock
) -> None:
    watcher, store, recorder = setup
    (ticket,) = await open_tickets(store, 1)
    clock.now += timedelta(minutes=9)
    await watcher.tick(clock.now)
    assert recorder.reminded == []
    clock.now += timedelta(minutes=2)
    await watcher.tick(clock.now)
    assert recorder.told == [(ticket.id, "utter_handoff_no_agent_yet", {})]
    assert recorder.reminded == [ticket.id]
    clock.now += timedelta(minutes=5)
    await watcher.tick(clock.now)
    assert recorder.reminded == [ticket.id]  # not again within the next timeout
    clock.now += timedelta(minutes=6)
    await watcher.tick(clock.now)
    assert recorder.reminded == [ticket.id, ticket.id]


async def test_outside_business_hours_nobody_is_nudged(setup: Any, clock: Clock) -> None:
    watcher, store, recorder = setup
    clock.now = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # a Sunday night
    await open_tickets(store, 1)
    clock.now += timedelta(hours=2)
    await watcher.tick(clock.now)
    assert recorder.told == [] and recorder.reminded == []


def said(text: str, response: str) -> bool:
    """Whether ``text`` is one of the response's variants (no placeholders in these)."""
    variants = domain_texts(str(PROJECT / "domain.yml")).responses[response]
    return text in {v["text"] for v in variants}


async def test_a_ticket_nobody_claims_expires_with_an_honest_message_and_the_bot_is_back(
    setup: Any, clock: Clock
) -> None:
    watcher, store, recorder = setup
    (ticket,) = await open_tickets(store, 1)
    clock.now += timedelta(minutes=29)
    await watcher.tick(clock.now)
    assert (await store.get(ticket.id)).state is TicketState.QUEUED  # type: ignore[union-attr]
    clock.now += timedelta(minutes=1)
    await watcher.tick(clock.now)
    assert (await store.get(ticket.id)).state is TicketState.EXPIRED  # type: ignore[union-attr]
    trail = await store.history(ticket.id)
    assert (trail[-1].event, trail[-1].actor) == ("expired", "system")
    assert "30 min" in trail[-1].detail
    (conversation_id, events), *_ = recorder.appended
    assert conversation_id == "rest:0"
    assert [e["event"] for e in events] == ["slot", "resume", "action", "bot"]
    assert events[0]["value"] == "expired"
    assert said(events[-1]["text"], "utter_handoff_expired")
    assert events[-1]["data"]["buttons"][0]["payload"] == "/handoff_leave_message"
    assert recorder.changed == [(ticket.id, "expired")]  # the agents' ping shows it
    await watcher.tick(clock.now + timedelta(hours=1))
    assert len(recorder.appended) == 1  # told once


async def test_a_ticket_opened_while_the_team_is_away_waits_for_them_and_is_not_expired(
    setup: Any, clock: Clock
) -> None:
    watcher, store, recorder = setup
    clock.now = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # a Sunday night
    (ticket,) = await open_tickets(store, 1)
    clock.now = datetime(2026, 11, 30, 8, 5, tzinfo=timezone.utc)  # Monday, 5 min after opening
    await watcher.tick(clock.now)
    assert (await store.get(ticket.id)).state is TicketState.QUEUED  # type: ignore[union-attr]
    assert recorder.told == [] and recorder.appended == []
    clock.now += timedelta(minutes=25)  # 30 minutes of the team being at work
    await watcher.tick(clock.now)
    assert (await store.get(ticket.id)).state is TicketState.EXPIRED  # type: ignore[union-attr]


async def test_after_leaving_a_message_there_are_no_more_nudges_and_no_expiry(
    setup: Any, clock: Clock
) -> None:
    watcher, store, recorder = setup
    (ticket,) = await open_tickets(store, 1)
    clock.now += timedelta(minutes=11)
    await watcher.tick(clock.now)
    assert [r for _, r, _ in recorder.told] == ["utter_handoff_no_agent_yet"]
    await watcher.services.exits.leave_message(ticket)
    await watcher.services.exits.leave_message(ticket)  # pressed twice: one callback request
    assert recorder.callbacks == [ticket.id]
    assert [e.event for e in await store.history(ticket.id)][-1] == "callback_requested"
    for _ in range(6):
        clock.now += timedelta(minutes=20)
        await watcher.tick(clock.now)
    assert [r for _, r, _ in recorder.told] == ["utter_handoff_no_agent_yet"]
    assert recorder.reminded == [ticket.id]
    assert (await store.get(ticket.id)).state is TicketState.QUEUED  # type: ignore[union-attr]
