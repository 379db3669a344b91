"""Where a customer's message splits into several questions."""

from __future__ import annotations

import pytest

from bot.faq.segments import clauses, question_segments


@pytest.mark.parametrize(
    ("message", "questions"),
    [
        (
            "is there a minimum term, and can I keep the hub if I leave?",
            ["is there a minimum term", "can I keep the hub if I leave?"],
        ),
        (
            "How do I pay my bill? Also how do I change my password?",
            ["How do I pay my bill?", "Also how do I change my password?"],
        ),
        (
            "What speeds do you offer and how much do they cost?",
            ["What speeds do you offer", "how much do they cost?"],
        ),
        (
            "can I pay by card and what is the due date",
            ["can I pay by card", "what is the due date"],
        ),
    ],
)
def test_joined_questions_are_split(message: str, questions: list[str]) -> None:
    assert question_segments(message) == questions


def test_a_long_story_keeps_its_question_at_the_end_apart() -> None:
    message = (
        "I moved house last month and since then everything has been a nightmare, the "
        "engineer never came and I waited in all day. So how do I get a refund?"
    )
    assert question_segments(message)[-1] == "So how do I get a refund?"


@pytest.mark.parametrize(
    "message",
    [
        "how do i pay my bill",
        "hi. how do I reset my router?",  # a greeting is too short to be a question alone
        "my bill and my statement do not match",
        "not my Wi-Fi password, the one for My Lumen",
    ],
)
def test_a_single_question_stays_whole(message: str) -> None:
    assert len(question_segments(message)) == 1


def test_an_emotional_message_splits_into_its_clauses() -> None:
    message = "I'm at my wits' end, I work from home and the wifi keeps dropping"
    assert "the wifi keeps dropping" in clauses(message)
    assert clauses("oh brilliant, the internet is down AGAIN, thanks so much") == [
        "the internet is down AGAIN"
    ]


def test_a_one_clause_message_has_no_clauses_to_search() -> None:
    assert clauses("how do I pay my bill") == []
