"""Empathy only where it matters and frustration across turns (the follow-up rules:
tests/test_followup.py)."""

import random

from bot.handoff.tickets import EscalationReason
from bot.handoff.triggers import EscalationRules, escalation_reason
from bot.signals.empathy import FRUSTRATED, NEGATIVE, empathy_response, pick_line
from bot.signals.frustration import frustration


def turn(
    text: str,
    score: float = 0.0,
    label: str = "neutral",
    faq: str = "slow_speed",
    irony: bool = False,
) -> dict[str, object]:
    return {
        "text": text,
        "intent": {"name": "faq"},
        "response_selector": {"faq": {"response": {"intent_response_key": f"faq/{faq}"}}},
        "sentiment": {"label": label, "score": score, "irony": irony},
    }


def test_a_neutral_question_gets_no_fake_empathy() -> None:
    assert empathy_response([turn("how do I change my plan", faq="change_plan")]) is None
    # the tweet-trained model reads some plain questions as mildly negative
    assert (
        empathy_response([turn("how do I pay my bill", -0.64, "negative", faq="pay_bill")]) is None
    )


def test_a_negative_or_sarcastic_customer_is_acknowledged_first() -> None:
    assert empathy_response([turn("my internet is awful", -0.7, "negative")]) == NEGATIVE
    sarcastic = turn("Great, my internet died again. Thanks a lot.", -0.6, "negative", irony=True)
    assert empathy_response([sarcastic]) == NEGATIVE


def test_repeated_negative_turns_and_repeated_questions_read_as_frustration() -> None:
    turns = [
        turn("slow again", -0.8, "negative"),
        turn("STILL SLOW, WHY IS THIS HAPPENING", -0.8, "negative"),
    ]
    found = frustration(turns)
    assert found.frustrated
    assert {"repeated_negative", "repeated_question", "shouting"} <= set(found.cues)
    assert empathy_response(turns) == FRUSTRATED


def test_one_calm_message_is_not_frustration() -> None:
    assert not frustration([turn("how fast is fiber 500", faq="available_plans")]).frustrated


def test_the_same_empathy_line_is_never_said_twice_in_a_row() -> None:
    variants = [{"text": "A"}, {"text": "B"}, {"text": "C"}]
    rng = random.Random(1)
    said: list[str] = []
    for _ in range(30):
        line = pick_line(variants, said, rng)
        assert not said or line != said[-1]
        said.append(line)


def test_a_repeatedly_frustrated_customer_is_escalated() -> None:
    turns = [
        turn("this is slow", -0.8, "negative"),
        turn("STILL SLOW, WHY", -0.8, "negative"),
        turn("WHY IS IT STILL SO SLOW", -0.8, "negative"),
    ]
    rules = EscalationRules(negative_turns=5)
    assert escalation_reason(turns[:1], rules) is None
    assert escalation_reason(turns, rules) is EscalationReason.NEGATIVE_SENTIMENT
