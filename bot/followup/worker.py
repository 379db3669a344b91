"""Keeps check-ins alive across restarts (run by ``bot worker``).

Rasa's reminder scheduler is in memory, and Rasa drops a reminder whose conversation
session expired before it fired. The store knows every pending check-in, so the worker:

1. on its first pass, and whenever Rasa answers again after it was seen down (it is looked
   at every few seconds), re-posts each future check-in's ``ReminderScheduled`` to Rasa
   (``POST /conversations/{id}/tracker/events?execute_side_effects=true``): Rasa schedules
   it again and delivers it on time, on the customer's latest channel; check-ins that fell
   due while Rasa was down are triggered at once;
2. on every pass, triggers the check-in intent (``POST /conversations/{id}/trigger_intent``)
   for pending check-ins overdue by more than ``grace`` seconds, retrying with growing
   pauses and giving up after ``max_attempts``.

``action_checkin`` marks a check-in delivered atomically, so a reminder and a trigger
racing each other still say it once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.followup.reminders import TRIGGER_INTENT, reminder_event, trigger_entities
from bot.followup.store import Checkin, CheckinStore

logger = logging.getLogger(__name__)
GRACE_ENV = "BOT_CHECKIN_GRACE_SECONDS"


class Conversations(Protocol):
    """The part of Rasa's conversation API the worker uses (``RasaConversations``)."""

    async def append_events(self, conversation_id: str, events: Sequence[dict[str, Any]]) -> None:
        """Appends events, running their side effects (reminders are scheduled)."""
        ...

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Runs the bot as if the customer expressed ``intent``."""
        ...

    async def is_up(self) -> bool:
        """Whether the Rasa server answers."""
        ...


def grace_from_env(env: Mapping[str, str] = os.environ) -> float:
    """``BOT_CHECKIN_GRACE_SECONDS`` (default 60): how long Rasa's own reminder may be late."""
    return float(env.get(GRACE_ENV) or 60.0)


@dataclass
class CheckinWorker:
    """One pass per :meth:`tick`; between passes, :meth:`watch` notices a Rasa restart."""

    store: CheckinStore
    rasa: Conversations
    grace: float = 60.0
    max_attempts: int = 5
    armed: bool = False
    #: whether Rasa answered at the last look (None: not looked yet)
    rasa_up: bool | None = None

    async def tick(self, now: float | None = None) -> None:
        """Re-arms when needed, then triggers overdue check-ins (nothing while Rasa is down:
        a failed call would count as an attempt)."""
        now = time.time() if now is None else now
        await self.watch(now)
        if not self.rasa_up:
            return
        try:
            await self.deliver_overdue(now)
        except Exception:  # the store is unreachable: try again on the next pass
            logger.exception("check-in pass failed")

    async def watch(self, now: float | None = None) -> None:
        """Looks whether Rasa is up (every few seconds, between passes). Rasa keeps scheduled
        reminders in memory and loses them when it restarts: when it answers again after it
        was seen down, future check-ins are re-armed at once and those that fell due while
        it was down are triggered without waiting for the grace period."""
        now = time.time() if now is None else now
        if not await self.rasa.is_up():
            self.armed, self.rasa_up = False, False
            return
        came_back, self.rasa_up = self.rasa_up is False, True
        if self.armed:
            return
        try:
            self.armed = await self.rearm(now)
            if came_back:
                await self.deliver_overdue(now, grace=0.0)
        except Exception:
            logger.exception("could not re-arm check-ins")

    async def rearm(self, now: float) -> bool:
        """Schedules every future pending check-in in Rasa again; True when all went."""
        done = True
        for checkin in await self.store.pending():
            if checkin.due_at <= now:
                continue
            try:
                await self.rasa.append_events(checkin.conversation_id, [reminder_event(checkin)])
            except Exception:
                logger.exception("could not re-arm check-in %s", checkin.id)
                done = False
        return done

    async def deliver_overdue(self, now: float, grace: float | None = None) -> list[Checkin]:
        """Triggers check-ins Rasa did not deliver in time (overdue by more than ``grace``,
        default the worker's); returns those attempted."""
        grace = self.grace if grace is None else grace
        attempted = list(await self.store.due(now - grace))
        for checkin in attempted:
            try:
                await self.rasa.trigger_intent(
                    checkin.conversation_id, TRIGGER_INTENT, trigger_entities(checkin)
                )
            except Exception:
                logger.exception("could not trigger check-in %s", checkin.id)
            attempts = checkin.attempts + 1
            pause = self.grace * 2**attempts + 30.0
            await self.store.record_attempt(
                checkin.id, now + pause, give_up=attempts >= self.max_attempts
            )
        return attempted
