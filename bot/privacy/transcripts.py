"""Transcripts in Rasa's SQL tracker store (the ``events`` table, SQLite or PostgreSQL):
finding a customer's conversations and deleting them.

The conversation that is running while the customer asks to be forgotten cannot be deleted
during the turn (Rasa saves the turn after the action). The forget-me action ends the turn
with a ``session_started`` event carrying a purge marker; once Rasa has saved it,
:meth:`Transcripts.purge_marked` deletes every event of that conversation up to the
marker, and the rest too unless the customer has already written again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa  # type: ignore[import-untyped]
from sqlalchemy.engine import Connection, Engine  # type: ignore[import-untyped]

from bot.analytics.sql_source import create_engine

T = TypeVar("T")
PURGE_KEY = "privacy_purge"
_BATCH = 500
_TELEGRAM_USER = re.compile(r"^telegram:(\d+)$")
_SLACK_USER = re.compile(r"^slack:([A-Z0-9]+)$")


class TranscriptsUnreachable(RuntimeError):
    """The tracker store this process reads is not the one holding the conversation (or
    cannot be read): forgetting must not claim that transcripts were deleted."""


def purge_marker(token: str) -> dict[str, Any]:
    """The ``session_started`` event that ends a forget-me turn and marks the purge."""
    return {"event": "session_started", "metadata": {PURGE_KEY: token}}


class Transcripts:
    """The tracker store's events; every call runs in a worker thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._has_table = False

    async def conversations_of(self, identity: str) -> set[str]:
        """Conversations the identity wrote in: for Telegram its private chat and its
        conversations in groups, for Slack any conversation with a message of that user."""
        if match := _TELEGRAM_USER.match(identity):
            user = match.group(1)
            query = sa.text(
                "SELECT DISTINCT sender_id FROM events"
                " WHERE sender_id = :private OR sender_id LIKE :in_groups"
            )
            params = {"private": f"telegram:{user}", "in_groups": f"telegram:%:{user}"}
        elif match := _SLACK_USER.match(identity):
            query = sa.text(
                "SELECT DISTINCT sender_id FROM events WHERE type_name = 'user'"
                " AND sender_id LIKE :slack AND data LIKE :author"
            )
            params = {"slack": "slack:%", "author": f'%"user": "{match.group(1)}"%'}
        else:
            return set()
        rows: list[Any] = await self._run(lambda db: db.execute(query, params).all(), [])
        return {str(row[0]) for row in rows}

    async def holds(self, conversation_id: str) -> bool:
        """Whether the store has events of ``conversation_id``: a customer asking to be
        forgotten has talked before, so a store without their conversation is the wrong one
        (an unset or mistyped ``BOT_TRACKER_STORE_URL``)."""
        query = sa.text("SELECT 1 FROM events WHERE sender_id = :sender LIMIT 1")
        found: bool = await self._run(
            lambda db: db.execute(query, {"sender": conversation_id}).first() is not None, False
        )
        return found

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        """Deletes every event of these conversations; returns how many events."""
        ids = sorted(conversation_ids)

        def delete(db: Connection) -> int:
            statement = sa.text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            )
            return sum(int(db.execute(statement, {"ids": b}).rowcount) for b in _batches(ids))

        return await self._run(delete, 0) if ids else 0

    async def purge_marked(self, conversation_id: str | None = None) -> int:
        """Deletes the conversations (or this one) whose forget-me marker is saved; returns
        how many events."""
        query = (
            "SELECT sender_id, MAX(id) FROM events WHERE type_name = 'session_started'"
            " AND data LIKE :marked"
        )
        params: dict[str, Any] = {"marked": f'%"{PURGE_KEY}"%'}
        if conversation_id is not None:
            query += " AND sender_id = :sender"
            params["sender"] = conversation_id
        purge = sa.text(
            "DELETE FROM events WHERE sender_id = :sender AND (id <= :marker OR NOT EXISTS"
            " (SELECT 1 FROM events later WHERE later.sender_id = :sender"
            " AND later.id > :marker AND later.type_name = 'user'))"
        )

        def run(db: Connection) -> int:
            marked = db.execute(sa.text(query + " GROUP BY sender_id"), params).all()
            return sum(
                int(db.execute(purge, {"sender": sender, "marker": marker}).rowcount)
                for sender, marker in marked
            )

        return await self._run(run, 0)

    async def purge_when_saved(
        self, conversation_id: str, token: str, timeout: float = 60.0, poll: float = 0.2
    ) -> bool:
        """Waits until Rasa has saved the turn that carries ``token``'s marker, then purges
        the conversation; False when the marker never appeared within ``timeout``."""
        saved = sa.text(
            "SELECT 1 FROM events WHERE sender_id = :sender AND type_name = 'session_started'"
            " AND data LIKE :marker"
        )
        params = {"sender": conversation_id, "marker": f'%"{PURGE_KEY}": "{token}"%'}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self._run(lambda db: db.execute(saved, params).first() is not None, False):
                await self.purge_marked(conversation_id)
                return True
            await asyncio.sleep(poll)
        return False

    async def close(self) -> None:
        if self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)
            self._engine = None

    async def _run(self, work: Callable[[Connection], T], empty: T) -> T:
        """``work`` in one transaction; ``empty`` while Rasa has not created the table."""

        def run() -> T:
            if self._engine is None:
                self._engine = create_engine(self.url)
            if not self._has_table:
                self._has_table = bool(sa.inspect(self._engine).has_table("events"))
                if not self._has_table:
                    return empty
            with self._engine.begin() as db:
                return work(db)

        return await asyncio.to_thread(run)


def _batches(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _BATCH):
        yield list(items[start : start + _BATCH])
