"""How one conversation ended, by the definitions of docs/analytics.md."""

from __future__ import annotations

from dataclasses import dataclass

from bot.analytics.conversations import Conversation

HOUR = 3600.0


@dataclass(frozen=True)
class KpiSettings:
    """The windows and dates the KPI definitions depend on."""

    assumed_window: float = 24 * HOUR  # no further customer message for this long
    reopen_window: float = 72 * HOUR  # the same sender writes again within this
    as_of: float | None = None  # "now" for windows still running (default: the clock)
    change_date: float | None = None  # sentiment before/after this instant

    @property
    def horizon(self) -> float:
        """How far past the period the event log must be read."""
        return max(self.assumed_window, self.reopen_window)


@dataclass(frozen=True)
class Outcome:
    """How one conversation ended, by the definitions."""

    confirmed: bool
    assumed: bool
    pending: bool
    resolved_by_agent: bool
    reopened: bool

    @property
    def resolved(self) -> bool:
        return self.confirmed or self.assumed or self.resolved_by_agent


def outcome(c: Conversation, settings: KpiSettings, as_of: float) -> Outcome:
    """Applies the resolution and reopen definitions to one conversation."""
    confirmed = c.resolution == "confirmed" or c.csat is not None
    candidate = not confirmed and not c.escalated and c.resolution != "not_resolved"
    window_end = c.ended + settings.assumed_window
    contacted = c.next_contact_at is not None and c.next_contact_at <= window_end
    assumed = candidate and not contacted and window_end <= as_of
    pending = candidate and not contacted and window_end > as_of
    by_agent = any(t.resolved_at is not None for t in c.tickets)
    resolved = confirmed or assumed or by_agent
    reopened = (
        resolved
        and c.next_contact_at is not None
        and c.next_contact_at - c.ended <= settings.reopen_window
    )
    return Outcome(confirmed, assumed, pending, by_agent, reopened)
