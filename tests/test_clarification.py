"""Clarification: top FAQ candidates as "Did you mean ...?", then a human when that failed."""

from pathlib import Path

from bot.faq.clarify import clarification_already_tried, suggestions
from bot.faq.knowledge_base import load_knowledge_base

KNOWLEDGE_BASE = load_knowledge_base([Path(__file__).resolve().parents[1] / "data"])
ENTRIES = [e.id for e in KNOWLEDGE_BASE.entries]


def parse_data(*ranking: tuple[str, float]) -> dict[str, object]:
    return {
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": f"faq/{entry}", "confidence": confidence}
                    for entry, confidence in ranking
                ]
            }
        }
    }


def test_the_top_three_faq_candidates_are_offered_with_their_questions() -> None:
    found = suggestions(
        parse_data(*((e, 0.3 - i * 0.05) for i, e in enumerate(ENTRIES[:5]))), KNOWLEDGE_BASE
    )
    assert [s.entry_id for s in found] == ENTRIES[:3]
    assert found[0].question == KNOWLEDGE_BASE.entry(ENTRIES[0]).question  # type: ignore[union-attr]
    assert found[0].payload == f'/choose_faq{{"faq_id":"{ENTRIES[0]}"}}'


def test_unknown_or_negligible_candidates_are_not_offered() -> None:
    found = suggestions(parse_data(("no_such_entry", 0.5), (ENTRIES[0], 0.001)), KNOWLEDGE_BASE)
    assert found == []


def test_a_second_unclear_message_right_after_a_clarification_counts_as_failed() -> None:
    events = [
        {"event": "user", "text": "hmm"},
        {"event": "action", "name": "action_clarify"},
        {"event": "bot", "text": "Did you mean ...?"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "still unclear"},
    ]
    assert clarification_already_tried(events)


def test_a_first_unclear_message_is_clarified() -> None:
    events = [
        {"event": "user", "text": "how do I pay"},
        {"event": "action", "name": "utter_faq"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "zzz"},
    ]
    assert not clarification_already_tried(events)
