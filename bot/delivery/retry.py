"""Outbound calls with retries: the platform's retry-after first, exponential backoff otherwise."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A message could not be delivered after every attempt."""


async def send_with_retry(
    call: Callable[[], Awaitable[T]],
    *,
    retry_after: Callable[[BaseException], float | None],
    retryable: Callable[[BaseException], bool],
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    on_give_up: Callable[[BaseException], Awaitable[None]] | None = None,
) -> T:
    """Runs ``call`` until it succeeds.

    ``retry_after(error)`` gives the platform's requested wait (Slack ``Retry-After``,
    Telegram ``retry_after``) or None; ``retryable(error)`` says whether a network-type
    error is worth another try. After the last attempt ``on_give_up`` records the
    failure and :class:`DeliveryFailed` is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as error:
            wait = retry_after(error)
            give_up = attempt >= attempts or (wait is None and not retryable(error))
            if give_up:
                logger.warning(
                    "delivery failed after %d attempt(s): %s", attempt, type(error).__name__
                )
                if on_give_up is not None:
                    await on_give_up(error)
                raise DeliveryFailed(str(error)) from error
            if wait is None:
                wait = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            logger.info(
                "delivery attempt %d failed (%s); retrying in %.2fs",
                attempt,
                type(error).__name__,
                wait,
            )
            await asyncio.sleep(min(wait, max_delay))
    raise AssertionError("unreachable")  # pragma: no cover
