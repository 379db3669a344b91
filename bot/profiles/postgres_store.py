"""``PostgresProfileStore``: profiles on PostgreSQL (production, ``BOT_DATABASE_URL``).

Changes run in transactions that first take an advisory lock per identity involved, so
simultaneous first visits of one customer create one profile, and a link or a deletion
never interleaves with a visit of the same person.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bot.profiles.model import Level, Profile, Visit
from bot.profiles.rows import merged, profile_from
from bot.storage.postgres import PostgresPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS profile_people (
    person_id TEXT PRIMARY KEY, first_seen TIMESTAMPTZ NOT NULL, last_seen TIMESTAMPTZ NOT NULL,
    conversations INTEGER NOT NULL, last_topic TEXT, last_topic_at TIMESTAMPTZ,
    level TEXT CHECK (level IN ('off', 'name', 'full')));
CREATE TABLE IF NOT EXISTS profile_identities (
    identity TEXT PRIMARY KEY, person_id TEXT NOT NULL, display_name TEXT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS profile_identities_by_person ON profile_identities (person_id);
CREATE TABLE IF NOT EXISTS profile_conversations (
    identity TEXT NOT NULL, conversation_id TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identity, conversation_id));
CREATE TABLE IF NOT EXISTS profile_link_codes (
    code TEXT PRIMARY KEY, identity TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL);
"""
_PERSON = "(SELECT person_id FROM profile_identities WHERE identity = $1)"


def _when(value: Any) -> datetime:
    assert isinstance(value, datetime)
    return value


class PostgresProfileStore:
    """The production backend (asyncpg). ``schema`` (created if missing) keeps the tables
    apart, e.g. one schema per test."""

    def __init__(self, dsn: str, schema: str | None = None) -> None:
        self._pool = PostgresPool(dsn, SCHEMA, "profiles_schema", schema, max_connections=5)

    async def record_visit(self, visit: Visit) -> Profile:
        async with self._locked([visit.identity]) as db:
            person = await db.fetchval(
                "SELECT person_id FROM profile_identities WHERE identity = $1", visit.identity
            )
            if person is None:
                person = uuid.uuid4().hex
                await db.execute(
                    "INSERT INTO profile_people (person_id, first_seen, last_seen, conversations)"
                    " VALUES ($1, $2, $2, 0)",
                    person,
                    visit.at,
                )
                await db.execute(
                    "INSERT INTO profile_identities (identity, person_id, display_name,"
                    " first_seen) VALUES ($1, $2, $3, $4)",
                    visit.identity,
                    person,
                    visit.display_name,
                    visit.at,
                )
            elif visit.display_name:
                await db.execute(
                    "UPDATE profile_identities SET display_name = $2 WHERE identity = $1",
                    visit.identity,
                    visit.display_name,
                )
            await db.execute(
                "UPDATE profile_people SET conversations = conversations + 1,"
                " last_seen = GREATEST(last_seen, $2) WHERE person_id = $1",
                person,
                visit.at,
            )
            await db.execute(
                "INSERT INTO profile_conversations (identity, conversation_id, started_at)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                visit.identity,
                visit.conversation_id,
                visit.at,
            )
            profile = await self._profile(db, person)
        assert profile is not None
        return profile

    async def get(self, identity: str) -> Profile | None:
        pool = await self._pool.get()
        async with pool.acquire() as db:
            person = await db.fetchval(
                "SELECT person_id FROM profile_identities WHERE identity = $1", identity
            )
            return await self._profile(db, person) if person else None

    async def note_topic(self, identity: str, topic: str, at: datetime) -> None:
        pool = await self._pool.get()
        await pool.execute(
            f"UPDATE profile_people SET last_topic = $2, last_topic_at = $3"
            f" WHERE person_id = {_PERSON} AND (last_topic_at IS NULL OR last_topic_at <= $3)",
            identity,
            topic,
            at,
        )

    async def set_level(self, identity: str, level: Level | None) -> Profile | None:
        async with self._locked([identity]) as db:
            person = await db.fetchval(
                "SELECT person_id FROM profile_identities WHERE identity = $1", identity
            )
            if person is None:
                return None
            await db.execute(
                "UPDATE profile_people SET level = $2 WHERE person_id = $1",
                person,
                level.value if level else None,
            )
            return await self._profile(db, person)

    async def conversations(self, identity: str) -> Sequence[str]:
        pool = await self._pool.get()
        rows = await pool.fetch(
            "SELECT c.conversation_id, MIN(c.started_at) AS started"
            " FROM profile_conversations c JOIN profile_identities i USING (identity)"
            f" WHERE i.person_id = {_PERSON}"
            " GROUP BY c.conversation_id ORDER BY started, c.conversation_id",
            identity,
        )
        return [str(r["conversation_id"]) for r in rows]

    async def add_link_code(self, identity: str, code: str, expires_at: datetime) -> None:
        async with self._locked([identity]) as db:
            await db.execute("DELETE FROM profile_link_codes WHERE identity = $1", identity)
            await db.execute(
                "INSERT INTO profile_link_codes (code, identity, expires_at) VALUES ($1, $2, $3)",
                code,
                identity,
                expires_at,
            )

    async def link_code_owner(self, code: str, now: datetime) -> str | None:
        pool = await self._pool.get()
        owner = await pool.fetchval(
            "SELECT identity FROM profile_link_codes WHERE code = $1 AND expires_at > $2",
            code,
            now,
        )
        return str(owner) if owner is not None else None

    async def link(self, code: str, identity: str, now: datetime) -> Profile | None:
        pool = await self._pool.get()
        owner = await pool.fetchval("SELECT identity FROM profile_link_codes WHERE code = $1", code)
        async with self._locked([identity, str(owner or "")]) as db:
            found = await db.fetchval(
                "DELETE FROM profile_link_codes WHERE code = $1 AND expires_at > $2"
                " RETURNING identity",
                code,
                now,
            )
            await db.execute("DELETE FROM profile_link_codes WHERE expires_at <= $1", now)
            if found is None:
                return None
            kept = await db.fetchval(
                "SELECT person_id FROM profile_identities WHERE identity = $1", found
            )
            joined = await db.fetchval(
                "SELECT person_id FROM profile_identities WHERE identity = $1", identity
            )
            if kept is None:
                return None
            if joined is None:
                await db.execute(
                    "INSERT INTO profile_identities (identity, person_id, display_name,"
                    " first_seen) VALUES ($1, $2, '', $3)",
                    identity,
                    kept,
                    now,
                )
            elif joined != kept:
                a, b = [
                    await db.fetchrow("SELECT * FROM profile_people WHERE person_id = $1", p)
                    for p in (kept, joined)
                ]
                m = merged(a, b)
                await db.execute(
                    "UPDATE profile_people SET first_seen = $2, last_seen = $3,"
                    " conversations = $4, last_topic = $5, last_topic_at = $6, level = $7"
                    " WHERE person_id = $1",
                    kept,
                    m.first_seen,
                    m.last_seen,
                    m.conversations,
                    m.last_topic,
                    m.last_topic_at,
                    m.level,
                )
                await db.execute(
                    "UPDATE profile_identities SET person_id = $1 WHERE person_id = $2",
                    kept,
                    joined,
                )
                await db.execute("DELETE FROM profile_people WHERE person_id = $1", joined)
            return await self._profile(db, kept)

    async def unlink(self, identity: str) -> Profile | None:
        async with self._person_locked(identity) as (db, person):
            others = await db.fetchval(
                "SELECT COUNT(*) FROM profile_identities WHERE person_id = $1 AND identity != $2",
                person,
                identity,
            )
            if person is None or not others:
                return None
            alone = uuid.uuid4().hex
            await db.execute(
                "INSERT INTO profile_people (person_id, first_seen, last_seen, conversations,"
                " level) SELECT $1, i.first_seen, GREATEST(i.first_seen, MAX(c.started_at)),"
                " COUNT(c.conversation_id), p.level FROM profile_identities i"
                " JOIN profile_people p USING (person_id)"
                " LEFT JOIN profile_conversations c USING (identity) WHERE i.identity = $2"
                " GROUP BY i.first_seen, p.level",
                alone,
                identity,
            )
            await db.execute(
                "UPDATE profile_identities SET person_id = $1 WHERE identity = $2", alone, identity
            )
            await db.execute(
                "UPDATE profile_people SET conversations = GREATEST(conversations -"
                " (SELECT conversations FROM profile_people WHERE person_id = $1), 0),"
                " first_seen = (SELECT MIN(first_seen) FROM profile_identities"
                " WHERE person_id = $2) WHERE person_id = $2",
                alone,
                person,
            )
            await db.execute("DELETE FROM profile_link_codes WHERE identity = $1", identity)
            return await self._profile(db, alone)

    async def delete_person(self, identity: str) -> Sequence[str]:
        async with self._person_locked(identity) as (db, person):
            if person is None:
                return []
            rows = await db.fetch(
                "DELETE FROM profile_identities WHERE person_id = $1 RETURNING identity", person
            )
            ids = [str(r["identity"]) for r in rows]
            await db.execute(
                "DELETE FROM profile_conversations WHERE identity = ANY($1::text[])", ids
            )
            await db.execute("DELETE FROM profile_link_codes WHERE identity = ANY($1::text[])", ids)
            await db.execute("DELETE FROM profile_people WHERE person_id = $1", person)
            return ids

    async def display_names(self) -> Sequence[str]:
        pool = await self._pool.get()
        rows = await pool.fetch(
            "SELECT DISTINCT display_name FROM profile_identities WHERE display_name != ''"
        )
        return [str(r["display_name"]) for r in rows]

    async def close(self) -> None:
        await self._pool.close()

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    async def _profile(db: Any, person: str) -> Profile | None:
        row = await db.fetchrow("SELECT * FROM profile_people WHERE person_id = $1", person)
        if row is None:
            return None
        identities = await db.fetch(
            "SELECT * FROM profile_identities WHERE person_id = $1 ORDER BY first_seen, identity",
            person,
        )
        return profile_from(row, identities, _when)

    @asynccontextmanager
    async def _person_locked(self, identity: str) -> AsyncIterator[tuple[Any, str | None]]:
        """A transaction holding the locks of ``identity`` and of every identity linked to
        it, with the person id read inside it (None: an unknown identity)."""
        pool = await self._pool.get()
        linked = [
            str(r["identity"])
            for r in await pool.fetch(
                f"SELECT identity FROM profile_identities WHERE person_id = {_PERSON}", identity
            )
        ]
        async with self._locked([identity, *linked]) as db:
            person = await db.fetchval(
                "SELECT person_id FROM profile_identities WHERE identity = $1", identity
            )
            yield db, person

    @asynccontextmanager
    async def _locked(self, identities: Iterable[str]) -> AsyncIterator[Any]:
        """A transaction holding the advisory locks of ``identities`` (in a fixed order, so
        two transactions never wait on each other in a circle)."""
        pool = await self._pool.get()
        async with pool.acquire() as db, db.transaction():
            for identity in sorted({i for i in identities if i}):
                await db.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('profile:' || $1))", identity
                )
            yield db
