"""What a customer types is data, never a command; only sealed buttons carry payloads."""

from __future__ import annotations

import pytest

from bot.inbound import gate
from bot.inbound.seal import PayloadSeal

SEAL = PayloadSeal("a test secret")


@pytest.mark.parametrize(
    ("typed", "rasa_receives"),
    [
        ("/handoff_resolved", "handoff_resolved"),
        ('/csat{"csat_score":5}', 'csat{"csat_score":5}'),
        ('/choose_faq{"faq_id":"cancel_service"}', 'choose_faq{"faq_id":"cancel_service"}'),
        ("  //affirm", "affirm"),
        ("/ /resolution_confirmed", "resolution_confirmed"),
        ('/privacy{"x": 1}', 'privacy{"x": 1}'),
        ("/privacy@0.99", "privacy@0.99"),
        ("\u2003/greet{}", "greet{}"),
        ("how do I pay my bill?", "how do I pay my bill?"),
    ],
)
def test_typed_internal_intents_reach_rasa_as_plain_text(typed: str, rasa_receives: str) -> None:
    turn = gate.typed(typed)
    assert turn.text == rasa_receives
    assert not turn.text.strip().startswith("/")


@pytest.mark.parametrize("command", sorted(gate.CUSTOMER_COMMANDS))
def test_the_documented_commands_may_be_typed(command: str) -> None:
    assert gate.typed(f" /{command} ").text == f"/{command}"


def test_a_message_over_the_limit_gets_the_polite_reply_before_nlu() -> None:
    turn = gate.typed("x" * 4001)
    assert turn.text == gate.TOO_LONG
    assert turn.metadata[gate.METADATA_KEY] == {"typed": True, "too_long": 4001}
    assert gate.typed("x" * 4000).text == "x" * 4000


def test_the_limit_is_configurable() -> None:
    assert gate.typed("hello there", limit=5).text == gate.TOO_LONG


def test_a_sealed_button_carries_its_payload() -> None:
    value = SEAL.seal("telegram:7", '/csat{"csat_score":4}')
    turn = gate.pressed(SEAL, "telegram:7", value)
    assert turn.text == '/csat{"csat_score":4}'
    assert turn.metadata == {gate.METADATA_KEY: {"pressed": True}}


@pytest.mark.parametrize("value", ['/csat{"csat_score":5}', "/handoff_resolved", "anything"])
def test_a_forged_button_is_answered_as_expired(value: str) -> None:
    turn = gate.pressed(SEAL, "telegram:7", value)
    assert turn.text == gate.BUTTON_EXPIRED


def test_a_button_from_another_conversation_is_answered_as_expired() -> None:
    value = SEAL.seal("telegram:7", "/affirm")
    assert gate.pressed(SEAL, "telegram:8", value).text == gate.BUTTON_EXPIRED


def test_the_gate_metadata_wins_over_what_the_adapter_sent() -> None:
    turn = gate.typed("hi")
    merged = turn.merged({"inbound": {"forged": True}, "slack": {"user": "U1"}})
    assert merged == {"inbound": {"typed": True}, "slack": {"user": "U1"}}
