"""The report over a SQL tracker store on every CPU: one process per shard of senders.

Each worker reads and counts the conversations of a contiguous range of sender ids (a
sender's conversations never straddle shards, so reopens stay exact); the accumulators
are then merged. Same numbers as :func:`bot.analytics.reporting.build_report`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from itertools import pairwise

from bot.analytics.conversations import sender_conversations
from bot.analytics.events import Period
from bot.analytics.kpis import KpiAccumulator
from bot.analytics.outcomes import KpiSettings
from bot.analytics.reporting import ReportRun, build_report
from bot.analytics.sql_source import SqlEventSource


def _count_shard(url: str, period: Period, settings: KpiSettings) -> tuple[KpiAccumulator, int]:
    async def count() -> tuple[KpiAccumulator, int]:
        source = SqlEventSource(url)
        accumulator, events = KpiAccumulator(settings), 0
        try:
            async for history in source.histories(period):
                events += len(history.events)
                for conversation in sender_conversations(history):
                    if period.contains(conversation.started):
                        accumulator.add(conversation)
        finally:
            await source.close()
        return accumulator, events

    return asyncio.run(count())


async def build_report_parallel(
    url: str,
    since: float | None = None,
    until: float | None = None,
    settings: KpiSettings | None = None,
    workers: int | None = None,
) -> ReportRun:
    """:func:`build_report` over ``url`` with ``workers`` processes (default: one per CPU)."""
    settings = settings or KpiSettings()
    if settings.as_of is None:  # one "now" for every shard
        settings = replace(settings, as_of=time.time())
    workers = workers or os.cpu_count() or 1
    source = SqlEventSource(url)
    try:
        if workers <= 1:
            return await build_report(source, since, until, settings)
        cuts = await source.shard_bounds(workers)
    finally:
        await source.close()
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    shards = list(pairwise([None, *cuts, None]))
    with ProcessPoolExecutor(len(shards), mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool, _count_shard, url, Period(since, until, settings.horizon, shard), settings
                )
                for shard in shards
            )
        )
    total = KpiAccumulator(settings)
    for accumulator, _ in parts:
        total.merge(accumulator)
    result = total.result(since, until)
    events = sum(n for _, n in parts)
    return ReportRun(
        result, result["counts"].get("conversations", 0), events, time.perf_counter() - started
    )
