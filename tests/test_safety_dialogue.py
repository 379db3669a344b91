"""Which answer a message with a masked secret gets: the routing in the pipeline
(SecretNotice) and the warning chosen by kind."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import warn_about_secrets
from bot.safety.component import SHARED_SECRET_INTENT, SecretNotice, secret_alone
from bot.safety.secrets import mask_secrets
from bot.safety.warnings import GENERAL_WARNING, warning_response


def parsed(text: str, intent: str, metadata: dict[str, Any] | None = None) -> Message:
    """A message as the classifiers leave it, the gate's metadata attached."""
    masked = mask_secrets(text)
    data: dict[str, Any] = {"text": masked.text, "intent": {"name": intent, "confidence": 0.9}}
    data["metadata"] = metadata if metadata is not None else {"masked_secrets": list(masked.kinds)}
    return Message(data=data)


def routed(message: Message) -> str:
    notice = SecretNotice(SecretNotice.get_default_config())
    return str(notice.process([message])[0].get("intent")["name"])


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "my card number is 4111 1111 1111 1111 exp 12/27 cvv 123",
        "here's my password: hunter2",
        "hi, pin 1234",
        "here you go: 4242424242424242 cvc 123",
    ],
)
def test_a_secret_alone_becomes_shared_secret_whatever_was_classified(text: str) -> None:
    assert secret_alone(mask_secrets(text).text)
    assert routed(parsed(text, "faq")) == SHARED_SECRET_INTENT


def test_a_problem_described_with_a_secret_is_not_a_secret_alone() -> None:
    assert not secret_alone(mask_secrets("my password is hunter2 and it doesn't work").text)


def test_a_question_with_a_secret_keeps_its_faq_intent() -> None:
    message = parsed("how do I pay my bill with card 4111 1111 1111 1111", "faq")

    assert routed(message) == "faq"
    assert message.get("masked_secrets") == ["card_number"]


def test_a_request_for_a_person_with_a_secret_still_reaches_a_person() -> None:
    message = parsed("my password is hunter2, get me a human to fix my account", "human_handoff")

    assert routed(message) == "human_handoff"


def test_other_intents_with_a_secret_get_the_warning_instead() -> None:
    assert routed(parsed("thanks so much, my pin is 4491 by the way", "thanks")) == (
        SHARED_SECRET_INTENT
    )


def test_a_message_without_secrets_is_left_alone() -> None:
    message = parsed("how do I pay my bill", "faq", metadata={})

    assert routed(message) == "faq"
    assert message.get("masked_secrets") is None


@pytest.mark.parametrize(
    ("kinds", "response"),
    [
        (["card_number", "cvv"], "utter_secret_warning_card"),
        (["password"], "utter_secret_warning_login"),
        (["one_time_code"], "utter_secret_warning_login"),
        (["iban"], "utter_secret_warning_bank"),
        (["api_key"], "utter_secret_warning_key"),
        (["card_number", "password"], GENERAL_WARNING),
        ([], None),
    ],
)
def test_the_warning_fits_what_was_shared(kinds: list[str], response: str | None) -> None:
    assert warning_response(kinds) == response


def test_the_action_warns_only_when_the_gate_masked_something() -> None:
    dispatcher = CollectingDispatcher()

    assert not warn_about_secrets(dispatcher, {"metadata": {}})
    assert warn_about_secrets(dispatcher, {"metadata": {"masked_secrets": ["pin"]}})
    assert [m["response"] for m in dispatcher.messages] == ["utter_secret_warning_login"]
