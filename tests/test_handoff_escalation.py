"""When and how the bot hands over: triggers, the ticket it opens, what the customer is told."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.faq.knowledge_base import load_knowledge_base
from bot.handoff.escalation import (
    Conversation,
    Escalated,
    customer_message,
    format_wait,
    new_ticket,
    tracker_events,
)
from bot.handoff.texts import Texts
from bot.handoff.tickets import EscalationReason, Ticket, TicketState
from bot.handoff.triggers import EscalationRules, escalation_reason
from bot.handoff.watcher import Estimate, changed_materially

PROJECT = Path(__file__).resolve().parents[1]
KNOWLEDGE_BASE = load_knowledge_base([PROJECT / "data"])
RULES = EscalationRules(
    low_confidence_turns=3,
    keywords=("lawyer", "ombudsman"),
    human_only=frozenset({"faq/cancel_service"}),
)


def turn(
    intent: str, text: str = "text", score: float | None = None, faq: str | None = None
) -> dict[str, object]:
    data: dict[str, object] = {"intent": {"name": intent}, "text": text}
    if score is not None:
        data["sentiment"] = {"label": "negative" if score < 0 else "neutral", "score": score}
    if faq:
        data["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{faq}"}}}
    return data


def test_asking_for_a_person_escalates() -> None:
    assert (
        escalation_reason([turn("greet"), turn("human_handoff")], RULES)
        is EscalationReason.REQUESTED
    )


def test_a_human_only_topic_escalates() -> None:
    assert (
        escalation_reason([turn("faq", faq="cancel_service")], RULES)
        is EscalationReason.HUMAN_ONLY_TOPIC
    )


def test_persisting_low_confidence_escalates_but_one_unclear_turn_does_not() -> None:
    assert escalation_reason([turn("nlu_fallback")], RULES) is None
    assert (
        escalation_reason([turn("greet"), turn("nlu_fallback"), turn("nlu_fallback")], RULES)
        is None
    )
    three = [turn("nlu_fallback")] * 3
    assert escalation_reason(three, RULES) is EscalationReason.LOW_CONFIDENCE


def test_one_negative_problem_report_is_answered_but_repeated_negativity_escalates() -> None:
    assert escalation_reason([turn("faq", score=-1.0, faq="slow_speed")], RULES) is None
    mildly = [turn("faq", score=-0.8, faq="slow_speed")] * 3
    assert escalation_reason(mildly, RULES) is EscalationReason.NEGATIVE_SENTIMENT
    assert escalation_reason(mildly[:2], RULES) is None


def test_frustration_keywords_escalate_until_sentiment_says_otherwise() -> None:
    assert (
        escalation_reason([turn("faq", "I will call the ombudsman", faq="slow_speed")], RULES)
        is EscalationReason.NEGATIVE_SENTIMENT
    )
    assert (
        escalation_reason([turn("faq", "my ombudsmanlike friend", faq="slow_speed")], RULES) is None
    )


def test_the_shipped_rules_load_and_mark_human_only_topics() -> None:
    rules = EscalationRules.load(PROJECT / "data")
    assert rules.low_confidence_turns >= 2
    assert EscalationRules.from_config(rules.as_config()) == rules


def events() -> list[dict[str, object]]:
    at = 1_700_000_000.0
    return [
        {"event": "session_started", "timestamp": at},
        {
            "event": "user",
            "text": "my internet keeps dropping",
            "timestamp": at + 1,
            "parse_data": turn("faq", faq="wifi_dropping", score=-0.5),
        },
        {"event": "bot", "text": "Let's fix it together...", "timestamp": at + 2},
        {
            "event": "user",
            "text": "I want a person",
            "timestamp": at + 3,
            "parse_data": {**turn("human_handoff", score=-0.7), "urgency": 0.8, "topic": "handoff"},
        },
    ]


def test_the_ticket_carries_topic_summary_last_turns_and_signals() -> None:
    conversation = Conversation("telegram:42", "telegram", events(), customer_name="Ana")
    ticket = new_ticket(conversation, EscalationReason.REQUESTED, KNOWLEDGE_BASE)
    assert ticket.topic == KNOWLEDGE_BASE.topic_of("wifi_dropping")
    assert "my internet keeps dropping" in ticket.summary and "I want a person" in ticket.summary
    assert [t.who for t in ticket.last_turns] == ["customer", "bot", "customer"]
    assert ticket.sentiment == -0.7 and ticket.urgency == 0.8
    assert ticket.customer_name == "Ana" and ticket.channel == "telegram"


def escalated(open_now: bool = True, wait: timedelta | None = timedelta(minutes=6)) -> Escalated:
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    ticket = Ticket(
        7,
        "rest:1",
        "rest",
        EscalationReason.REQUESTED,
        "",
        "other",
        "",
        (),
        0.0,
        0.0,
        "standard",
        TicketState.QUEUED,
        1.0,
        now,
    )
    return Escalated(
        ticket, True, 3, wait, open_now, None if open_now else now + timedelta(hours=10)
    )


def test_the_customer_hears_position_and_real_wait_or_honest_hours() -> None:
    assert customer_message(escalated()) == (
        "utter_handoff_queued",
        {"position": 3, "wait": "about 6 minutes"},
    )
    assert customer_message(escalated(wait=None)) == (
        "utter_handoff_queued_no_estimate",
        {"position": 3},
    )
    name, values = customer_message(escalated(open_now=False))
    assert name == "utter_handoff_closed" and "22:00" in values["next_opening"]


def test_escalation_pauses_the_conversation_and_logs_the_state() -> None:
    _, state, listen, pause = tracker_events(escalated(), EscalationReason.REQUESTED)
    assert listen == {"event": "action", "name": "action_listen"}  # /restart still works
    assert state["name"] == "handoff_state" and state["value"] == "queued"
    assert state["metadata"]["reason"] == "requested" and state["metadata"]["ticket_id"] == 7
    assert pause == {"event": "pause"}


def test_outside_business_hours_the_bot_keeps_answering_while_the_ticket_waits() -> None:
    events = tracker_events(escalated(open_now=False), EscalationReason.REQUESTED)
    assert [e["event"] for e in events] == ["slot", "slot"]  # no pause until an agent claims
    assert events[1]["value"] == "queued"


def test_waits_are_said_the_way_people_say_them() -> None:
    assert format_wait(timedelta(seconds=20)) == "less than a minute"
    assert format_wait(timedelta(minutes=1)) == "about 1 minute"
    assert format_wait(timedelta(hours=3)) == "about 3 hours"


def test_only_material_queue_changes_are_announced() -> None:
    minutes = lambda m: timedelta(minutes=m)  # noqa: E731
    assert changed_materially(Estimate(5, minutes(20)), Estimate(3, minutes(12)))
    assert changed_materially(Estimate(2, minutes(4)), Estimate(1, minutes(2)))
    assert not changed_materially(Estimate(5, minutes(20)), Estimate(4, minutes(17)))
    assert changed_materially(Estimate(4, minutes(10)), Estimate(4, minutes(25)))


def test_texts_come_from_the_domain_and_vary() -> None:
    texts = Texts({"utter_x": [{"text": "Hi {name}!"}, {"text": "Hello {name}."}]})
    first, second = texts.render("utter_x", name="Ana"), texts.render("utter_x", name="Ana")
    assert {first["text"], second["text"]} == {"Hi Ana!", "Hello Ana."}
    assert (
        Texts({"utter_y": [{"text": "{agent_name}: {text}"}]}).render(
            "utter_y", agent_name="Sam", text="use {x}"
        )["text"]
        == "Sam: use {x}"
    )
