"""A fast subset of the conversation test set (tests/conversations/), end to end over Rasa's
REST channel: scenarios the bot passes today must keep passing. The whole set, on every
channel, is `make bench-conversations` (docs/conversations.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from bot.bench.conversation_routes import RestChannel
from bot.bench.conversation_set import Scenario
from bot.bench.conversations import load_checked_set, play
from bot.bench.routes import handover_notices
from bot.testing.servers import RunningBot

pytestmark = pytest.mark.e2e

SET = {s.id: s for s in load_checked_set()}
#: Single questions (all from the tuning split).
SINGLE = (
    "single-authorised-user",
    "single-browsing-privacy",
    "single-change-payment-date",
    "single-change-plan",
    "single-check-availability",
    "single-check-outage",
    "single-connect-device",
    "single-data-allowance",
    "single-delete-data",
    "single-faulty-hub",
    "single-hub-lights",
    "single-installation-day",
    "single-marketing",
    "single-missed-payment",
    "single-moving-house",
    "single-new-order",
    "single-own-router",
    "single-port-forwarding",
    "single-refund",
    "single-reset-password",
    "single-slow-speed",
    "single-tv-not-working",
    "single-view-bills",
    "single-wifi-password",
)
#: Multi-turn scenarios the bot passes today (tuning split).
MULTI_TURN = (
    "close-five-no-thanks",
    "close-five-with-comment",
    "close-low-rating-button-complaint",
    "close-thats-all-cheers",
    "emo-frustrated-then-thanks",
    "followup-return-postage",
    "followup-typed-no-then-person",
    "followup-typed-yes-solved",
    "followup-wifi-dropping-didnt-work",
    "safe-insult-after-answer",
)


def test_the_subset_is_single_questions_and_conversations_of_the_tuning_split() -> None:
    assert len(SINGLE) >= 20 and all(SET[i].category == "single" for i in SINGLE)
    assert all(len(SET[i].turns) > 1 for i in MULTI_TURN)
    assert all(SET[i].split == "tune" for i in (*SINGLE, *MULTI_TURN))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.parametrize("scenario_id", [*SINGLE, *MULTI_TURN])
async def test_scenario_passes_over_rest(
    rest_bot: RunningBot, session: aiohttp.ClientSession, scenario_id: str
) -> None:
    scenario: Scenario = SET[scenario_id]
    verdict = await play(
        RestChannel(session, rest_bot),
        scenario,
        session=session,
        bot=rest_bot,
        run="make-test",
        notices=handover_notices(),
    )
    assert verdict.passed, "\n".join(verdict.reasons())
