"""What happened between the customer's previous message and their latest one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def events_before_latest_message(
    events: Iterable[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    """The events between the customer's previous message and their latest one, most recent
    first (empty when there is no customer message yet)."""
    between: list[Mapping[str, Any]] = []
    seen_latest_user = False
    for event in reversed(list(events)):
        if event.get("event") == "user":
            if seen_latest_user:
                break
            seen_latest_user = True
        elif seen_latest_user:
            between.append(event)
    return between
