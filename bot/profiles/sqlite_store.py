"""``SqliteProfileStore``: profiles in the bot's embedded SQLite file (the default).

Every call runs in a worker thread on its own connection; changes run in ``BEGIN
IMMEDIATE`` transactions, so writers are serialised across threads and processes.
Times are integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.profiles.model import Level, Profile, Visit
from bot.profiles.rows import merged, profile_from
from bot.storage.sqlite import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS profile_people (
    person_id TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    conversations INTEGER NOT NULL, last_topic TEXT, last_topic_at INTEGER,
    level TEXT CHECK (level IN ('off', 'name', 'full')));
CREATE TABLE IF NOT EXISTS profile_identities (
    identity TEXT PRIMARY KEY, person_id TEXT NOT NULL, display_name TEXT NOT NULL,
    first_seen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS profile_identities_by_person ON profile_identities (person_id);
CREATE TABLE IF NOT EXISTS profile_conversations (
    identity TEXT NOT NULL, conversation_id TEXT NOT NULL, started_at INTEGER NOT NULL,
    PRIMARY KEY (identity, conversation_id));
CREATE TABLE IF NOT EXISTS profile_link_codes (
    code TEXT PRIMARY KEY, identity TEXT NOT NULL, expires_at INTEGER NOT NULL);
"""


def micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=timezone.utc)


class SqliteProfileStore:
    """The embedded backend (``BOT_SQLITE_PATH``, default ``.state/bot.db``)."""

    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, SCHEMA)

    async def record_visit(self, visit: Visit) -> Profile:
        return await self._db.transact(lambda db: self._record_visit(db, visit))

    async def get(self, identity: str) -> Profile | None:
        return await self._db.read(lambda db: self._profile_of(db, identity))

    async def note_topic(self, identity: str, topic: str, at: datetime) -> None:
        await self._db.transact(
            lambda db: db.execute(
                "UPDATE profile_people SET last_topic = ?, last_topic_at = ?"
                " WHERE person_id = (SELECT person_id FROM profile_identities WHERE identity = ?)"
                " AND (last_topic_at IS NULL OR last_topic_at <= ?)",
                (topic, micros(at), identity, micros(at)),
            )
        )

    async def set_level(self, identity: str, level: Level | None) -> Profile | None:
        def change(db: sqlite3.Connection) -> Profile | None:
            db.execute(
                "UPDATE profile_people SET level = ?"
                " WHERE person_id = (SELECT person_id FROM profile_identities WHERE identity = ?)",
                (level.value if level else None, identity),
            )
            return self._profile_of(db, identity)

        return await self._db.transact(change)

    async def conversations(self, identity: str) -> Sequence[str]:
        rows = await self._db.read(
            lambda db: db.execute(
                "SELECT c.conversation_id, MIN(c.started_at) AS started"
                " FROM profile_conversations c JOIN profile_identities i USING (identity)"
                " WHERE i.person_id = (SELECT person_id FROM profile_identities WHERE identity = ?)"
                " GROUP BY c.conversation_id ORDER BY started, c.conversation_id",
                (identity,),
            ).fetchall()
        )
        return [str(r["conversation_id"]) for r in rows]

    async def add_link_code(self, identity: str, code: str, expires_at: datetime) -> None:
        def add(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM profile_link_codes WHERE identity = ?", (identity,))
            db.execute(
                "INSERT INTO profile_link_codes (code, identity, expires_at) VALUES (?, ?, ?)",
                (code, identity, micros(expires_at)),
            )

        await self._db.transact(add)

    async def link_code_owner(self, code: str, now: datetime) -> str | None:
        rows = await self._db.read(
            lambda db: db.execute(
                "SELECT identity FROM profile_link_codes WHERE code = ? AND expires_at > ?",
                (code, micros(now)),
            ).fetchall()
        )
        return str(rows[0]["identity"]) if rows else None

    async def link(self, code: str, identity: str, now: datetime) -> Profile | None:
        return await self._db.transact(lambda db: self._link(db, code, identity, now))

    async def unlink(self, identity: str) -> Profile | None:
        return await self._db.transact(lambda db: self._unlink(db, identity))

    async def delete_person(self, identity: str) -> Sequence[str]:
        def delete(db: sqlite3.Connection) -> list[str]:
            person = self._person_id(db, identity)
            if person is None:
                return []
            ids = [
                str(r["identity"])
                for r in db.execute(
                    "SELECT identity FROM profile_identities WHERE person_id = ?", (person,)
                )
            ]
            marks = ",".join("?" * len(ids))
            db.execute(f"DELETE FROM profile_conversations WHERE identity IN ({marks})", ids)
            db.execute(f"DELETE FROM profile_link_codes WHERE identity IN ({marks})", ids)
            db.execute("DELETE FROM profile_identities WHERE person_id = ?", (person,))
            db.execute("DELETE FROM profile_people WHERE person_id = ?", (person,))
            return ids

        return await self._db.transact(delete)

    async def display_names(self) -> Sequence[str]:
        rows = await self._db.read(
            lambda db: db.execute(
                "SELECT DISTINCT display_name FROM profile_identities WHERE display_name != ''"
            ).fetchall()
        )
        return [str(r["display_name"]) for r in rows]

    async def close(self) -> None:
        """Nothing to release: connections live for one call."""

    # -- inside a transaction -----------------------------------------------------------------

    def _record_visit(self, db: sqlite3.Connection, visit: Visit) -> Profile:
        at = micros(visit.at)
        person = self._person_id(db, visit.identity)
        if person is None:
            person = uuid.uuid4().hex
            db.execute(
                "INSERT INTO profile_people (person_id, first_seen, last_seen, conversations)"
                " VALUES (?, ?, ?, 0)",
                (person, at, at),
            )
            db.execute(
                "INSERT INTO profile_identities (identity, person_id, display_name, first_seen)"
                " VALUES (?, ?, ?, ?)",
                (visit.identity, person, visit.display_name, at),
            )
        elif visit.display_name:
            db.execute(
                "UPDATE profile_identities SET display_name = ? WHERE identity = ?",
                (visit.display_name, visit.identity),
            )
        db.execute(
            "UPDATE profile_people SET conversations = conversations + 1,"
            " last_seen = MAX(last_seen, ?) WHERE person_id = ?",
            (at, person),
        )
        db.execute(
            "INSERT OR IGNORE INTO profile_conversations (identity, conversation_id, started_at)"
            " VALUES (?, ?, ?)",
            (visit.identity, visit.conversation_id, at),
        )
        profile = self._profile(db, person)
        assert profile is not None
        return profile

    def _link(
        self, db: sqlite3.Connection, code: str, identity: str, now: datetime
    ) -> Profile | None:
        rows = db.execute(
            "SELECT identity FROM profile_link_codes WHERE code = ? AND expires_at > ?",
            (code, micros(now)),
        ).fetchall()
        db.execute(
            "DELETE FROM profile_link_codes WHERE code = ? OR expires_at <= ?", (code, micros(now))
        )
        if not rows:
            return None
        kept = self._person_id(db, str(rows[0]["identity"]))
        joined = self._person_id(db, identity)
        if kept is None:
            return None
        if joined is None:
            db.execute(
                "INSERT INTO profile_identities (identity, person_id, display_name, first_seen)"
                " VALUES (?, ?, '', ?)",
                (identity, kept, micros(now)),
            )
        elif joined != kept:
            a, b = (self._person_row(db, p) for p in (kept, joined))
            m = merged(a, b)
            db.execute(
                "UPDATE profile_people SET first_seen = ?, last_seen = ?, conversations = ?,"
                " last_topic = ?, last_topic_at = ?, level = ? WHERE person_id = ?",
                (
                    m.first_seen,
                    m.last_seen,
                    m.conversations,
                    m.last_topic,
                    m.last_topic_at,
                    m.level,
                    kept,
                ),
            )
            db.execute(
                "UPDATE profile_identities SET person_id = ? WHERE person_id = ?", (kept, joined)
            )
            db.execute("DELETE FROM profile_people WHERE person_id = ?", (joined,))
        return self._profile(db, kept)

    def _unlink(self, db: sqlite3.Connection, identity: str) -> Profile | None:
        person = self._person_id(db, identity)
        others = db.execute(
            "SELECT COUNT(*) AS n FROM profile_identities WHERE person_id = ? AND identity != ?",
            (person, identity),
        ).fetchone()["n"]
        if person is None or not others:
            return None
        alone = uuid.uuid4().hex
        db.execute(
            "INSERT INTO profile_people (person_id, first_seen, last_seen, conversations, level)"
            " SELECT ?, i.first_seen, MAX(i.first_seen, COALESCE(MAX(c.started_at), 0)),"
            " COUNT(c.conversation_id), p.level FROM profile_identities i"
            " JOIN profile_people p USING (person_id)"
            " LEFT JOIN profile_conversations c USING (identity) WHERE i.identity = ?",
            (alone, identity),
        )
        db.execute(
            "UPDATE profile_identities SET person_id = ? WHERE identity = ?", (alone, identity)
        )
        db.execute(
            "UPDATE profile_people SET"
            " conversations = MAX(conversations - (SELECT conversations FROM profile_people"
            " WHERE person_id = ?), 0),"
            " first_seen = (SELECT MIN(first_seen) FROM profile_identities WHERE person_id = ?)"
            " WHERE person_id = ?",
            (alone, person, person),
        )
        db.execute("DELETE FROM profile_link_codes WHERE identity = ?", (identity,))
        return self._profile(db, alone)

    @staticmethod
    def _person_id(db: sqlite3.Connection, identity: str) -> str | None:
        rows = db.execute(
            "SELECT person_id FROM profile_identities WHERE identity = ?", (identity,)
        ).fetchall()
        return str(rows[0]["person_id"]) if rows else None

    @staticmethod
    def _person_row(db: sqlite3.Connection, person: str) -> dict[str, Any]:
        row: dict[str, Any] = db.execute(
            "SELECT * FROM profile_people WHERE person_id = ?", (person,)
        ).fetchone()
        return row

    def _profile_of(self, db: sqlite3.Connection, identity: str) -> Profile | None:
        person = self._person_id(db, identity)
        return self._profile(db, person) if person else None

    def _profile(self, db: sqlite3.Connection, person: str) -> Profile | None:
        row = db.execute("SELECT * FROM profile_people WHERE person_id = ?", (person,)).fetchone()
        if row is None:
            return None
        identities = db.execute(
            "SELECT * FROM profile_identities WHERE person_id = ? ORDER BY first_seen, identity",
            (person,),
        ).fetchall()
        return profile_from(row, identities, from_micros)
