"""The report and retention over Rasa's real SQL tracker store, on SQLite and PostgreSQL.

Conversations are saved through ``rasa.core.tracker_store.SQLTrackerStore`` itself, so
the analytics read exactly the rows the bot writes in production.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.analytics.outcomes import KpiSettings
from bot.analytics.parallel import build_report_parallel
from bot.analytics.reporting import build_report
from bot.analytics.seed import event_rows, save_with_rasa
from bot.analytics.sql_source import SqlEventSource
from bot.analytics.synthetic import generate
from bot.testing.services import postgres_database

MONDAY = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()
SETTINGS = KpiSettings(as_of=MONDAY + 60 * 86400)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """``(url, SQLTrackerStore)`` on an empty database of each backend."""
    from rasa.core.tracker_store import SQLTrackerStore

    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        rasa_store = SQLTrackerStore(dialect="sqlite", db=str(path))
        yield f"sqlite:///{path}", rasa_store
        rasa_store.engine.dispose()
        return
    with postgres_database("analytics") as url:
        parts = urlsplit(url)
        rasa_store = SQLTrackerStore(
            dialect="postgresql",
            host=parts.hostname,
            port=parts.port,
            db=parts.path.lstrip("/"),
            username=parts.username,
        )
        try:
            yield url, rasa_store
        finally:
            rasa_store.engine.dispose()


async def seeded(store: tuple[str, Any], count: int = 20) -> SqlEventSource:
    url, rasa_store = store
    await save_with_rasa(rasa_store, generate(count, MONDAY, step=600.0))
    return SqlEventSource(url, chunk_size=7)  # small chunks: senders span chunk borders


async def test_the_report_numbers_are_exact(store: tuple[str, Any]) -> None:
    source = await seeded(store)
    try:
        run = await build_report(source, settings=SETTINGS)
    finally:
        await source.close()
    result = run.result

    assert run.events == 208
    assert result["counts"]["conversations"] == 20
    assert result["rates"] == {
        "containment": 12 / 20,
        "escalation": 8 / 20,
        "fallback": 6 / 34,
        "resolution_confirmed": 8 / 20,
        "resolution_assumed": 6 / 20,
        "reopen": 2 / 16,
    }
    assert result["by_channel"]["slack"] == {"conversations": 8, "messages": 14}
    assert result["csat"]["resolved_by"]["bot"]["distribution"] == {
        "1": 0,
        "2": 2,
        "3": 0,
        "4": 0,
        "5": 2,
    }
    assert result["handoff"]["never_claimed_by_state"] == {"abandoned": 2, "expired": 2}
    assert result["handoff"]["handling_time"]["mean"] == 690.0
    assert result["daily"] == {
        "2026-11-02": {"conversations": 20, "escalated": 8, "escalation_rate": 0.4}
    }


async def test_a_period_reads_only_its_conversations(store: tuple[str, Any]) -> None:
    source = await seeded(store)
    try:
        # the second cycle starts at 01:40; conversation 8's tail runs past it
        run = await build_report(
            source, since=MONDAY + 6000, until=MONDAY + 86400, settings=SETTINGS
        )
    finally:
        await source.close()
    counts = run.result["counts"]

    assert counts["conversations"] == 10
    assert counts["escalated"] == 4
    assert counts["reopened"] == 1
    assert counts["tickets"] == 4


async def test_retention_deletes_whole_old_conversations_only(store: tuple[str, Any]) -> None:
    source = await seeded(store)
    cutoff = MONDAY + 8400 - 1  # conversation 14 (sender of 10) starts at 8400
    try:
        dry = await source.prune(cutoff, dry_run=True)
        after_dry_run = (await build_report(source, settings=SETTINGS)).conversations
        done = await source.prune(cutoff)
        left = (await build_report(source, settings=SETTINGS)).result["counts"]
        sender_of_10 = await source.sender_events("slack:C0:10")
    finally:
        await source.close()

    assert dry == done
    assert (done.conversations, done.senders) == (12, 11)
    assert after_dry_run == 20
    assert left["conversations"] == 8  # 8 and 13 run past the cutoff; 14..19 are newer
    assert left["reopened"] == 0  # conversation 10, which 14 reopened, is gone
    assert min(e.timestamp for e in sender_of_10) == MONDAY + 8400


async def test_bulk_seeding_writes_the_rows_rasa_writes(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    rasa_store = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "rasa.db"))
    await save_with_rasa(rasa_store, generate(10, MONDAY))
    with rasa_store.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
        ).all()
    rasa_store.engine.dispose()

    def canonical(row: Any) -> tuple[Any, ...]:
        return (*row[:5], json.dumps(json.loads(row[5]), sort_keys=True))

    assert sorted(map(canonical, stored)) == sorted(
        map(canonical, event_rows(generate(10, MONDAY)))
    )


@pytest.mark.parametrize("since", [None, MONDAY + 6000])
async def test_shards_of_senders_in_parallel_give_the_same_report(
    store: tuple[str, Any], since: float | None
) -> None:
    source = await seeded(store, count=40)
    try:
        alone = await build_report(source, since=since, settings=SETTINGS)
    finally:
        await source.close()

    shared = await build_report_parallel(store[0], since=since, settings=SETTINGS, workers=3)

    assert shared.result == alone.result
    assert shared.events == alone.events
