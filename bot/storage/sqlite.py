"""``SqliteDatabase``: one SQLite file with its schema, connections and transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteDatabase:
    """Blocking access to the file; call it from a worker thread (or use ``read``/``transact``).

    Every connection is new (one per call, so threads never share one), in autocommit mode,
    and yields rows as dicts. The first connection switches the file to WAL and runs
    ``schema_sql`` (which must be idempotent: it also runs once in every process).
    """

    def __init__(self, path: Path, schema_sql: str) -> None:
        self.path = path
        self._schema_sql = schema_sql
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
                        _use_wal(db)
                        db.executescript(self._schema_sql)
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

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in a worker thread, outside any transaction."""

        def run() -> T:
            with self.connect() as db:
                return work(db)

        return await asyncio.to_thread(run)

    async def transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in a worker thread, inside one ``write()`` transaction."""

        def run() -> T:
            with self.write() as db:
                return work(db)

        return await asyncio.to_thread(run)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = _dict_row
        try:
            yield db
        finally:
            db.close()


def _use_wal(db: sqlite3.Connection, timeout: float = 30.0) -> None:
    """Switches the file to WAL once. Switching answers "database is locked" at once, without
    the busy timeout, while another connection writes: so the mode is read first (reading
    waits like any query) and a switch that meets a lock is tried again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if str(db.execute("PRAGMA journal_mode").fetchone()["journal_mode"]) != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
