"""End to end over REST: follow-ups are understood against the answer before them, and an
answer that did not help is followed by the next step, never by itself again."""

from __future__ import annotations

import uuid

import pytest
from test_e2e_faq import HANDOFF, KNOWLEDGE_BASE, joined, said, say

from bot.testing.servers import RunningBot

pytestmark = pytest.mark.e2e


def opening(entry_id: str) -> str:
    entry = KNOWLEDGE_BASE.entry(entry_id)
    assert entry is not None, entry_id
    return entry.answer.strip()[:50]


async def conversation(bot: RunningBot, *texts: str) -> list[str]:
    sender = f"context-{uuid.uuid4()}"
    return [joined(await say(bot, text, sender)) for text in texts]


@pytest.mark.parametrize(
    ("question", "follow_up", "expected"),
    [
        ("how do I pay my bill?", "and from the app?", "pay_bill__then1"),
        ("I want to upgrade my plan", "is it free?", "change_plan__then2"),
        ("I want to upgrade my plan", "how long does that take?", "change_plan__then1"),
    ],
)
async def test_a_follow_up_is_answered_against_the_previous_answer(
    rest_bot: RunningBot, question: str, follow_up: str, expected: str
) -> None:
    _, answer = await conversation(rest_bot, question, follow_up)
    assert opening(expected) in answer, answer


async def test_what_was_already_tried_is_never_suggested_again(rest_bot: RunningBot) -> None:
    first, second = await conversation(
        rest_bot, "my internet is not working", "I already restarted it twice"
    )
    assert opening("no_internet") in first
    assert opening("no_internet__step1") in second
    assert opening("restart_hub") not in second and opening("no_internet") not in second


async def test_still_not_solved_brings_the_next_step_then_a_person(rest_bot: RunningBot) -> None:
    sender = f"context-{uuid.uuid4()}"
    replies = [
        await say(rest_bot, text, sender)
        for text in ("my wifi keeps dropping", "no", "that didn't help", "still the same")
    ]
    answers = [joined(r) for r in replies]
    assert opening("wifi_dropping__step1") in answers[1]
    assert opening("wifi_coverage") in answers[2]
    # the steps have run out: a person (offered, or brought in for a frustrated customer)
    assert said({m.get("text") for m in replies[3]}, "utter_sorry_not_solved", *HANDOFF)
    assert len(set(answers)) == len(answers)  # never the same reply twice
