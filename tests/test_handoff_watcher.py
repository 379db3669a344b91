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
from bot.handoff.service import HandoffServices
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import EscalationReason, NewTicket, Ticket
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

    async def tell_customer(self, ticket: Ticket, response: str, **values: Any) -> None:
        self.told.append((ticket.id, response, values))

    async def remind(self, ticket: Ticket) -> None:
        self.reminded.append(ticket.id)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def setup(
    tmp_path: Path, clock: Clock
) -> Iterator[tuple[WaitWatcher, SqliteTicketStore, Recorder]]:
    config = replace(
        load_handoff_config(PROJECT / "data/handoff.yml"), claim_timeout=timedelta(minutes=10)
    )
    store = SqliteTicketStore(tmp_path / "bot.db", weights=config.priority, clock=clock)
    recorder = Recorder()
    services = HandoffServices(
        config,
        store,
        recorder,
        recorder,
        load_knowledge_base([PROJECT / "data"]),  # type: ignore[arg-type]
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
