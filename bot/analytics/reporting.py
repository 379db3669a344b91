"""Builds the report for a period: read the event log, compute the KPIs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.analytics.conversations import conversations
from bot.analytics.events import Period, SenderHistory, StoredEvent
from bot.analytics.kpis import compute_async
from bot.analytics.outcomes import KpiSettings
from bot.analytics.source import EventSource


@dataclass(frozen=True)
class ReportRun:
    """A computed report with how long reading and computing took."""

    result: dict[str, Any]
    conversations: int
    events: int
    seconds: float


async def build_report(
    source: EventSource,
    since: float | None = None,
    until: float | None = None,
    settings: KpiSettings | None = None,
) -> ReportRun:
    """Every KPI of the conversations that start in ``[since, until)``."""
    settings = settings or KpiSettings()
    period = Period(since, until, settings.horizon)
    started = time.perf_counter()
    counted = _Counting(source)
    accumulator = await compute_async(conversations(counted, period), settings)
    result = accumulator.result(since, until)
    return ReportRun(
        result,
        result["counts"].get("conversations", 0),
        counted.events,
        time.perf_counter() - started,
    )


class _Counting:
    """Wraps a source to count the events read (for the benchmark's events/second)."""

    def __init__(self, source: EventSource) -> None:
        self._source = source
        self.events = 0

    async def histories(self, period: Period) -> AsyncIterator[SenderHistory]:
        async for history in self._source.histories(period):
            self.events += len(history.events)
            yield history

    async def sender_events(self, sender_id: str) -> list[StoredEvent]:
        return await self._source.sender_events(sender_id)
