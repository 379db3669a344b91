"""Forget-me in the stores, on SQLite and on PostgreSQL: after it nothing about the customer
is left in any table of any store, other customers keep everything, and the running
conversation's transcript goes as soon as Rasa has saved the turn."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa  # type: ignore[import-untyped]
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.delivery.store import DeliveryStore, PostgresDeliveryStore, SqliteDeliveryStore
from bot.followup.postgres_store import PostgresCheckinStore
from bot.followup.sqlite_store import SqliteCheckinStore
from bot.followup.store import CheckinStore
from bot.handoff.config import load_handoff_config
from bot.handoff.postgres_store import PostgresTicketStore
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.store import TicketStore
from bot.handoff.tickets import EscalationReason, NewTicket, Turn
from bot.privacy.erasure import ByConversation, Eraser
from bot.privacy.service import PrivacyService
from bot.privacy.transcripts import Transcripts, TranscriptsUnreachable, purge_marker
from bot.profiles.model import Visit
from bot.profiles.postgres_store import PostgresProfileStore
from bot.profiles.sqlite_store import SqliteProfileStore
from bot.profiles.store import ProfileStore
from bot.testing.services import require_postgres

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
WEIGHTS = load_handoff_config().priority
DOMAIN = Domain.empty()

#: Ana: Slack U0ANA91 and Telegram 918273, linked. What must vanish with her.
ANA_TRACES = ("U0ANA91", "918273", "Anastasia", "ana.t@example.com", "D0ANA91", "1700.1")
RUNNING = "telegram:918273"
ANA_CONVERSATIONS: dict[str, str | int] = {
    "slack:D0ANA91": "U0ANA91",  # her DM
    "slack:C0CHAN1:1700.1": "U0ANA91",  # a thread she started in a channel
    "telegram:-1009:918273": 918273,  # her conversation in a group
    RUNNING: 918273,  # the private chat where she asks to be forgotten
}
BO_CONVERSATIONS: dict[str, str | int] = {"slack:D0BO0001": "U0BO0001", "telegram:-1009:5551": 5551}


@dataclass
class Stores:
    """Every store of one deployment (the bot's database and the tracker store)."""

    profiles: ProfileStore
    tickets: TicketStore
    delivery: DeliveryStore
    checkins: CheckinStore
    transcripts: Transcripts
    tracker_store: SQLTrackerStore
    tables: Any  # async () -> {table: [row text, ...]} over every table of every store

    def eraser(self) -> Eraser:
        return Eraser(
            self.profiles,
            self.transcripts,
            {
                "tickets": ByConversation(self.tickets),
                "check-ins": ByConversation(self.checkins),
                "undelivered": self.delivery,
            },
        )


def metadata(author: str | int) -> dict[str, Any]:
    if isinstance(author, int):
        return {"telegram": {"user": {"id": author, "first_name": names(author)}}}
    return {"slack": {"user": author, "channel_type": "im"}, "user_name": names(author)}


def names(author: str | int) -> str:
    return "Anastasia" if author in ("U0ANA91", 918273) else "Bo"


def conversation(author: str | int, text: str) -> list[Event]:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": "faq"}, metadata=metadata(author)),
        BotUttered("Here is how to pay your bill.", metadata={"utter_action": "utter_faq"}),
        ActionExecuted("action_listen"),
    ]


async def save(store: SQLTrackerStore, sender: str, events: Sequence[Event]) -> None:
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


async def seed(stores: Stores) -> None:
    """Ana and Bo with everything the bot keeps about customers."""
    for sender, author in {**ANA_CONVERSATIONS, **BO_CONVERSATIONS}.items():
        text = "I'm Anastasia, ana.t@example.com" if author in ("U0ANA91", 918273) else "hi"
        await save(stores.tracker_store, sender, conversation(author, text))
        identity = f"slack:{author}" if isinstance(author, str) else f"telegram:{author}"
        await stores.profiles.record_visit(Visit(identity, sender, names(author), NOW))
        await stores.tickets.open(
            NewTicket(
                sender,
                sender.split(":")[0],
                EscalationReason.REQUESTED,
                names(author),
                summary=text,
                last_turns=(Turn("customer", text, NOW),),
            )
        )
        await stores.delivery.record_failure("slack", sender, {"text": text}, "channel_not_found")
        await stores.checkins.schedule(sender, "billing", "utter_checkin", 9e9, 1.0)
    # Bo's thread, where Ana joined in: her messages make it one of her conversations
    await save(stores.tracker_store, "slack:C0CHAN1:1700.9", conversation("U0BO0001", "hi"))
    await save(stores.tracker_store, "slack:C0CHAN1:1700.9", conversation("U0ANA91", "me too"))
    await stores.profiles.add_link_code("slack:U0ANA91", "K7P2Q9XM", datetime(2030, 1, 1))
    assert await stores.profiles.link("K7P2Q9XM", "telegram:918273", NOW) is not None


def traces(tables: dict[str, list[str]], needles: Sequence[str]) -> list[str]:
    return [
        f"{t}: {row[:120]}"
        for t, rows in tables.items()
        for row in rows
        if any(n in row for n in needles)
    ]


async def sqlite_tables(paths: Sequence[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as db:
            names_ = [
                r[0]
                for r in db.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            ]
            for table in names_:
                found[f"{path.name}:{table}"] = [
                    str(tuple(row)) for row in db.execute(sa.text(f'SELECT * FROM "{table}"'))
                ]
        engine.dispose()
    return found


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """A fresh deployment: two SQLite files, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        bot_db, tracker_db = tmp_path / "bot.db", tmp_path / "tracker.db"

        async def sqlite_every_table() -> dict[str, list[str]]:
            return await sqlite_tables([bot_db, tracker_db])

        made = Stores(
            SqliteProfileStore(bot_db),
            SqliteTicketStore(bot_db, weights=WEIGHTS),
            SqliteDeliveryStore(bot_db),
            SqliteCheckinStore(bot_db),
            Transcripts(f"sqlite:///{tracker_db}"),
            SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tracker_db)),
            sqlite_every_table,
        )
        yield made
        await close(made)
        return
    server = require_postgres()
    database = f"forget_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = server.rsplit("/", 1)[0] + f"/{database}"

    async def postgres_every_table() -> dict[str, list[str]]:
        db = await asyncpg.connect(url)
        try:
            tables = await db.fetch(
                "SELECT schemaname, tablename FROM pg_tables"
                " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
            return {
                t["tablename"]: [
                    str(tuple(r))
                    for r in await db.fetch(f'SELECT * FROM "{t["schemaname"]}"."{t["tablename"]}"')
                ]
                for t in tables
            }
        finally:
            await db.close()

    made = Stores(
        PostgresProfileStore(url),
        PostgresTicketStore(url, weights=WEIGHTS),
        PostgresDeliveryStore(url),
        PostgresCheckinStore(url),
        Transcripts(url),
        SQLTrackerStore(DOMAIN, host=url),
        postgres_every_table,
    )
    yield made
    await close(made)
    await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    await admin.close()


async def close(stores: Stores) -> None:
    for store in (stores.profiles, stores.tickets, stores.delivery, stores.checkins):
        await store.close()
    await stores.transcripts.close()
    stores.tracker_store.engine.dispose()


async def test_forget_me_leaves_nothing_about_the_customer_in_any_store(stores: Stores) -> None:
    await seed(stores)
    before = await stores.tables()
    assert traces(before, ANA_TRACES) and traces(before, ["U0BO0001", "5551"])
    service = PrivacyService(stores.eraser(), stores.transcripts, purge_timeout=10)

    erased, end_of_turn = await service.forget("telegram:918273", RUNNING)

    assert set(erased.identities) == {"slack:U0ANA91", "telegram:918273"}
    assert set(erased.conversations) == {*ANA_CONVERSATIONS, "slack:C0CHAN1:1700.9"}
    # Rasa saves the forget-me turn after the action: its events end with the marker
    turn = [
        UserUttered("/forget_me_confirm", metadata=metadata(918273)),
        ActionExecuted("action_forget_me"),
        BotUttered("Done: I've deleted everything."),
        *(Event.from_parameters(e) for e in end_of_turn),
        ActionExecuted("action_listen"),
    ]
    await save(stores.tracker_store, RUNNING, turn)
    await service.wait()

    after = await stores.tables()
    assert traces(after, ANA_TRACES) == []
    kept = {line.split(": ")[0].split(":")[-1] for line in traces(after, ["U0BO0001", "5551"])}
    assert kept >= {
        "profile_identities",
        "profile_conversations",
        "handoff_tickets",
        "delivery_failures",
        "followup_checkins",
        "events",
    }
    assert await stores.tracker_store.retrieve(RUNNING) is None


async def test_a_tracker_store_without_the_conversation_deletes_nothing(
    stores: Stores, tmp_path: Path
) -> None:
    await seed(stores)
    before = await stores.tables()
    wrong = Transcripts(f"sqlite:///{tmp_path / 'not-the-tracker-store.db'}")
    eraser = Eraser(
        stores.profiles,
        wrong,
        {"tickets": ByConversation(stores.tickets), "undelivered": stores.delivery},
    )
    with pytest.raises(TranscriptsUnreachable):
        await eraser.erase("telegram:918273", running=RUNNING)
    assert await stores.tables() == before  # nothing half done: asking again finds it all
    await wrong.close()


async def test_the_running_conversation_waits_for_its_saved_turn(stores: Stores) -> None:
    await save(stores.tracker_store, RUNNING, conversation(918273, "I'm Anastasia"))
    assert not await stores.transcripts.purge_when_saved(RUNNING, "never-saved", timeout=0.5)
    assert await stores.tracker_store.retrieve(RUNNING) is not None  # nothing deleted early


async def test_a_message_after_the_marker_survives_the_purge(stores: Stores) -> None:
    """The customer wrote again before the purge ran: only the old conversation goes."""
    await save(stores.tracker_store, RUNNING, conversation(918273, "I'm Anastasia"))
    await save(
        stores.tracker_store,
        RUNNING,
        [
            ActionExecuted("action_forget_me"),
            Event.from_parameters(purge_marker("t1")),
            ActionExecuted("action_listen"),
            UserUttered("hello again", metadata={}),
        ],
    )
    assert await stores.transcripts.purge_when_saved(RUNNING, "t1", timeout=5)
    tracker = await stores.tracker_store.retrieve_full_tracker(RUNNING)
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hello again"]


async def test_a_purge_interrupted_by_a_crash_is_finished_by_the_next_one(stores: Stores) -> None:
    for sender in ("telegram:1", "telegram:2"):
        await save(
            stores.tracker_store,
            sender,
            [*conversation(1, "old"), Event.from_parameters(purge_marker(sender))],
        )
    await save(stores.tracker_store, "telegram:3", conversation(3, "kept"))
    assert await stores.transcripts.purge_marked() > 0
    assert await stores.tracker_store.retrieve("telegram:1") is None
    assert await stores.tracker_store.retrieve("telegram:2") is None
    assert await stores.tracker_store.retrieve("telegram:3") is not None
