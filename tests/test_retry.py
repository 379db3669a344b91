"""Outbound retries: the platform's retry-after wins, network errors back off, failures are kept."""

from unittest.mock import AsyncMock, patch

import pytest

from bot.delivery.retry import DeliveryFailed, send_with_retry


class RateLimited(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


def retry_after(error: BaseException) -> float | None:
    return error.seconds if isinstance(error, RateLimited) else None


def retryable(error: BaseException) -> bool:
    return isinstance(error, ConnectionError)


async def test_the_platforms_retry_after_is_honoured() -> None:
    calls = AsyncMock(side_effect=[RateLimited(2.5), "sent"])
    with patch("bot.delivery.retry.asyncio.sleep", new=AsyncMock()) as sleep:
        assert await send_with_retry(calls, retry_after=retry_after, retryable=retryable) == "sent"
    sleep.assert_awaited_once_with(2.5)


async def test_network_errors_back_off_then_succeed() -> None:
    calls = AsyncMock(side_effect=[ConnectionError(), ConnectionError(), "sent"])
    with patch("bot.delivery.retry.asyncio.sleep", new=AsyncMock()) as sleep:
        assert await send_with_retry(calls, retry_after=retry_after, retryable=retryable) == "sent"
    first, second = (c.args[0] for c in sleep.await_args_list)
    assert 0 < first < second


async def test_a_message_that_never_goes_through_is_recorded() -> None:
    recorded = AsyncMock()
    calls = AsyncMock(side_effect=ConnectionError("down"))
    with patch("bot.delivery.retry.asyncio.sleep", new=AsyncMock()), pytest.raises(DeliveryFailed):
        await send_with_retry(
            calls, retry_after=retry_after, retryable=retryable, attempts=3, on_give_up=recorded
        )
    assert calls.await_count == 3
    recorded.assert_awaited_once()


async def test_a_permanent_error_is_not_retried() -> None:
    recorded = AsyncMock()
    calls = AsyncMock(side_effect=ValueError("invalid_blocks"))
    with pytest.raises(DeliveryFailed):
        await send_with_retry(
            calls, retry_after=retry_after, retryable=retryable, on_give_up=recorded
        )
    assert calls.await_count == 1
    recorded.assert_awaited_once()
