"""Grading a conversation: what the bot did in each turn against what the scenario expects,
and reading what it did from Rasa's tracker events."""

from __future__ import annotations

from typing import Any

from bot.bench.conversation_grading import Observed, ScenarioVerdict, grade
from bot.bench.conversation_routes import button_payload, observe, turn_events
from bot.bench.conversation_set import Expectation, Scenario, Turn
from bot.bench.conversations import (
    REPLY_EXCERPT_CHARS,
    agreement,
    load_checked_set,
    sample,
    summarise,
    verdict_json,
)

ANSWER = (
    "There are a few easy ways to pay your bill:\n\n1. **Direct Debit** (recommended): your"
    " bill is paid automatically each month, so you never miss a payment."
)


def scenario(*expectations: Expectation, never_say: tuple[str, ...] = ()) -> Scenario:
    turns = tuple(Turn(f"message {i}", None, e) for i, e in enumerate(expectations, start=1))
    return Scenario("s", "followup", turns, never_say=never_say)


def reasons(s: Scenario, *observed: Observed | None) -> list[str]:
    return grade(s, list(observed)).reasons()


def test_the_expected_entry_passes_and_another_fails_with_both_named() -> None:
    s = scenario(Expectation(entry=("pay_bill", "view_bills")))
    assert reasons(s, Observed(entries=("view_bills",), texts=("answer",))) == []
    [reason] = reasons(s, Observed(entries=("register_my_lumen",), texts=("answer",)))
    assert "expected entry pay_bill or view_bills, answered register_my_lumen" in reason


def test_several_entries_must_all_be_answered_in_order() -> None:
    s = scenario(Expectation(entries=("pay_bill", "view_bills")))
    assert reasons(s, Observed(entries=("pay_bill", "x", "view_bills"), texts=("a",))) == []
    assert reasons(s, Observed(entries=("view_bills", "pay_bill"), texts=("a",)))
    assert reasons(s, Observed(entries=("pay_bill",), texts=("a",)))


def test_not_entry_star_forbids_any_faq_answer() -> None:
    s = scenario(Expectation(not_entry=("*",)))
    assert reasons(s, Observed(texts=("We don't offer mobile deals.",))) == []
    assert (
        "expected no FAQ answer, answered data_allowance"
        in reasons(s, Observed(entries=("data_allowance",), texts=("a",)))[0]
    )


def test_contains_ignores_case_and_markup_and_every_group_is_required() -> None:
    s = scenario(Expectation(contains=(("pay now", "pay today"), ("direct debit",))))
    slack = "3. *My Lumen app*: tap **Billing**, then **Pay Now**. Or <b>Direct Debit</b>."
    assert reasons(s, Observed(texts=(slack,))) == []
    [reason] = reasons(s, Observed(texts=("Tap Pay now.",)))
    assert reason.endswith("reply lacks 'direct debit'")


def test_button_titles_count_as_part_of_the_reply() -> None:
    s = scenario(Expectation(contains=(("talk to a person",),)))
    assert reasons(s, Observed(texts=("Sorry.",), buttons=("Talk to a person",))) == []


def test_not_contains_names_what_was_said() -> None:
    s = scenario(Expectation(not_contains=("did you mean", "glad")))
    [reason] = reasons(s, Observed(texts=("I want to get this right. Did you mean one of these?",)))
    assert "reply contains 'did you mean'" in reason


def test_a_secret_must_not_be_echoed_in_any_turn_even_without_its_spaces() -> None:
    s = scenario(Expectation(), Expectation(), never_say=("4111 1111 1111 1111",))
    safe = Observed(texts=("Please never share your card number here.",))
    echoed = Observed(texts=("Card 4111-1111-1111-1111 received.",))
    assert reasons(s, safe, safe) == []
    [reason] = reasons(s, safe, echoed)
    assert reason.startswith("turn 2") and "repeats the secret" in reason


def test_an_answer_given_again_is_a_repeat_unless_allowed() -> None:
    again = scenario(Expectation(), Expectation())
    allowed = scenario(Expectation(), Expectation(repeat_ok=True))
    first = Observed(entries=("pay_bill",), texts=(ANSWER,))
    [reason] = reasons(again, first, first)
    assert reason.startswith("turn 2") and "repeats an earlier reply" in reason
    assert reasons(allowed, first, first) == []


def test_short_stock_lines_said_twice_are_not_repeats() -> None:
    s = scenario(Expectation(), Expectation())
    stock = Observed(texts=("Did that solve it?",))
    assert reasons(s, stock, stock) == []


def test_a_handoff_must_be_expected_and_later_turns_are_not_reached() -> None:
    s = scenario(Expectation(), Expectation())
    handed = Observed(texts=("I'm bringing in a person from our support team.",), handoff=True)
    found = reasons(s, handed, None)
    assert "handed to a person unexpectedly" in found[0]
    assert found[1].endswith("not reached: the bot handed the conversation to a person at turn 1")
    expected = scenario(Expectation(handoff=True))
    assert reasons(expected, handed) == []
    assert "expected a handoff to a person" in reasons(expected, Observed(texts=("No.",)))[0]


def test_a_turn_that_could_not_run_or_got_no_reply_fails() -> None:
    s = scenario(Expectation())
    assert reasons(s, Observed(error="no answer within 45s")) == [
        "turn 1 ('message 1'): no answer within 45s"
    ]
    assert reasons(s, Observed()) == ["turn 1 ('message 1'): no reply"]
    assert reasons(s, Observed(texts=("hi",), delivered=False)) == [
        "turn 1 ('message 1'): the reply did not reach the platform"
    ]


def bot(text: str, action: str, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "event": "bot",
        "text": text,
        "data": {"buttons": buttons or []},
        "metadata": {"utter_action": action},
    }


LISTEN = {"event": "action", "name": "action_listen"}
USER = {"event": "user", "text": "how do I pay?", "parse_data": {"intent": {"name": "faq"}}}
HELP = [{"title": "Yes, that solved it", "payload": "/resolution_confirmed"}]


def test_a_turn_is_read_only_once_the_bot_listens_again_or_paused_for_a_person() -> None:
    answering = [LISTEN, USER, {"event": "action", "name": "action_answer"}]
    assert turn_events(answering, 1) is None
    assert turn_events([*answering, LISTEN], 1) == [*answering[1:], LISTEN]
    assert turn_events([*answering, LISTEN], 2) is None
    assert turn_events([LISTEN, USER, {"event": "pause"}], 1) is not None


def test_what_the_bot_did_is_read_from_the_turn_events() -> None:
    window = [
        USER,
        bot("Sorry you're dealing with this.", "utter_empathy_negative"),
        bot(ANSWER, "utter_faq/pay_bill", HELP),
        bot("I'm bringing in a person from our support team.", "utter_handoff_queued"),
        LISTEN,
    ]
    seen = observe(window)
    assert seen.intent == "faq" and seen.entries == ("pay_bill",) and seen.handoff
    assert seen.buttons == ("Yes, that solved it",) and len(seen.texts) == 3
    assert button_payload(window, "Yes, that solved it") == "/resolution_confirmed"
    assert button_payload(window, "No") is None
    assert observe([USER, bot("Oops", "utter_bot_failure"), LISTEN]).error


def test_the_menu_is_recognised_by_its_response_whatever_its_wording() -> None:
    s = scenario(Expectation(menu=False))
    menu = observe([USER, bot("Just to be sure: is it one of these?", "utter_clarify"), LISTEN])
    assert menu.menu and reasons(s, menu) == ["turn 1 ('message 1'): answered with a menu"]
    assert reasons(s, Observed(texts=("An answer.",))) == []


def verdict(scenario_id: str, category: str, split: str, passed: bool) -> ScenarioVerdict:
    s = Scenario(scenario_id, category, (Turn("hi", None, Expectation()),), split)
    return grade(s, [Observed(texts=("hello",) if passed else ())])


def test_pass_rates_are_counted_per_category_and_split() -> None:
    table = summarise(
        [
            verdict("a", "safety", "tune", True),
            verdict("b", "safety", "tune", False),
            verdict("c", "safety", "heldout", True),
            verdict("d", "scope", "heldout", False),
        ]
    )
    assert table["safety"]["tune"] == {"passed": 1, "total": 2, "rate": 0.5}
    assert table["safety"]["heldout"]["rate"] == 1.0 and "tune" not in table["scope"]
    assert table["all"]["all"] == {"passed": 2, "total": 4, "rate": 0.5}


def test_scenarios_judged_differently_by_channel_are_named() -> None:
    same = agreement(
        {
            "rest": [verdict("a", "single", "tune", True), verdict("b", "single", "tune", True)],
            "slack": [verdict("a", "single", "tune", True), verdict("b", "single", "tune", False)],
        }
    )
    assert same == {"compared": 2, "differ": ["b"]}


def test_a_sample_keeps_a_share_of_every_category_and_split() -> None:
    scenarios = load_checked_set()
    chosen = sample(scenarios, 0.34)
    assert len(chosen) < len(scenarios) / 2
    assert {(s.category, s.split) for s in chosen} == {(s.category, s.split) for s in scenarios}
    assert chosen == sample(scenarios, 0.34)


def test_a_failing_scenario_reports_what_the_bot_said_in_each_turn() -> None:
    s = scenario(Expectation(entry=("pay_bill",)))
    failed = grade(s, [Observed(intent="faq", entries=("view_bills",), texts=("x" * 500,))])
    [turn] = verdict_json(failed)["turns"]
    assert turn["entries"] == ["view_bills"] and len(turn["reply"][0]) == REPLY_EXCERPT_CHARS
    assert "turns" not in verdict_json(grade(s, [Observed(entries=("pay_bill",), texts=("a",))]))


def test_a_secret_stored_with_the_customers_message_fails_the_turn() -> None:
    s = Scenario("s", "safety", (Turn("my card", None, Expectation()),), never_store=("4111 1111",))
    masked = Observed(texts=("Please don't share it.",), stored=("my card is [card number]",))
    kept = Observed(texts=("Please don't share it.",), stored=("my card is 41111111",))
    assert reasons(s, masked) == []
    assert reasons(s, kept) == [
        "turn 1 ('my card'): the customer's message is stored with '4111 1111'"
    ]
    window = [{**USER, "text": "card 4111", "parse_data": {"text": "card 4111"}}, LISTEN]
    assert observe(window).stored == ("card 4111", "card 4111")
