"""``SqliteDatabase``, under every SQLite store: one connection per thread, kept between
calls, never sharing a transaction."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.storage.sqlite import SqliteDatabase

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"


def count(db: SqliteDatabase) -> int:
    return int(db.fetch("SELECT COUNT(*) AS n FROM notes")[0]["n"])


def test_a_thread_keeps_its_connection_between_calls(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db", SCHEMA)
    with db.connect() as first:
        pass
    with db.write() as second:
        second.execute("INSERT INTO notes (text) VALUES ('kept')")
    assert first is second and count(db) == 1


async def test_threads_never_share_a_connection(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db", SCHEMA)
    both_inside = threading.Barrier(2, timeout=5)

    def hold() -> int:
        with db.connect() as connection:
            both_inside.wait()  # two threads in connect() at the same time
            return id(connection)

    first, second = await asyncio.gather(asyncio.to_thread(hold), asyncio.to_thread(hold))
    assert first != second


def test_a_nested_call_gets_a_connection_of_its_own(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db", SCHEMA)
    with db.write() as outer:
        outer.execute("INSERT INTO notes (text) VALUES ('not yet committed')")
        with db.connect() as inner:
            assert inner is not outer
            assert inner.execute("SELECT COUNT(*) AS n FROM notes").fetchone()["n"] == 0
    assert count(db) == 1


def test_a_failed_transaction_is_rolled_back_and_never_reaches_the_next_call(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "bot.db", SCHEMA)
    with pytest.raises(RuntimeError), db.write() as failing:
        failing.execute("INSERT INTO notes (text) VALUES ('lost')")
        raise RuntimeError("the caller failed")
    with db.connect() as connection:  # a transaction someone left open is rolled back
        connection.execute("BEGIN")
        connection.execute("INSERT INTO notes (text) VALUES ('left open')")
    with db.write() as next_call:
        next_call.execute("INSERT INTO notes (text) VALUES ('saved')")
    assert [r["text"] for r in db.fetch("SELECT text FROM notes")] == ["saved"]


async def test_close_closes_every_threads_connection(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db", SCHEMA)

    def connection() -> sqlite3.Connection:
        with db.connect() as c:
            return c

    mine, other = connection(), await asyncio.to_thread(connection)
    db.close()
    for closed in (mine, other):
        with pytest.raises(sqlite3.ProgrammingError):
            closed.execute("SELECT 1")
    assert count(db) == 0  # usable again: a new connection
