"""Scheduled check-ins: the ``CheckinStore`` protocol, its records and picking a backend.

The store is the source of truth for check-ins (Rasa's reminder scheduler lives in memory):
at most one pending check-in per conversation and topic, and each is delivered at most once.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from bot.database import database_url, sqlite_path


class CheckinState(str, Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"  # could not be delivered after the worker's last attempt


@dataclass(frozen=True)
class Checkin:
    """One scheduled check-in. Times are UTC epoch seconds."""

    id: int
    conversation_id: str
    topic: str
    response: str
    due_at: float
    state: CheckinState
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0
    delivered_at: float | None = None

    @property
    def reminder_name(self) -> str:
        """The Rasa reminder's name: unique, since Rasa's scheduler keys jobs by name alone."""
        return f"followup_checkin_{self.id}"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Checkin:
        delivered = row["delivered_at"]
        return cls(
            id=int(row["id"]),
            conversation_id=str(row["conversation_id"]),
            topic=str(row["topic"]),
            response=str(row["response"]),
            due_at=float(row["due_at"]),
            state=CheckinState(row["state"]),
            created_at=float(row["created_at"]),
            attempts=int(row["attempts"]),
            next_attempt_at=float(row["next_attempt_at"]),
            delivered_at=None if delivered is None else float(delivered),
        )


class CheckinStore(Protocol):
    """Persistent check-ins; every change is atomic (safe across processes)."""

    async def schedule(
        self, conversation_id: str, topic: str, response: str, due_at: float, now: float
    ) -> tuple[Checkin, bool]:
        """Adds a pending check-in, or returns the conversation's pending one for ``topic``
        (the flag says whether it was created)."""
        ...

    async def get(self, checkin_id: int) -> Checkin | None:
        """The check-in, or None."""
        ...

    async def pending(self, limit: int = 1000) -> Sequence[Checkin]:
        """Pending check-ins, soonest first."""
        ...

    async def due(self, cutoff: float, limit: int = 100) -> Sequence[Checkin]:
        """Pending check-ins whose next attempt is at or before ``cutoff``, soonest first."""
        ...

    async def mark_delivered(self, checkin_id: int, now: float) -> bool:
        """Pending -> delivered; True for exactly one caller."""
        ...

    async def cancel(self, conversation_id: str, topic: str | None = None) -> Sequence[Checkin]:
        """Cancels the conversation's pending check-ins (of ``topic``); returns them."""
        ...

    async def record_attempt(self, checkin_id: int, next_attempt_at: float, give_up: bool) -> None:
        """Notes a delivery attempt of a still pending check-in; ``give_up`` marks it failed."""
        ...

    async def prune_before(self, cutoff: float) -> int:
        """Deletes check-ins no longer pending that were due before ``cutoff`` (epoch
        seconds; ``bot retention``). Returns how many."""
        ...

    async def delete_customer(self, conversation_ids: Collection[str]) -> int:
        """Deletes every check-in of these conversations (privacy); returns how many."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


def checkin_store_from_env(env: Mapping[str, str] = os.environ) -> CheckinStore:
    """PostgreSQL when ``BOT_DATABASE_URL`` is set, else the SQLite file (``BOT_SQLITE_PATH``)."""
    url = database_url(env)
    if url:
        from bot.followup.postgres_store import PostgresCheckinStore

        return PostgresCheckinStore(url)
    from bot.followup.sqlite_store import SqliteCheckinStore

    return SqliteCheckinStore(sqlite_path(env))
