"""The SQLite file behind ``SqliteTicketStore``: schema, connections and transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Times are integer microseconds since the epoch, UTC (see rows.micros): exact and sortable.
SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL, channel TEXT NOT NULL, reason TEXT NOT NULL,
    customer_name TEXT NOT NULL, topic TEXT NOT NULL, summary TEXT NOT NULL,
    last_turns TEXT NOT NULL, sentiment REAL NOT NULL, urgency REAL NOT NULL, tier TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'resolved', 'abandoned', 'expired')),
    priority REAL NOT NULL,
    created_at INTEGER NOT NULL, claimed_by TEXT, claimed_at INTEGER,
    first_agent_reply_at INTEGER, resolved_at INTEGER, ping_ref TEXT UNIQUE);
CREATE UNIQUE INDEX IF NOT EXISTS handoff_tickets_one_open
    ON handoff_tickets (conversation_id) WHERE state IN ('queued', 'claimed');
CREATE INDEX IF NOT EXISTS handoff_tickets_by_state ON handoff_tickets (state);
CREATE TABLE IF NOT EXISTS handoff_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES handoff_tickets (id) ON DELETE CASCADE,
    at INTEGER NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS handoff_events_by_ticket ON handoff_events (ticket_id);
"""


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteFile:
    """Blocking access to the file; call it from a worker thread.

    Every connection is new (one per call, so threads never share one) and yields rows as
    dicts. The schema is created by the first connection (idempotent, also across processes).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._schema_lock = threading.Lock()
        self._ready = False

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit)."""
        if not self._ready:
            with self._schema_lock:
                if not self._ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with self._connection() as db:
                        db.execute("PRAGMA journal_mode=WAL")
                        db.executescript(SCHEMA)
                    self._ready = True
        with self._connection() as db:
            yield db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: one writer at a time, committed on success."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def fetch(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """All rows of one query."""
        with self.connect() as db:
            rows: list[dict[str, Any]] = db.execute(sql, params).fetchall()
            return rows

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = _dict_row
        try:
            yield db
        finally:
            db.close()
