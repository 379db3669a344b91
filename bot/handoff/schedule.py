"""Business hours: when agents are at work, per weekday in one time zone (DST-aware)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A window's end at midnight: "00:00-24:00" is the whole day.
END_OF_DAY = "24:00"


@dataclass(frozen=True)
class Window:
    """Open from ``start`` (inclusive) to ``end`` (exclusive), local wall-clock time."""

    start: time
    end: time


@dataclass(frozen=True)
class BusinessHours:
    """Opening windows per weekday (0 = Monday) in ``timezone``."""

    timezone: ZoneInfo
    weekly: Mapping[int, tuple[Window, ...]]

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> BusinessHours:
        """From ``{timezone: Europe/London, weekly: {mon: "08:00-20:00", sun: closed}}``.

        A day may list several windows (``["08:00-12:00", "13:00-17:00"]``); days left out
        are closed.
        """
        try:
            zone = ZoneInfo(str(raw["timezone"]))
        except KeyError:
            raise ValueError("business_hours: timezone is missing") from None
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"business_hours: unknown timezone {raw['timezone']!r}") from None
        weekly_raw = dict(raw.get("weekly") or {})
        unknown = set(weekly_raw) - set(WEEKDAYS)
        if unknown:
            names = ", ".join(WEEKDAYS)
            raise ValueError(f"business_hours: unknown weekday(s) {sorted(unknown)}; use {names}")
        weekly = {day: _windows(WEEKDAYS[day], weekly_raw.get(WEEKDAYS[day])) for day in range(7)}
        if not any(weekly.values()):
            raise ValueError("business_hours: no day has opening hours")
        return cls(zone, weekly)

    def is_open(self, at: datetime) -> bool:
        """Whether agents are at work at the moment ``at`` (timezone-aware)."""
        local = _aware(at).astimezone(self.timezone)
        now = local.time().replace(tzinfo=None)
        return any(w.start <= now < w.end for w in self.weekly.get(local.weekday(), ()))

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself when open, else the next moment the desk opens (in ``timezone``)."""
        if self.is_open(at):
            return at
        local_day = _aware(at).astimezone(self.timezone).date()
        for offset in range(8):
            day = local_day + timedelta(days=offset)
            for window in self.weekly.get(day.weekday(), ()):
                opening = self._moment(day, window.start)
                if opening > at:
                    return opening
        raise AssertionError("a schedule with opening hours always opens within 8 days")

    def _moment(self, day: date, wall: time) -> datetime:
        # Round-trip through UTC so a wall time inside a DST gap lands on a real instant.
        naive = datetime.combine(day, wall, tzinfo=self.timezone)
        return naive.astimezone(timezone.utc).astimezone(self.timezone)


def _windows(day: str, raw: Any) -> tuple[Window, ...]:
    if raw is None or raw == "closed":
        return ()
    items = [raw] if isinstance(raw, str) else list(raw)
    windows = []
    for item in items:
        try:
            start, end = (_wall_time(part) for part in str(item).split("-"))
            window = Window(start, end)
        except ValueError:
            raise ValueError(f"business_hours: {day}: {item!r} is not like '08:00-20:00'") from None
        if window.end <= window.start:
            raise ValueError(f"business_hours: {day}: {item!r} must end after it starts")
        windows.append(window)
    return tuple(sorted(windows, key=lambda w: w.start))


def _wall_time(text: str) -> time:
    """``08:00``; ``24:00`` is the end of the day (a window may run until midnight)."""
    text = text.strip()
    return time.max if text == END_OF_DAY else time.fromisoformat(text)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business hours need a timezone-aware datetime")
    return at
