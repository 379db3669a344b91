"""Per-message signals: every message gets a topic and an urgency the queue can use."""

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.signals.component import MessageSignals
from bot.signals.urgency import UrgencyRules, shouting, urgency

PROJECT = Path(__file__).resolve().parents[1]
RULES = UrgencyRules(
    urgent_topics={"outages": 0.6}, urgent_phrases={"fraud": 0.9, "no internet": 0.6}
)


def test_urgent_topics_and_phrases_set_the_urgency() -> None:
    assert urgency("is there an outage near me", "outages", None, RULES) == 0.6
    assert urgency("I think this is fraud", "billing", None, RULES) == 0.9
    assert urgency("how do I change my plan", "plans", 0.0, RULES) == 0.0


def test_negative_sentiment_and_shouting_raise_urgency() -> None:
    calm = urgency("no internet since this morning", "technical", -0.2, RULES)
    angry = urgency("NO INTERNET SINCE THIS MORNING!!!", "technical", -0.9, RULES)
    assert 0.6 < calm < angry <= 1.0


def test_shouting_needs_mostly_capitals() -> None:
    assert shouting("WHY IS THIS STILL BROKEN")
    assert not shouting("My BT Hub is OK")


@pytest.fixture
def component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MessageSignals:
    monkeypatch.chdir(PROJECT)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("signals")
    config = MessageSignals.get_default_config()
    trained = MessageSignals.create(
        config, storage, resource, ExecutionContext(GraphSchema({}), "x")
    )
    trained.train(TrainingData())
    return MessageSignals.load(config, storage, resource, ExecutionContext(GraphSchema({}), "x"))


def message(data: dict[str, Any]) -> Message:
    return Message(data=data)


def test_a_faq_message_takes_its_entrys_topic_and_urgency(component: MessageSignals) -> None:
    data = {
        "text": "is the whole area down? no internet at all",
        "intent": {"name": "faq", "confidence": 0.9},
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/check_outage"}}},
        "sentiment": {"label": "negative", "score": -0.5, "irony": False},
    }
    (processed,) = component.process([message(data)])
    assert processed.get("topic") == "outages"
    assert processed.get("urgency") >= 0.8
    assert "topic" in processed.as_dict(only_output_properties=True)


def test_other_intents_have_their_declared_topic_or_other(component: MessageSignals) -> None:
    (greeting,) = component.process([message({"text": "hi", "intent": {"name": "greet"}})])
    (unclear,) = component.process([message({"text": "zzz", "intent": {"name": "nlu_fallback"}})])
    assert greeting.get("topic") == "smalltalk"
    assert unclear.get("topic") == "other"
