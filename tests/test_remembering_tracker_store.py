"""The remembering tracker store answers exactly what Rasa's SQL store answers, on SQLite
and PostgreSQL, without reading a remembered conversation back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.storage.remembering_tracker_store import RememberingTrackerStore
from bot.testing.services import postgres_database

DOMAIN = Domain.from_dict({"slots": {"topic": {"type": "any", "mappings": []}}})
SENDER = "telegram:4242"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings of Rasa's SQL store for an empty database of each backend."""
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
        return
    with postgres_database("remember") as url:
        parts = urlsplit(url)
        yield {
            "dialect": "postgresql",
            "host": parts.hostname,
            "port": parts.port,
            "db": parts.path.lstrip("/"),
            "username": parts.username,
        }


class Published(EventBroker):
    """An event broker that keeps what it was given."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.bodies.append(event)


def turn(at: float, text: str, *, new_session: bool = False) -> list[Event]:
    """A customer's message and the bot's answer (after a new session start if asked)."""
    start: list[Event] = []
    if new_session:
        start = [
            ActionExecuted("action_session_start", timestamp=at),
            SessionStarted(timestamp=at + 0.1),
            SlotSet("topic", "billing", timestamp=at + 0.1),
            ActionExecuted("action_listen", timestamp=at + 0.2),
        ]
    return [
        *start,
        UserUttered(text, {"name": "faq", "confidence": 0.9}, timestamp=at + 1),
        ActionExecuted("action_answer", timestamp=at + 2),
        BotUttered(f"about {text}", {"buttons": None}, timestamp=at + 2.1),
        ActionExecuted("action_listen", timestamp=at + 3),
    ]


async def take_turn(store: Any, events: list[Event], sender: str = SENDER) -> None:
    """What Rasa's processor does: read the tracker, add the turn's events, save it."""
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    return [event.as_dict() for event in tracker.events] if tracker else []


def both(database: dict[str, Any], broker: EventBroker | None = None) -> tuple[Any, Any]:
    """This store and Rasa's own, on the same database."""
    ours = RememberingTrackerStore(domain=DOMAIN, event_broker=broker, **database)
    stock = SQLTrackerStore(domain=DOMAIN, **database)
    return ours, stock


async def test_a_conversation_reads_back_exactly_as_rasas_own_store_reads_it(
    database: dict[str, Any],
) -> None:
    ours, stock = both(database)
    script = [
        turn(1000, "hi", new_session=True),
        turn(1010, "my bill"),
        turn(5000, "back again", new_session=True),  # only this session is read back
        turn(5010, "thanks"),
    ]
    for events in script:
        await take_turn(ours, events)
        assert dicts(await ours.retrieve(SENDER)) == dicts(await stock.retrieve(SENDER))
    mine = await ours.retrieve(SENDER)
    assert mine is not None and mine.get_slot("topic") == "billing"
    assert [e.text for e in mine.events if isinstance(e, UserUttered)] == ["back again", "thanks"]
    full = await ours.retrieve_full_tracker(SENDER)
    assert dicts(full) == dicts(await stock.retrieve_full_tracker(SENDER))
    assert await ours.keys() == [SENDER]


async def test_the_rows_written_are_the_rows_rasas_store_writes(database: dict[str, Any]) -> None:
    ours, stock = both(database)
    script = [turn(1000, "hi", new_session=True), turn(1010, "my bill")]
    for events in script:
        await take_turn(ours, events)
        await take_turn(stock, events, sender="stock:4242")
    columns = "type_name, timestamp, intent_name, action_name, data"
    query = f"SELECT {columns} FROM events WHERE sender_id = :s ORDER BY id"
    with stock.session_scope() as db:
        mine = db.execute(sa.text(query), {"s": SENDER}).all()
        theirs = db.execute(sa.text(query), {"s": "stock:4242"}).all()
    assert len(mine) == sum(len(events) for events in script)
    assert [tuple(row) for row in mine] == [tuple(row) for row in theirs]


async def test_what_another_rasa_instance_wrote_is_read(database: dict[str, Any]) -> None:
    ours, other = both(database)
    await take_turn(ours, turn(1000, "hi", new_session=True))
    await take_turn(other, turn(1010, "written elsewhere"))
    tracker = await ours.retrieve(SENDER)
    assert "written elsewhere" in [e.text for e in tracker.events if isinstance(e, UserUttered)]
    await take_turn(ours, turn(1020, "and here"))
    assert dicts(await ours.retrieve(SENDER)) == dicts(await other.retrieve(SENDER))


async def test_a_conversation_deleted_from_the_table_is_gone(database: dict[str, Any]) -> None:
    ours, stock = both(database)
    await take_turn(ours, turn(1000, "I'm Anastasia", new_session=True))
    assert await ours.retrieve(SENDER) is not None
    with stock.session_scope() as db:  # what forget-me does to the tracker store
        db.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": SENDER})
        db.commit()
    assert await ours.retrieve(SENDER) is None


async def test_the_event_broker_gets_every_new_event_once_as_with_rasas_store(
    database: dict[str, Any],
) -> None:
    ours_broker, stock_broker = Published(), Published()
    ours = RememberingTrackerStore(domain=DOMAIN, event_broker=ours_broker, **database)
    script = [turn(1000, "hi", new_session=True), turn(1010, "bill"), turn(1020, "thanks")]
    for events in script:
        await take_turn(ours, events)
    stock = SQLTrackerStore(domain=DOMAIN, event_broker=stock_broker, **database)
    for events in script:
        await take_turn(stock, events, sender="stock:4242")
    expected = [{**body, "sender_id": SENDER} for body in stock_broker.bodies]
    assert ours_broker.bodies == expected
    assert len(ours_broker.bodies) == sum(len(events) for events in script)


async def test_a_remembered_conversation_is_not_read_back_from_the_table(
    database: dict[str, Any],
) -> None:
    ours, _ = both(database)
    await take_turn(ours, turn(1000, "hi", new_session=True))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        await take_turn(ours, turn(1010, "my bill"))
        assert await ours.retrieve(SENDER) is not None
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    selects = [s.lstrip().lower() for s in statements if s.lstrip().upper().startswith("SELECT")]
    # what is left: counting (ours, and Rasa's own before it inserts the new events)
    assert selects and all(s.startswith("select count(") for s in selects), selects


async def test_memory_holds_at_most_remember_conversations_for_remember_seconds(
    database: dict[str, Any],
) -> None:
    ours = RememberingTrackerStore(domain=DOMAIN, remember=2, remember_seconds=0.6, **database)
    for number in range(3):
        await take_turn(ours, turn(1000, "hi", new_session=True), sender=f"telegram:{number}")
    assert ours.remembered() == ["telegram:1", "telegram:2"]
    await asyncio.sleep(0.4)
    await take_turn(ours, turn(1010, "still here"), sender="telegram:2")
    await asyncio.sleep(0.4)  # no call in between: the expired one goes by itself
    assert ours.remembered() == ["telegram:2"]
    await asyncio.sleep(0.4)
    assert ours.remembered() == []
    assert await ours.retrieve("telegram:0") is not None  # read from the table again
