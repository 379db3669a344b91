"""Every question of a message is found, in order, through the model's reading of each piece."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.faq.knowledge_base import FaqEntry, KnowledgeBase, Topic
from bot.faq.multi import questions_in

ENTRIES = {
    name: FaqEntry(name, "plans", f"{name}?", (), f"about {name}", source=Path("plans.yml"))
    for name in ("contract_length", "hub_rental_cost", "pay_bill", "cancel_service")
}
KB = KnowledgeBase((Topic("plans", "Plans", Path("plans.yml"), tuple(ENTRIES.values())),))


class Reader:
    """Stands in for the model: a piece mentioning an entry's keyword is that entry."""

    def __init__(self, confidence: float = 0.9) -> None:
        self.read: list[str] = []
        self.confidence = confidence

    async def parse(self, text: str) -> Mapping[str, Any]:
        self.read.append(text)
        keywords = {"term": "contract_length", "hub": "hub_rental_cost", "pay": "pay_bill"}
        keywords["cancel"] = "cancel_service"
        entry = next((e for k, e in keywords.items() if k in text), None)
        if entry is None:
            return {"intent": {"name": "greet", "confidence": 0.9}}
        response = {"intent_response_key": f"faq/{entry}", "confidence": self.confidence}
        return {
            "intent": {"name": "faq", "confidence": self.confidence},
            "response_selector": {"faq": {"response": response}},
        }


async def test_each_question_gets_its_entry_in_order() -> None:
    found = await questions_in(
        "is there a minimum term, and can I keep the hub if I leave?", Reader(), KB
    )
    assert [e.id for e in found] == ["contract_length", "hub_rental_cost"]


async def test_a_single_question_is_not_read_again() -> None:
    reader = Reader()
    assert await questions_in("is there a minimum term", reader, KB) == []
    assert reader.read == []


async def test_pieces_the_model_is_unsure_of_are_left_out() -> None:
    found = await questions_in("how do I pay? and can I keep the hub?", Reader(0.3), KB)
    assert found == []


async def test_human_only_entries_are_never_answered_by_the_bot() -> None:
    found = await questions_in(
        "how do I pay my bill? and how do I cancel my contract?",
        Reader(),
        KB,
        excluded=frozenset({"faq/cancel_service"}),
    )
    assert [e.id for e in found] == ["pay_bill"]


async def test_the_same_entry_asked_twice_is_answered_once() -> None:
    found = await questions_in("how do I pay my bill? and can I pay by card?", Reader(), KB)
    assert [e.id for e in found] == ["pay_bill"]
