"""Writes Rasa events straight into a SQL tracker store's ``events`` table, in bulk.

Rows are exactly what ``SQLTrackerStore.save`` writes; this is only faster (one
``executemany`` on SQLite, ``COPY`` on PostgreSQL). For benchmarks and test fixtures.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy.engine import Engine  # type: ignore[import-untyped]

Row = tuple[str, str, float, str | None, str | None, str]
_COLUMNS = "sender_id, type_name, timestamp, intent_name, action_name, data"


def create_events_table(engine: Engine) -> None:
    """Creates Rasa's ``events`` table (and its index) with Rasa's own table definition."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.Base.metadata.create_all(engine)


def event_rows(conversations: Iterable[tuple[str, list[dict[str, Any]]]]) -> Iterator[Row]:
    """The table rows ``SQLTrackerStore.save`` would write for these events."""
    for sender_id, events in conversations:
        for event in events:
            intent = event.get("parse_data", {}).get("intent", {}).get("name")
            yield (
                sender_id,
                event["event"],
                event["timestamp"],
                intent,
                event.get("name"),
                json.dumps(event),
            )


def bulk_insert(engine: Engine, rows: Iterable[Row], batch: int = 50_000) -> int:
    """Inserts the rows; returns how many."""
    total = 0
    iterator = iter(rows)
    postgres = engine.dialect.name == "postgresql"
    while chunk := list(islice(iterator, batch)):
        if postgres:
            _copy(engine, chunk)
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", chunk
                )
        total += len(chunk)
    return total


def _copy(engine: Engine, chunk: list[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in chunk:
        writer.writerow(["" if v is None else v for v in row])
    buffer.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY events ({_COLUMNS}) FROM STDIN WITH (FORMAT csv)", buffer)
        raw.commit()
    finally:
        raw.close()


async def save_with_rasa(
    store: Any, conversations: Iterable[tuple[str, list[dict[str, Any]]]]
) -> int:
    """Saves the events through a real Rasa tracker store (one tracker per sender)."""
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    by_sender: dict[str, list[dict[str, Any]]] = {}
    for sender_id, events in conversations:
        by_sender.setdefault(sender_id, []).extend(events)
    for sender_id, events in by_sender.items():
        parsed = [Event.from_parameters(event) for event in events]
        await store.save(DialogueStateTracker.from_events(sender_id, parsed))
    return sum(len(events) for events in by_sender.values())
