"""While customers wait: honest updates when the queue moves, a nudge when nobody claims,
and expiry (with an honest message) when nobody claims for much longer.

Tickets whose customer left a message (callback requests) get neither nudges nor expiry:
they wait for an agent. Outside business hours nothing is nudged or expired.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from bot.handoff.escalation import format_wait
from bot.handoff.exits import is_callback
from bot.handoff.ping_words import duration_words
from bot.handoff.service import HandoffServices
from bot.handoff.tickets import InvalidTransition, Ticket, TicketState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Estimate:
    position: int
    wait: timedelta | None


def changed_materially(before: Estimate, now: Estimate) -> bool:
    """Worth telling: moved up two places or to the front, or the wait changed a lot."""
    if now.position < before.position and (
        before.position - now.position >= 2 or now.position == 1
    ):
        return True
    if before.wait is None or now.wait is None:
        return False
    delta = abs((now.wait - before.wait).total_seconds())
    return delta >= 300 and delta >= 0.5 * max(before.wait.total_seconds(), 1.0)


@dataclass
class WaitWatcher:
    """One pass per ``tick``; remembers what each customer was last told."""

    services: HandoffServices
    told: dict[int, Estimate] = field(default_factory=dict)
    nudged: dict[int, datetime] = field(default_factory=dict)

    async def tick(self, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        for ticket in await self.services.store.list(states=[TicketState.QUEUED], limit=500):
            try:
                await self._update(ticket, now)
            except Exception:
                logger.exception("could not update the customer of ticket %s", ticket.id)

    async def _update(self, ticket: Ticket, now: datetime) -> None:
        store, desk, hours = self.services.store, self.services.desk, self.services.config.hours
        if is_callback(tuple(await store.history(ticket.id))):
            return  # the customer left a message: no nudges, no expiry
        if hours.is_open(now) and now - self.visible_since(ticket) >= (
            expire_after := self.services.config.expire_after
        ):
            await self._expire(ticket, expire_after)
            return
        position = await store.position(ticket.id)
        if position is None:
            return
        estimate = Estimate(position, await store.estimated_wait(ticket.id))
        before = self.told.setdefault(ticket.id, estimate)
        if changed_materially(before, estimate):
            if estimate.wait is None:
                await desk.tell_customer(
                    ticket, "utter_handoff_position_update_no_estimate", position=position
                )
            else:
                await desk.tell_customer(
                    ticket,
                    "utter_handoff_position_update",
                    position=position,
                    wait=format_wait(estimate.wait),
                )
            self.told[ticket.id] = estimate
        last = self.nudged.get(ticket.id, self.visible_since(ticket))
        if hours.is_open(now) and now - last >= self.services.config.claim_timeout:
            await desk.tell_customer(ticket, "utter_handoff_no_agent_yet")
            await self.services.notifier.remind(ticket)
            self.nudged[ticket.id] = now

    def visible_since(self, ticket: Ticket) -> datetime:
        """When agents could first have claimed the ticket: its opening, or the next opening
        time of the team when it was opened while they were away."""
        return self.services.config.hours.next_opening(ticket.created_at)

    async def _expire(self, ticket: Ticket, expire_after: timedelta) -> None:
        try:
            await self.services.exits.expire(ticket, duration_words(expire_after))
        except InvalidTransition:
            return  # claimed or cancelled meanwhile
        self.told.pop(ticket.id, None)
        self.nudged.pop(ticket.id, None)
