"""Follow-up rules: "Did that solve it?" and the CSAT question (once per conversation,
and only answerable for a while)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: A rating request older than this is no longer accepted.
CSAT_EXPIRY_SECONDS = 24 * 3600


def csat_buttons() -> list[dict[str, str]]:
    """The 1-5 rating buttons (payloads carry the score as an entity)."""
    return [
        {"title": str(score), "payload": "/csat" + json.dumps({"csat_score": score})}
        for score in range(1, 6)
    ]


def may_ask_csat(slots: Mapping[str, Any]) -> bool:
    """At most once per conversation."""
    return slots.get("csat_asked_at") is None and slots.get("csat_score") is None


def csat_answer_state(slots: Mapping[str, Any], now: float) -> str:
    """``ok`` to record, ``already`` rated, ``expired`` request, or ``not_asked``."""
    if slots.get("csat_score") is not None:
        return "already"
    asked_at = slots.get("csat_asked_at")
    if asked_at is None:
        return "not_asked"
    if now - float(asked_at) > CSAT_EXPIRY_SECONDS:
        return "expired"
    return "ok"
