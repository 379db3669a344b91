"""The follow-up services of one process (built on first use) and what the actions ask of
them: schedule a check-in after an answer, cancel it on a confirmed resolution, claim it
when it is due."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.followup.checkins import CheckinRule, delay_of, load_checkin_rules
from bot.followup.reminders import cancel_event, reminder_event
from bot.followup.store import Checkin, CheckinState, CheckinStore, checkin_store_from_env

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowupServices:
    store: CheckinStore
    rules: Sequence[CheckinRule]

    def rule_for(self, topic: str, entry_id: str) -> CheckinRule | None:
        """The check-in an answer from this FAQ entry calls for, if any."""
        return next((r for r in self.rules if r.applies_to(topic, entry_id)), None)

    async def schedule(
        self, conversation_id: str, topic: str, entry_id: str, now: float
    ) -> list[dict[str, Any]]:
        """The reminder event for a new check-in; nothing when none is declared for the topic
        or one is already pending for it in this conversation."""
        rule = self.rule_for(topic, entry_id)
        if rule is None:
            return []
        checkin, created = await self.store.schedule(
            conversation_id, rule.topic, rule.response, now + delay_of(rule), now
        )
        return [reminder_event(checkin)] if created else []

    async def cancel(self, conversation_id: str, topic: str) -> list[dict[str, Any]]:
        """Cancels the pending check-in on ``topic``: the customer confirmed it is solved."""
        return [cancel_event(c) for c in await self.store.cancel(conversation_id, topic)]

    async def claim(self, conversation_id: str, checkin_id: int, now: float) -> Checkin | None:
        """The check-in to say now, or None (unknown, someone else's, cancelled, or already
        said: a reminder and the worker's trigger may both arrive)."""
        checkin = await self.store.get(checkin_id)
        if checkin is None or checkin.conversation_id != conversation_id:
            return None
        if checkin.state is not CheckinState.PENDING:
            return None
        return checkin if await self.store.mark_delivered(checkin_id, now) else None


@lru_cache(maxsize=1)
def followup_services() -> FollowupServices:
    """This process's services (created once, on first use)."""
    return FollowupServices(checkin_store_from_env(), tuple(load_checkin_rules()))
