"""The KPIs of docs/analytics.md, accumulated one conversation at a time."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.analytics.conversations import Conversation
from bot.analytics.events import utc
from bot.analytics.outcomes import HOUR, KpiSettings, outcome
from bot.analytics.redact import redact
from bot.analytics.stats import (
    Mean,
    Scores,
    day_of,
    day_range,
    durations,
    parse_day,
    rate,
    week_of,
)

#: The report lists this many of the newest CSAT comments (all are counted).
COMMENTS_SHOWN = 50


def _counts() -> dict[str, int]:
    return {"conversations": 0, "messages": 0}


def _day_counts() -> dict[str, int]:
    return {"conversations": 0, "escalated": 0}


def _int_table() -> defaultdict[str, int]:
    return defaultdict(int)


def _count_table() -> defaultdict[str, dict[str, int]]:
    return defaultdict(_counts)


@dataclass
class KpiAccumulator:
    """Adds conversations; :meth:`result` returns every KPI as plain JSON-ready data."""

    settings: KpiSettings = field(default_factory=KpiSettings)
    counts: dict[str, int] = field(default_factory=_int_table)
    by_channel: dict[str, dict[str, int]] = field(default_factory=_count_table)
    by_topic: dict[str, dict[str, int]] = field(default_factory=_count_table)
    daily: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(_day_counts))
    csat: dict[str, dict[str, Scores]] = field(default_factory=lambda: defaultdict(dict))
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    never_claimed: dict[str, int] = field(default_factory=_int_table)
    sentiment: dict[str, dict[str, dict[str, Mean]]] = field(default_factory=dict)
    shift: dict[str, dict[str, tuple[Mean, Mean]]] = field(default_factory=dict)
    comments: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    comment_count: int = 0
    as_of: float = 0.0

    def __post_init__(self) -> None:
        self.as_of = self.settings.as_of if self.settings.as_of is not None else time.time()

    def add(self, c: Conversation) -> None:
        """Counts one conversation."""
        result = outcome(c, self.settings, self.as_of)
        flags = {
            "conversations": True,
            "contained": not c.escalated,
            "escalated": c.escalated,
            "with_fallback": c.fallback_turns > 0,
            "claimed": any(t.claimed_at is not None for t in c.tickets),
            "resolved_by_agent": result.resolved_by_agent,
            "confirmed": result.confirmed,
            "assumed": result.assumed,
            "pending": result.pending,
            "resolved": result.resolved,
            "reopened": result.reopened,
        }
        for name, flag in flags.items():
            self.counts[name] += int(flag)
        self.counts["user_turns"] += len(c.turns)
        self.counts["fallback_turns"] += c.fallback_turns
        self.by_channel[c.channel]["conversations"] += 1
        self.by_channel[c.channel]["messages"] += len(c.turns)
        self.by_topic[c.topic]["conversations"] += 1
        for turn in c.turns:
            self.by_topic[turn.topic]["messages"] += 1
        day = self.daily[day_of(c.started)]
        day["conversations"] += 1
        day["escalated"] += int(c.escalated)
        if c.csat is not None:
            groups = {"overall": "all", "topic": c.topic, "channel": c.channel}
            groups["resolved_by"] = c.csat_by or "bot"
            for group, key in groups.items():
                self.csat[group].setdefault(key, Scores()).add(c.csat)
        if c.csat_comment:
            self._add_comments([(c.ended, c.id, _comment(c))], 1)
        self._add_tickets(c)
        self._add_sentiment(c)

    def _add_comments(self, comments: list[tuple[float, str, dict[str, Any]]], n: int) -> None:
        self.comment_count += n
        self.comments.extend(comments)
        if len(self.comments) > 2 * COMMENTS_SHOWN:
            self.comments = sorted(self.comments, reverse=True)[:COMMENTS_SHOWN]

    def _add_tickets(self, c: Conversation) -> None:
        for t in c.tickets:
            self.counts["tickets"] += 1
            if t.claimed_at is not None:
                self.waits["time_to_claim"].append(t.claimed_at - t.queued_at)
                if t.resolved_at is not None:
                    self.waits["handling_time"].append(t.resolved_at - t.claimed_at)
            else:
                self.never_claimed[t.state] += 1
            if t.first_reply_at is not None:
                self.waits["time_to_first_agent_reply"].append(t.first_reply_at - t.queued_at)

    def _add_sentiment(self, c: Conversation) -> None:
        change = self.settings.change_date
        for turn in c.turns:
            if turn.sentiment is None:
                continue
            day, week = day_of(turn.at), week_of(turn.at)
            for group, key in (("topic", turn.topic), ("channel", c.channel)):
                for unit, bucket in (("day", day), ("week", week)):
                    series = self.sentiment.setdefault(f"{group}/{unit}", {})
                    series.setdefault(key, {}).setdefault(bucket, Mean()).add(turn.sentiment)
                if change is not None:
                    pair = self.shift.setdefault(group, {}).setdefault(key, (Mean(), Mean()))
                    pair[turn.at >= change].add(turn.sentiment)

    def merge(self, other: KpiAccumulator) -> None:
        """Adds another accumulator's conversations (one per shard of senders)."""
        for name, n in other.counts.items():
            self.counts[name] += n
        for mine, theirs in (
            (self.by_channel, other.by_channel),
            (self.by_topic, other.by_topic),
            (self.daily, other.daily),
        ):
            for key, counts in theirs.items():
                for name, n in counts.items():
                    mine[key][name] = mine[key].get(name, 0) + n
        for group, table in other.csat.items():
            for key, scores in table.items():
                self.csat[group].setdefault(key, Scores()).merge(scores)
        self._add_comments(other.comments, other.comment_count)
        for name, values in other.waits.items():
            self.waits[name].extend(values)
        for state, n in other.never_claimed.items():
            self.never_claimed[state] += n
        for series, keys in other.sentiment.items():
            for key, buckets in keys.items():
                for bucket, mean in buckets.items():
                    own = self.sentiment.setdefault(series, {}).setdefault(key, {})
                    own.setdefault(bucket, Mean()).merge(mean)
        for group, pairs in other.shift.items():
            for key, (before, after) in pairs.items():
                own_pair = self.shift.setdefault(group, {}).setdefault(key, (Mean(), Mean()))
                own_pair[0].merge(before)
                own_pair[1].merge(after)

    def result(self, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        """Every KPI for the period, as documented in docs/analytics.md."""
        n = self.counts
        conversations = n["conversations"]
        return {
            "period": {"since": _iso(since), "until": _iso(until)},
            "settings": {
                "assumed_window_hours": self.settings.assumed_window / HOUR,
                "reopen_window_hours": self.settings.reopen_window / HOUR,
                "change_date": _iso(self.settings.change_date),
            },
            "counts": {k: n[k] for k in sorted(n)},
            "rates": {
                "containment": rate(n["contained"], conversations),
                "escalation": rate(n["escalated"], conversations),
                "fallback": rate(n["fallback_turns"], n["user_turns"]),
                "resolution_confirmed": rate(n["confirmed"], conversations),
                "resolution_assumed": rate(n["assumed"], conversations),
                "reopen": rate(n["reopened"], n["resolved"]),
            },
            "by_channel": _sorted(self.by_channel),
            "by_topic": _sorted(self.by_topic),
            "daily": self._daily(since, until),
            "csat": {
                group: {key: scores.as_dict() for key, scores in sorted(table.items())}
                for group, table in sorted(self.csat.items())
            },
            "csat_comments": {
                "count": self.comment_count,
                "latest": [
                    [conversation_id, comment]
                    for _, conversation_id, comment in sorted(self.comments, reverse=True)[
                        :COMMENTS_SHOWN
                    ]
                ],
            },
            "handoff": {
                "tickets": n["tickets"],
                "never_claimed": sum(self.never_claimed.values()),
                "never_claimed_by_state": dict(sorted(self.never_claimed.items())),
                **{
                    name: durations(self.waits[name])
                    for name in ("time_to_claim", "time_to_first_agent_reply", "handling_time")
                },
            },
            "sentiment": {
                series: {
                    key: {b: m.as_dict() for b, m in sorted(buckets.items())}
                    for key, buckets in sorted(table.items())
                }
                for series, table in sorted(self.sentiment.items())
            },
            "sentiment_shift": {
                group: {key: _shift(before, after) for key, (before, after) in sorted(t.items())}
                for group, t in sorted(self.shift.items())
            },
            "funnel": [
                [stage, n[stage]]
                for stage in (
                    "conversations",
                    "with_fallback",
                    "escalated",
                    "claimed",
                    "resolved_by_agent",
                )
            ],
        }

    def _daily(self, since: float | None, until: float | None) -> dict[str, dict[str, Any]]:
        days = sorted(self.daily)
        if since is not None and until is not None and until - since <= 400 * 24 * HOUR:
            days = day_range(utc(since), utc(until - 1e-6))
        elif days:
            days = day_range(parse_day(days[0]), parse_day(days[-1]))
        out: dict[str, dict[str, Any]] = {}
        for day in days:
            counts = self.daily.get(day, _counts())
            escalated = counts.get("escalated", 0)
            out[day] = {
                "conversations": counts["conversations"],
                "escalated": escalated,
                "escalation_rate": rate(escalated, counts["conversations"]),
            }
        return out


def _shift(before: Mean, after: Mean) -> dict[str, Any]:
    b, a = before.value, after.value
    return {
        "before": before.as_dict(),
        "after": after.as_dict(),
        "delta": None if a is None or b is None else a - b,
    }


def _sorted(table: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {key: dict(value) for key, value in sorted(table.items())}


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else utc(timestamp).isoformat().replace("+00:00", "Z")


def compute(conversations: Iterable[Conversation], settings: KpiSettings) -> KpiAccumulator:
    """The accumulator after adding every conversation."""
    accumulator = KpiAccumulator(settings)
    for conversation in conversations:
        accumulator.add(conversation)
    return accumulator


async def compute_async(
    conversations: AsyncIterable[Conversation], settings: KpiSettings
) -> KpiAccumulator:
    """:func:`compute` over a stream."""
    accumulator = KpiAccumulator(settings)
    async for conversation in conversations:
        accumulator.add(conversation)
    return accumulator


def _comment(c: Conversation) -> dict[str, Any]:
    """A CSAT comment for the report, personal data redacted."""
    return {
        "at": _iso(c.ended),
        "channel": c.channel,
        "topic": c.topic,
        "score": c.csat,
        "resolved_by": c.csat_by or "bot",
        "text": redact(c.csat_comment or ""),
    }
