"""Follow-ups read against earlier answers; next steps in order, never a repeat."""

from __future__ import annotations

from pathlib import Path

from bot.faq.context import follow_up_in_context, next_step, repeats_latest, says_already_tried
from bot.faq.knowledge_base import FaqEntry, KnowledgeBase, Topic

SOURCE = Path("t.yml")


def entry(name: str, **fields: object) -> FaqEntry:
    return FaqEntry(name, "t", f"{name}?", (), f"about {name}", SOURCE, **fields)  # type: ignore[arg-type]


PAY_APP = entry("pay__then1", parent="pay")
CHANGE_APP = entry("change__then1", parent="change")
STEP = entry("net__step1", parent="net")
TO_COVERAGE = entry("net__step2", parent="net", refers_to="coverage")
KB = KnowledgeBase(
    (
        Topic(
            "t",
            "T",
            SOURCE,
            (
                entry("pay", follow_ups=(PAY_APP,)),
                entry("change", follow_ups=(CHANGE_APP,)),
                entry("net", next_steps=(STEP, TO_COVERAGE), covers=("restart",)),
                entry("restart"),
                entry("coverage"),
            ),
        ),
    )
)


def ranked(*candidates: tuple[str, float]) -> dict[str, object]:
    ranking = [{"intent_response_key": f"faq/{k}", "confidence": c} for k, c in candidates]
    return {"response_selector": {"faq": {"ranking": ranking}}}


def test_the_follow_up_of_the_latest_answer_wins() -> None:
    parse = ranked(("change__then1", 0.3), ("pay__then1", 0.25), ("restart", 0.2))
    assert follow_up_in_context(parse, KB, ["pay"]) == PAY_APP
    assert follow_up_in_context(parse, KB, ["pay", "change"]) == CHANGE_APP


def test_an_earlier_topic_can_be_returned_to() -> None:
    parse = ranked(("pay__then1", 0.4), ("restart", 0.3))
    assert follow_up_in_context(parse, KB, ["pay", "net", "restart"]) == PAY_APP


def test_a_message_that_does_not_read_as_a_follow_up_is_left_alone() -> None:
    parse = ranked(("restart", 0.8), ("pay__then1", 0.1))
    assert follow_up_in_context(parse, KB, ["pay"]) is None


def test_next_steps_come_in_order_and_end() -> None:
    assert next_step(["net"], KB) == STEP
    assert next_step(["net", "net__step1"], KB) == TO_COVERAGE
    assert next_step(["net", "net__step1", "net__step2"], KB) is None


def test_a_step_naming_an_entry_already_given_is_skipped() -> None:
    assert next_step(["coverage", "net", "net__step1"], KB) is None


def test_advice_the_answer_already_gave_counts_as_a_repeat() -> None:
    restart = KB.entry("restart")
    assert restart is not None
    assert repeats_latest(restart, ["net"], KB)  # `covers: [restart]`
    assert not repeats_latest(restart, ["pay"], KB)
    net = KB.entry("net")
    assert net is not None and repeats_latest(net, ["net", "net__step1"], KB)


def test_only_words_of_having_tried_make_a_repeat_the_next_step() -> None:
    assert says_already_tried("I already restarted it twice")
    assert says_already_tried("that didn't help, still the same")
    assert not says_already_tried("do I have to pay for the postage?")
