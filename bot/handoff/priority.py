"""Queue priority from configurable signals: urgency, negative sentiment, tier and waiting time.

``base = urgency_w * urgency + negative_sentiment_w * max(0, -sentiment) + tier_w[tier]`` is
fixed when the ticket is opened (urgency clamped to 0..1, sentiment to -1..1, unknown tiers
weigh 0). At query time each ticket also gains ``waiting_minutes_w`` per minute in the queue:
``effective(now) = base + waiting_minutes_w * minutes_since_opened``. Every ticket ages at the
same rate, so the order never depends on *when* it is computed, only on the weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from bot.handoff.tickets import NewTicket


def _default_tiers() -> Mapping[str, float]:
    return MappingProxyType({"gold": 20.0, "standard": 0.0})


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the priority signals (``priority:`` in data/handoff.yml)."""

    urgency: float = 40.0
    negative_sentiment: float = 30.0
    tier: Mapping[str, float] = field(default_factory=_default_tiers)
    waiting_minutes: float = 1.0

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> PriorityWeights:
        """Weights from the ``priority`` mapping; every key is required and numeric."""
        try:
            tiers = {str(name): float(weight) for name, weight in dict(raw["tier"]).items()}
            return cls(
                urgency=float(raw["urgency"]),
                negative_sentiment=float(raw["negative_sentiment"]),
                tier=MappingProxyType(tiers),
                waiting_minutes=float(raw["waiting_minutes"]),
            )
        except KeyError as missing:
            raise ValueError(f"priority: the weight {missing} is missing") from None
        except (TypeError, ValueError) as error:
            raise ValueError(f"priority: weights must be numbers ({error})") from None

    def base(self, ticket: NewTicket) -> float:
        """The priority a ticket opens with."""
        urgency = min(max(ticket.urgency, 0.0), 1.0)
        negativity = min(max(-ticket.sentiment, 0.0), 1.0)
        return (
            self.urgency * urgency
            + self.negative_sentiment * negativity
            + self.tier.get(ticket.tier, 0.0)
        )

    def effective(self, base: float, waited: timedelta) -> float:
        """The priority after waiting ``waited`` in the queue."""
        return base + self.waiting_minutes * waited.total_seconds() / 60
