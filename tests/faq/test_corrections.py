"""Negations and corrections: what the customer does not mean is never the answer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.faq.corrections import correction
from bot.faq.knowledge_base import FaqEntry, KnowledgeBase, Topic
from bot.faq.multi import corrected


@pytest.mark.parametrize(
    ("message", "negated", "wanted"),
    [
        (
            "not my Wi-Fi password, the one for My Lumen",
            "my Wi-Fi password",
            "the password for My Lumen",
        ),
        ("it isn't slow, it's completely dead", "slow", "completely dead"),
        (
            "I don't want to cancel, I want to change my plan",
            "cancel",
            "I want to change my plan",
        ),
        ("no, not the bill, my payment method", "the bill", "my payment method"),
        (
            "I need the password for My Lumen, not the Wi-Fi one",
            "the Wi-Fi one",
            "I need the password for My Lumen",
        ),
    ],
)
def test_a_correction_is_split_into_what_is_not_meant_and_what_is(
    message: str, negated: str, wanted: str
) -> None:
    found = correction(message)
    assert found is not None
    assert (found.negated, found.wanted_text()) == (negated, wanted)


@pytest.mark.parametrize(
    "message",
    [
        "how do I pay my bill",
        "my internet is not working",
        "why is my bill not correct, it is too high",
        "I cannot log in, not sure why",
        "the hub is not on, the lights are off",
    ],
)
def test_ordinary_negative_sentences_are_no_correction(message: str) -> None:
    assert correction(message) is None


def entry(name: str) -> FaqEntry:
    return FaqEntry(name, "t", f"{name}?", (), name, Path("t.yml"))


ENTRIES = [entry(n) for n in ("wifi_password", "reset_password", "cancel_service", "change_plan")]
KB = KnowledgeBase((Topic("t", "T", Path("t.yml"), tuple(ENTRIES)),))


class Reader:
    """Stands in for the model: fixed readings of the pieces."""

    def __init__(self, readings: dict[str, list[tuple[str, float]]]) -> None:
        self.readings = readings

    async def parse(self, text: str) -> Mapping[str, Any]:
        ranking = [
            {"intent_response_key": f"faq/{key}", "confidence": confidence}
            for key, confidence in self.readings.get(text, [])
        ]
        if not ranking:
            return {"intent": {"name": "nlu_fallback", "confidence": 0.5}}
        top = ranking[0]
        return {
            "intent": {"name": "faq", "confidence": top["confidence"]},
            "response_selector": {"faq": {"response": top, "ranking": ranking}},
        }


async def test_the_wanted_entry_is_the_best_reading_that_is_not_the_negated_one() -> None:
    reader = Reader(
        {
            "my Wi-Fi password": [("wifi_password", 0.99)],
            "the password for My Lumen": [("wifi_password", 0.5), ("reset_password", 0.45)],
        }
    )
    fix = await corrected("not my Wi-Fi password, the one for My Lumen", reader, KB)
    assert fix is not None
    assert (fix.negated, fix.wanted) == (ENTRIES[0], ENTRIES[1])


async def test_an_unsure_wanted_reading_gives_no_answer_but_keeps_the_negated_entry() -> None:
    reader = Reader({"slow": [("wifi_password", 0.9)], "completely dead": [("change_plan", 0.1)]})
    fix = await corrected("it isn't slow, it's completely dead", reader, KB)
    assert fix is not None and fix.wanted is None and fix.negated == ENTRIES[0]


async def test_a_human_only_entry_is_never_the_corrected_answer() -> None:
    reader = Reader({"the bill": [], "I want to cancel": [("cancel_service", 0.9)]})
    fix = await corrected(
        "not the bill, I want to cancel", reader, KB, excluded=frozenset({"faq/cancel_service"})
    )
    assert fix is not None and fix.wanted is None


async def test_a_message_without_a_correction_is_not_read_again() -> None:
    assert await corrected("how do I pay my bill", Reader({}), KB) is None
