"""The tracker store's ``events`` table (Rasa's ``SQLTrackerStore``) on SQLite or PostgreSQL.

SQLAlchemy is synchronous here; every database call runs in ``asyncio.to_thread`` and
rows are streamed in chunks, so a year of events never sits in memory at once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import sqlalchemy as sa  # type: ignore[import-untyped]
from sqlalchemy.engine import Connection, Engine, Result  # type: ignore[import-untyped]

from bot.analytics.events import Period, SenderHistory, StoredEvent, decode_row
from bot.analytics.source import PruneResult, expired_sessions

DEFAULT_SQLITE = Path(".state/tracker.db")
_COLUMNS = "sender_id, type_name, timestamp, intent_name, action_name, data"
_BATCH = 500


def tracker_store_url(env: Mapping[str, str] = os.environ) -> str:
    """``BOT_TRACKER_STORE_URL`` when set, else the embedded SQLite tracker store."""
    return env.get("BOT_TRACKER_STORE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


def create_engine(url: str) -> Engine:
    """An engine for a ``sqlite:///`` or ``postgresql://`` URL, usable from worker threads."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, future=True, connect_args={"check_same_thread": False})
    if url.startswith("postgres"):
        return sa.create_engine(url, future=True)
    raise ValueError("the tracker store URL must be sqlite:///... or postgresql://...")


def _active_senders(period: Period, params: dict[str, Any]) -> list[str]:
    """``sender_id IN (senders with an event in [since, until))``, if the period is bounded."""
    active: list[str] = []
    if period.since is not None:
        active.append("timestamp >= :since")
        params["since"] = period.since
    if period.until is not None:
        active.append("timestamp < :until")
        params["until"] = period.until
    if not active:
        return []
    return [f"sender_id IN (SELECT DISTINCT sender_id FROM events WHERE {' AND '.join(active)})"]


def _shard(period: Period, params: dict[str, Any]) -> list[str]:
    """The range of sender ids of one shard."""
    where: list[str] = []
    first, last = period.senders
    if first is not None:
        where.append("sender_id >= :first_sender")
        params["first_sender"] = first
    if last is not None:
        where.append("sender_id < :last_sender")
        params["last_sender"] = last
    return where


def _period_filter(period: Period) -> tuple[list[str], dict[str, Any]]:
    params: dict[str, Any] = {}
    where = _active_senders(period, params) + _shard(period, params)
    if period.since is not None:
        where.append("timestamp >= :since")
    if period.read_until is not None:
        where.append("timestamp < :read_until")
        params["read_until"] = period.read_until
    return where, params


class SqlEventSource:
    """An ``EventSource`` and ``ConversationPruner`` over Rasa's SQL tracker store."""

    def __init__(self, url: str, chunk_size: int = 20_000) -> None:
        self.url = url
        self._chunk_size = chunk_size
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The engine, created on first use."""
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    async def close(self) -> None:
        """Releases the connection pool."""
        if self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)
            self._engine = None

    async def histories(self, period: Period) -> AsyncIterator[SenderHistory]:
        earlier = await asyncio.to_thread(self._senders_before, period)
        where, params = _period_filter(period)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = sa.text(f"SELECT {_COLUMNS} FROM events{clause} ORDER BY sender_id, id")
        connection = await asyncio.to_thread(self.engine.connect)
        try:
            result = await asyncio.to_thread(
                connection.execution_options(stream_results=True).execute, query, params
            )
            sender: str | None = None
            events: list[StoredEvent] = []
            while chunk := await asyncio.to_thread(self._decoded_chunk, result):
                for event in chunk:
                    if event.sender_id != sender:
                        if sender is not None:
                            yield SenderHistory(sender, events, sender in earlier)
                        sender, events = event.sender_id, []
                    events.append(event)
            if sender is not None:
                yield SenderHistory(sender, events, sender in earlier)
        finally:
            await asyncio.to_thread(connection.close)

    def _decoded_chunk(self, result: Result) -> list[StoredEvent]:
        return [decode_row(row) for row in result.fetchmany(self._chunk_size)]

    async def shard_bounds(self, shards: int) -> list[str]:
        """``shards - 1`` sender ids that split all senders into equal ranges (DB order)."""
        query = sa.text("SELECT DISTINCT sender_id FROM events ORDER BY sender_id")

        def read() -> list[str]:
            with self.engine.connect() as connection:
                return [row[0] for row in connection.execute(query)]

        senders = await asyncio.to_thread(read)
        cuts: list[str] = []
        for i in range(1, shards):
            cut = senders[len(senders) * i // shards] if senders else None
            if cut is not None and cut != senders[0] and cut not in cuts:
                cuts.append(cut)  # already in the database's order
        return cuts

    def _senders_before(self, period: Period) -> set[str]:
        if period.since is None:
            return set()
        params: dict[str, Any] = {}
        where = ["timestamp < :since", *_active_senders(period, params), *_shard(period, params)]
        query = sa.text(f"SELECT DISTINCT sender_id FROM events WHERE {' AND '.join(where)}")
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(query, params)}

    async def sender_events(self, sender_id: str) -> list[StoredEvent]:
        query = sa.text(f"SELECT {_COLUMNS} FROM events WHERE sender_id = :sender ORDER BY id")

        def read() -> list[StoredEvent]:
            with self.engine.connect() as connection:
                return [decode_row(r) for r in connection.execute(query, {"sender": sender_id})]

        return await asyncio.to_thread(read)

    async def prune(self, cutoff: float, dry_run: bool = False) -> PruneResult:
        return await asyncio.to_thread(self._prune, cutoff, dry_run)

    def _prune(self, cutoff: float, dry_run: bool) -> PruneResult:
        candidates = sa.text("SELECT DISTINCT sender_id FROM events WHERE timestamp < :cutoff")
        conversations = senders = 0
        doomed: list[int] = []
        with self.engine.begin() as connection:
            names = sorted(row[0] for row in connection.execute(candidates, {"cutoff": cutoff}))
            for batch in _batches(names, _BATCH):
                for sender_id, rows in groupby(_light_rows(connection, batch), key=lambda r: r[1]):
                    ids, events = _light_events(sender_id, rows)
                    expired = expired_sessions(events, cutoff)
                    if expired:
                        senders += 1
                        conversations += len(expired)
                        doomed.extend(ids[id(e)] for session in expired for e in session)
            if not dry_run:
                delete = sa.text("DELETE FROM events WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                )
                for batch_ids in _batches(doomed, _BATCH):
                    connection.execute(delete, {"ids": batch_ids})
        return PruneResult(conversations, len(doomed), senders)


def _light_rows(connection: Connection, senders: Sequence[str]) -> Iterator[Any]:
    query = sa.text(
        "SELECT id, sender_id, type_name, timestamp, action_name FROM events "
        "WHERE sender_id IN :senders ORDER BY sender_id, id"
    ).bindparams(sa.bindparam("senders", expanding=True))
    return iter(connection.execute(query, {"senders": list(senders)}).all())


def _light_events(sender_id: str, rows: Any) -> tuple[dict[int, int], list[StoredEvent]]:
    ids: dict[int, int] = {}
    events: list[StoredEvent] = []
    for row_id, _, type_name, timestamp, action_name in rows:
        event = StoredEvent(sender_id, type_name, float(timestamp or 0.0), None, action_name, {})
        ids[id(event)] = row_id
        events.append(event)
    return ids, events


def _batches(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
