"""Database rows to profiles, and merging two people, shared by both backends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.profiles.model import Identity, Level, Profile

Row = Mapping[str, Any]


def profile_from(person: Row, identities: Iterable[Row], when: Callable[[Any], Any]) -> Profile:
    """A profile from its ``profile_people`` row and ``profile_identities`` rows; ``when``
    turns the backend's stored time into a datetime."""
    return Profile(
        person_id=str(person["person_id"]),
        identities=tuple(
            Identity(str(i["identity"]), str(i["display_name"]), when(i["first_seen"]))
            for i in identities
        ),
        first_seen=when(person["first_seen"]),
        last_seen=when(person["last_seen"]),
        conversations=int(person["conversations"]),
        last_topic=person["last_topic"],
        level=Level(person["level"]) if person["level"] else None,
    )


@dataclass(frozen=True)
class Merged:
    """The ``profile_people`` values of two people made one."""

    first_seen: Any
    last_seen: Any
    conversations: int
    last_topic: str | None
    last_topic_at: Any
    level: str | None


def merged(kept: Row, joined: Row) -> Merged:
    """Counts added, the earliest first visit and latest last visit, the most recent topic,
    and the lower personalisation level of the two."""
    topics = [r for r in (kept, joined) if r["last_topic_at"] is not None]
    latest = max(topics, key=lambda r: r["last_topic_at"]) if topics else None
    levels = [Level(r["level"]) for r in (kept, joined) if r["level"]]
    level = min(levels, key=lambda lv: lv.rank).value if levels else None
    return Merged(
        first_seen=min(kept["first_seen"], joined["first_seen"]),
        last_seen=max(kept["last_seen"], joined["last_seen"]),
        conversations=int(kept["conversations"]) + int(joined["conversations"]),
        last_topic=latest["last_topic"] if latest else None,
        last_topic_at=latest["last_topic_at"] if latest else None,
        level=level,
    )
