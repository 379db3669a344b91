"""Forget-me as the action server runs it: erase now, purge the running conversation's
transcript as soon as Rasa has saved the turn."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from functools import lru_cache
from typing import Any

from bot.privacy.erasure import Erased, Eraser
from bot.privacy.transcripts import Transcripts, purge_marker

logger = logging.getLogger(__name__)


class PrivacyService:
    """Forgets customers; keeps its background purges alive until they finish."""

    def __init__(self, eraser: Eraser, transcripts: Transcripts, purge_timeout: float = 60.0):
        self.eraser, self._transcripts, self._timeout = eraser, transcripts, purge_timeout
        self._tasks: set[asyncio.Task[None]] = set()

    async def forget(
        self, identity: str, conversation_id: str
    ) -> tuple[Erased, list[dict[str, Any]]]:
        """Erases the person now, and returns the events that end the turn: a session start
        carrying the purge marker. Once Rasa has saved them, the running conversation's
        transcript is deleted too (and any other marked one, e.g. after a crash)."""
        erased = await self.eraser.erase(identity, running=conversation_id)
        token = uuid.uuid4().hex
        self._background(self._purge(conversation_id, token))
        return erased, [purge_marker(token)]

    async def wait(self) -> None:
        """Waits for the background purges (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _purge(self, conversation_id: str, token: str) -> None:
        if not await self._transcripts.purge_when_saved(conversation_id, token, self._timeout):
            logger.warning("the forget-me turn was not saved in time; its purge waits")
        await self._transcripts.purge_marked()

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("purging a forgotten conversation failed", exc_info=task.exception())


@lru_cache(maxsize=1)
def privacy_service() -> PrivacyService:
    """This process's service, built from the environment on first use."""
    from bot.analytics.sql_source import tracker_store_url
    from bot.delivery.store import delivery_store_from_env
    from bot.followup.service import followup_services
    from bot.handoff.forget import AgentPostsOfCustomer
    from bot.handoff.service import handoff_services
    from bot.privacy.erasure import ByConversation, ConversationData
    from bot.profiles.service import profile_service

    transcripts = Transcripts(tracker_store_url())
    handoff = handoff_services()
    stores: dict[str, ConversationData] = {  # in this order: the posts need the tickets
        "agents' posts": AgentPostsOfCustomer(handoff.store, handoff.notifier),
        "handoff tickets": ByConversation(handoff.store),
        "follow-up check-ins": ByConversation(followup_services().store),
        "undelivered messages": delivery_store_from_env(),
    }
    return PrivacyService(Eraser(profile_service().store, transcripts, stores), transcripts)
