"""Unit tests of bot.nlu's Rasa graph components on tiny synthetic data (no BANKING77)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.classifier import LinearIntentClassifier
from bot.nlu.featurizer import SentenceEmbeddingFeaturizer

EXAMPLES = {
    "greet": ["hello there", "hi", "good morning", "hey, how are you", "hello bot"],
    "goodbye": ["bye", "see you later", "goodbye then", "talk to you soon", "bye bye"],
    "faq/opening_hours": [
        "when are you open",
        "what are your opening hours",
        "are you open on sunday",
        "what time do you close",
        "opening times please",
    ],
    "faq/refund": [
        "how do I get a refund",
        "I want my money back",
        "can I return my order for a refund",
        "refund policy",
        "how long does a refund take",
    ],
}
RESPONSES = {
    "utter_faq/opening_hours": [{"text": "We are open 9 to 5."}],
    "utter_faq/refund": [{"text": "Refunds take 5 days."}],
}


def _message(text: str, label: str | None = None) -> Message:
    data: dict[str, Any] = {TEXT: text}
    if label:
        data[INTENT] = label.split("/")[0]
        if "/" in label:
            data[INTENT_RESPONSE_KEY] = label
    return Message(data=data)


def _context(name: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=name)


class Pipeline:
    """Tokenizer -> MiniLM featurizer -> word counts -> classifier, run by hand."""

    def __init__(self, storage: LocalModelStorage, config: dict[str, Any] | None = None) -> None:
        self.storage = storage
        self.resource = Resource("classifier")
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        self.dense = SentenceEmbeddingFeaturizer.create(
            SentenceEmbeddingFeaturizer.get_default_config(),
            storage,
            Resource("dense"),
            _context("dense"),
        )
        self.counts = CountVectorsFeaturizer.create(
            CountVectorsFeaturizer.get_default_config(),
            storage,
            Resource("counts"),
            _context("counts"),
        )
        self.config = {**LinearIntentClassifier.get_default_config(), **(config or {})}

    def featurize(self, messages: list[Message]) -> list[Message]:
        self.tokenizer.process(messages)
        self.dense.process(messages)
        self.counts.process(messages)
        return messages

    def train(self) -> LinearIntentClassifier:
        examples = [_message(t, label) for label, ts in EXAMPLES.items() for t in ts]
        data = TrainingData(training_examples=examples, responses=RESPONSES)
        self.tokenizer.process_training_data(data)
        self.dense.process_training_data(data)
        self.counts.train(data)
        self.counts.process_training_data(data)
        classifier = LinearIntentClassifier.create(
            self.config, self.storage, self.resource, _context("classifier")
        )
        assert classifier.train(data) == self.resource
        return classifier

    def load(self) -> LinearIntentClassifier:
        return LinearIntentClassifier.load(
            self.config, self.storage, self.resource, _context("classifier")
        )

    def parse(self, classifier: LinearIntentClassifier, text: str) -> Message:
        (message,) = classifier.process(self.featurize([_message(text)]))
        return message


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipe = Pipeline(LocalModelStorage(tmp_path_factory.mktemp("storage")))
    pipe.train()
    return pipe


def test_defaults_come_from_get_default_config() -> None:
    defaults = LinearIntentClassifier.get_default_config()
    assert {"C", "temperature", "sparse_weight", "dense_weight", "ranking_length"} <= set(defaults)
    assert defaults["ranking_length"] == 10
    assert SentenceEmbeddingFeaturizer.get_default_config()["encoder"] == "minilm"
    classifier = LinearIntentClassifier.create(
        {}, LocalModelStorage(Path("/nonexistent")), Resource("x"), _context("x")
    )
    assert classifier.config == defaults


def test_featurizer_rejects_unknown_encoder() -> None:
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "encoder": "nope"}
    with pytest.raises(InvalidConfigException):
        SentenceEmbeddingFeaturizer(config, "dense")


def test_featurizer_adds_sentence_features(pipeline: Pipeline) -> None:
    (message,) = pipeline.featurize([_message("hello there")])
    _, sentence = message.get_dense_features(TEXT)
    assert sentence is not None and sentence.features.shape == (1, 384)


def test_trains_persists_loads_and_predicts(pipeline: Pipeline) -> None:
    loaded = pipeline.load()
    assert loaded.model is not None
    message = pipeline.parse(loaded, "hello, good morning to you")
    assert message.get(INTENT)["name"] == "greet"
    ranking = message.get("intent_ranking")
    assert 0 < len(ranking) <= 10
    assert ranking[0]["full_name"] == "greet"
    assert message.get(INTENT)["confidence"] == ranking[0]["confidence"]
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-5  # 4 labels, all shown


def test_a_parse_scores_rows_exactly_like_the_training_matrix(pipeline: Pipeline) -> None:
    classifier = pipeline.load()
    assert classifier.model is not None and classifier.assembler is not None
    texts = ["hello, good morning", "refund please!!", "when do you open on sunday", "zzz"]
    messages = pipeline.featurize([_message(t) for t in texts])
    matrix = classifier.assembler.transform(messages, [])
    for (columns, values), row in zip(classifier.assembler.rows(messages, []), matrix, strict=True):
        dense = np.zeros(matrix.shape[1], dtype=np.float32)
        dense[columns] = values
        np.testing.assert_allclose(dense, row.toarray()[0], rtol=1e-6, atol=1e-7)
    few = classifier._probabilities(messages)  # row by row (a parse)
    many = classifier._probabilities(messages * 3)[: len(texts)]  # through the sparse matrix
    np.testing.assert_allclose(few, many, rtol=1e-5, atol=1e-7)


def test_retrieval_intent_fills_response_selector(pipeline: Pipeline) -> None:
    message = pipeline.parse(pipeline.load(), "what are the opening hours on sunday")
    assert message.get(INTENT)["name"] == "faq"
    assert message.get("intent_ranking")[0]["full_name"] == "faq/opening_hours"
    selector = message.get("response_selector")
    assert selector["all_retrieval_intents"] == ["faq"]
    for key in ("faq", "default"):
        response = selector[key]["response"]
        assert response["intent_response_key"] == "faq/opening_hours"
        assert response["utter_action"] == "utter_faq/opening_hours"
        assert response["responses"] == RESPONSES["utter_faq/opening_hours"]
        assert response["confidence"] == message.get(INTENT)["confidence"]
        ranking = selector[key]["ranking"]
        assert ranking[0]["intent_response_key"] == "faq/opening_hours"
        assert {"id", "confidence", "intent_response_key"} == set(ranking[0])
        assert {r["intent_response_key"] for r in ranking} == {"faq/opening_hours", "faq/refund"}


def test_selector_ranking_present_for_non_retrieval_top(pipeline: Pipeline) -> None:
    message = pipeline.parse(pipeline.load(), "bye, see you")
    assert message.get(INTENT)["name"] == "goodbye"
    ranking = message.get("response_selector")["faq"]["ranking"]
    assert len(ranking) == 2 and ranking[0]["confidence"] >= ranking[1]["confidence"]


def test_faq_confidence_is_top_entry_not_sum(pipeline: Pipeline) -> None:
    message = pipeline.parse(pipeline.load(), "refund opening hours")
    ranking = message.get("intent_ranking")
    faq = [r["confidence"] for r in ranking if r["name"] == "faq"]
    assert len(faq) == 2
    intent = message.get(INTENT)
    assert intent["confidence"] == ranking[0]["confidence"]
    if intent["name"] == "faq":
        assert intent["confidence"] == max(faq) < sum(faq)


def test_low_confidence_is_reported_honestly(pipeline: Pipeline) -> None:
    classifier = pipeline.load()
    sure = pipeline.parse(classifier, "what are your opening hours").get(INTENT)["confidence"]
    unsure = pipeline.parse(classifier, "the quantum zebra sings").get(INTENT)["confidence"]
    assert unsure < sure
    assert unsure < 0.6


def test_load_without_training_gives_untrained_classifier(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    classifier = LinearIntentClassifier.load({}, storage, Resource("missing"), _context("c"))
    message = _message("hello")
    classifier.process([message])
    assert message.get(INTENT) is None
