"""The attacker's suite: hypothesis profiles and the bots under attack.

Profiles (``BOT_FUZZ_PROFILE``): ``quick`` (default, what ``make test`` runs: few examples,
derandomized so a run is repeatable, no deadline: two shared cores make timings
meaningless) and ``long`` (``make fuzz``: many random examples).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, settings

from bot.testing.fake_slack import FakeSlack
from bot.testing.servers import DEFAULT_MODEL, RunningBot
from bot.testing.slack_bot import running_slack_bot

PROFILE_ENV = "BOT_FUZZ_PROFILE"
QUICK_EXAMPLES = 25
LONG_EXAMPLES = 1000

settings.register_profile(
    "quick",
    max_examples=QUICK_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long",
    max_examples=LONG_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get(PROFILE_ENV, "quick"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def slack_http_bot(fake_slack_server: FakeSlack) -> AsyncIterator[RunningBot]:
    """The trained bot on Slack's Events API (HTTP), talking to the fake Slack."""
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    async with running_slack_bot(fake_slack_server, "http") as bot:
        yield bot
