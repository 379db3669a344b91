"""Small, exact summary statistics for the KPIs (no numpy: the inputs are streamed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from bot.analytics.events import utc


def rate(part: int, whole: int) -> float | None:
    """``part / whole``; ``None`` when there is nothing to divide by."""
    return part / whole if whole else None


def day_of(timestamp: float) -> str:
    """The UTC calendar day, ``YYYY-MM-DD``."""
    return _day_name(int(timestamp // 86400))


def week_of(timestamp: float) -> str:
    """The ISO week, ``YYYY-Www`` (weeks start on Monday, UTC)."""
    return _week_name(int(timestamp // 86400))


@lru_cache(maxsize=8192)
def _day_name(day: int) -> str:
    return utc(day * 86400.0).strftime("%Y-%m-%d")


@lru_cache(maxsize=8192)
def _week_name(day: int) -> str:
    year, week, _ = utc(day * 86400.0).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Mean:
    """A running mean."""

    total: float = 0.0
    count: int = 0

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1

    def merge(self, other: Mean) -> None:
        self.total += other.total
        self.count += other.count

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": self.value}


@dataclass
class Scores:
    """CSAT scores 1..5: count, average and distribution."""

    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    def add(self, score: int) -> None:
        self.distribution[score] = self.distribution.get(score, 0) + 1

    def merge(self, other: Scores) -> None:
        for score, n in other.distribution.items():
            self.distribution[score] = self.distribution.get(score, 0) + n

    def as_dict(self) -> dict[str, Any]:
        count = sum(self.distribution.values())
        total = sum(score * n for score, n in self.distribution.items())
        return {
            "count": count,
            "average": total / count if count else None,
            "distribution": {str(k): v for k, v in sorted(self.distribution.items())},
        }


def durations(values: Sequence[float]) -> dict[str, Any]:
    """Count, mean, median and 90th percentile (nearest rank) of durations in seconds."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {
        "count": len(ordered),
        "mean": sum(ordered) / len(ordered),
        "median": median,
        "p90": p90,
    }


def day_range(first: datetime, last: datetime) -> list[str]:
    """Every day from ``first`` to ``last`` inclusive, ``YYYY-MM-DD``."""
    days: list[str] = []
    current = first.date()
    while current <= last.date():
        days.append(current.isoformat())
        current = current.fromordinal(current.toordinal() + 1)
    return days


def parse_day(day: str) -> datetime:
    """``YYYY-MM-DD`` as midnight UTC."""
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc)
