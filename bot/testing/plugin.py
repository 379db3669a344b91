"""The project's pytest plugin: ``pytest_plugins = ["bot.testing.plugin"]``.

Fixtures:
- ``rest_bot``: one real Rasa + action server pair for the session (REST channel).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.testing.servers import DEFAULT_MODEL, RunningBot, running_bot


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def rest_bot() -> AsyncIterator[RunningBot]:
    """The trained bot behind Rasa's REST channel (skips nothing: the model must exist)."""
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make test`, it trains first")
    async with running_bot() as bot:
        yield bot
