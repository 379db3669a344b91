"""Per-conversation ordering without a global cap: each conversation's work runs in the
order it arrived, one piece at a time, and a conversation that is stuck delays only itself.

A channel hands each inbound update to :meth:`PerConversation.submit` with the
conversation's key and returns at once, so the platform library's own worker slots are
never held by messages waiting for their conversation's turn (python-telegram-bot's
``concurrent_updates(16)`` was such a cap: 16 updates of one stuck chat stopped every
other customer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class PerConversation:
    """A chain of tasks per conversation key; keys are forgotten when their chain is done."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._all: set[asyncio.Task[None]] = set()

    def submit(self, key: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Runs ``work`` after the key's earlier work has finished (whatever its outcome)."""
        previous = self._tails.get(key)
        task = asyncio.get_running_loop().create_task(self._after(previous, work, key))
        self._tails[key] = task
        self._all.add(task)
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def pending(self) -> int:
        """Conversations with work queued or running."""
        return len(self._tails)

    async def finish(self, grace: float) -> None:
        """Lets the queued work finish for up to ``grace`` seconds, then cancels the rest."""
        if not self._all:
            return
        _, late = await asyncio.wait(list(self._all), timeout=grace)
        for task in late:
            task.cancel()
        if late:
            logger.warning("%d conversations still busy at shutdown: cancelled", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    @staticmethod
    async def _after(
        previous: asyncio.Task[None] | None, work: Coroutine[Any, Any, None], key: str
    ) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])
            await work
        except asyncio.CancelledError:
            work.close()
            raise
        except Exception:
            logger.exception("handling a message of conversation %s failed", key)

    def _forget(self, key: str, done: asyncio.Task[None]) -> None:
        self._all.discard(done)
        if self._tails.get(key) is done:
            del self._tails[key]
