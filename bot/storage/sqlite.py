"""``SqliteDatabase``: one SQLite file with its schema, connections and transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteDatabase:
    """Blocking access to the file; call it from a worker thread (or use ``read``/``transact``).

    Each thread keeps one connection (opening one costs about 2 ms, far more than a small
    write), in autocommit mode, yielding rows as dicts; a call made while the thread's
    connection is already in use (nested) gets a connection of its own for that call. The
    first connection switches the file to WAL and runs ``schema_sql`` (which must be
    idempotent: it also runs once in every process). :meth:`close` closes them all.
    """

    def __init__(self, path: Path, schema_sql: str) -> None:
        self.path = path
        self._schema_sql = schema_sql
        self._lock = threading.Lock()
        self._ready = False
        self._local = threading.local()
        self._open: list[sqlite3.Connection] = []

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit)."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with self._connection() as db:
                        db.execute("PRAGMA journal_mode=WAL")
                        db.executescript(self._schema_sql)
                    self._ready = True
        if getattr(self._local, "busy", False):
            with self._connection() as db:
                yield db
            return
        db = self._thread_connection()
        if db.in_transaction:  # left open by a failure: never carry it into this call
            db.execute("ROLLBACK")
        self._local.busy = True
        try:
            yield db
        finally:
            self._local.busy = False

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

    def close(self) -> None:
        """Closes every thread's connection; a later call opens new ones."""
        with self._lock:
            connections, self._open = self._open, []
            self._local = threading.local()
        for db in connections:
            db.close()

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

    def _thread_connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # used by this thread only; check_same_thread=False lets close() run anywhere
            db = self._open_connection(check_same_thread=False)
            with self._lock:
                self._open.append(db)
                self._local.db = db
        return db

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = self._open_connection()
        try:
            yield db
        finally:
            db.close()

    def _open_connection(self, check_same_thread: bool = True) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=check_same_thread
        )
        db.row_factory = _dict_row
        return db
