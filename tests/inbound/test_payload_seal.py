"""Button payloads are bound to the conversation the bot sent them to."""

from __future__ import annotations

import pytest

from bot.inbound.seal import SEAL_CHARS, SECRET_SETTING, PayloadSeal

SEAL = PayloadSeal("a test secret")


def test_a_sealed_payload_opens_in_its_own_conversation() -> None:
    value = SEAL.seal("telegram:42", '/choose_faq{"faq_id":"pay_bill"}')
    assert SEAL.open("telegram:42", value) == '/choose_faq{"faq_id":"pay_bill"}'
    assert len(value) == len('/choose_faq{"faq_id":"pay_bill"}') + SEAL_CHARS


def test_a_sealed_payload_does_not_open_in_another_conversation() -> None:
    value = SEAL.seal("telegram:42", "/affirm")
    assert SEAL.open("telegram:43", value) is None
    assert SEAL.open("rest:telegram:42", value) is None


@pytest.mark.parametrize(
    "forged",
    [
        "/handoff_resolved",
        '/csat{"csat_score":5}',
        "/affirm~",
        "/affirm~AAAAAAAAAAA",
        "~",
        "",
    ],
)
def test_an_unsealed_or_forged_value_is_refused(forged: str) -> None:
    assert SEAL.open("telegram:42", forged) is None


def test_a_payload_changed_after_sealing_is_refused() -> None:
    value = SEAL.seal("slack:D1", '/csat{"csat_score":1}')
    tampered = value.replace('"csat_score":1', '"csat_score":5')
    assert SEAL.open("slack:D1", tampered) is None


def test_another_key_does_not_open_the_seal() -> None:
    value = SEAL.seal("slack:D1", "/affirm")
    assert PayloadSeal("another secret").open("slack:D1", value) is None


def test_a_payload_containing_the_separator_still_round_trips() -> None:
    value = SEAL.seal("rest:a", '/choose_faq{"faq_id":"a~b"}')
    assert SEAL.open("rest:a", value) == '/choose_faq{"faq_id":"a~b"}'


def test_without_a_configured_secret_one_is_chosen_once_per_process() -> None:
    env: dict[str, str] = {}
    first = PayloadSeal.from_env(env)
    assert env[SECRET_SETTING]
    second = PayloadSeal.from_env(env)
    assert second.open("rest:a", first.seal("rest:a", "/affirm")) == "/affirm"


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        PayloadSeal("")


def test_a_sealed_value_is_recognised_by_its_form() -> None:
    assert PayloadSeal.looks_sealed(SEAL.seal("rest:a", "/affirm"))
    assert not PayloadSeal.looks_sealed("how do I pay~ my bill")
    assert not PayloadSeal.looks_sealed("/affirm")
