"""A linear intent classifier on all sentence features that is also the FAQ response selector."""

from __future__ import annotations

import json
import logging
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.features import FeatureAssembler
from bot.nlu.selector import base_intent, intent_ranking, response_selector

logger = logging.getLogger(__name__)
FEW = 8  # up to this many messages are scored row by row (see FeatureAssembler.rows)


def full_label(message: Message) -> str:
    """``faq/<id>`` for a retrieval example, the intent name otherwise."""
    return str(message.get(INTENT_RESPONSE_KEY) or message.get(INTENT))


def softmax(scores: npt.NDArray[np.float32], temperature: float) -> npt.NDArray[np.float32]:
    z = scores / max(temperature, 1e-6)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):  # type: ignore[misc]
    """Linear SVM (one-vs-rest) on the concatenated sentence features of all featurizers,
    with temperature-scaled softmax confidences. Retrieval examples are trained on their full
    label (``faq/<id>``), so it also fills ``response_selector`` like Rasa's ResponseSelector.

    Config: ``C`` (inverse regularisation), ``temperature`` (softmax temperature on the SVM
    scores; chosen by NLL on held-out training data), ``sparse_weight`` / ``dense_weight``
    (scale of each L2-normalised sparse / dense block), ``featurizers`` (names to use; empty
    = all), ``ranking_length`` (entries in ``intent_ranking`` and the selector ranking).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's defaults (chosen by cross-validation on BANKING77's train split)."""
        return {
            "C": 1.0,
            "temperature": 0.2,
            "sparse_weight": 0.5,
            "dense_weight": 1.0,
            "featurizers": [],
            "ranking_length": 10,
            "max_iter": 2000,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        *,
        model: Any = None,
        assembler: FeatureAssembler | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.assembler = assembler
        self.responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    @property
    def labels(self) -> list[str]:
        return [] if self.model is None else [str(c) for c in self.model.classes_]

    @property
    def _featurizers(self) -> list[str]:
        return list(self.config["featurizers"] or [])

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the model on every example with an intent and persists it."""
        from sklearn.dummy import DummyClassifier
        from sklearn.svm import LinearSVC

        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [full_label(m) for m in examples]
        if not examples:
            logger.warning("LinearIntentClassifier: no intent examples, nothing trained")
            return self._resource
        self.assembler = FeatureAssembler.fit(
            examples, self._featurizers, self.config["sparse_weight"], self.config["dense_weight"]
        )
        features = self.assembler.transform(examples, self._featurizers)
        if len(set(labels)) < 2:
            self.model = DummyClassifier(strategy="most_frequent").fit(features, labels)
        else:
            self.model = LinearSVC(C=self.config["C"], max_iter=self.config["max_iter"])
            self.model.fit(features, labels)
        self.responses = dict(training_data.responses)
        self.persist()
        return self._resource

    def _probabilities(self, messages: list[Message]) -> npt.NDArray[np.float32]:
        assert self.model is not None and self.assembler is not None
        if len(self.labels) < 2:
            return np.ones((len(messages), 1), dtype=np.float32)
        if len(messages) <= FEW:  # a parse: score the rows directly, no sparse matrix
            coef, intercept = self.model.coef_, self.model.intercept_
            rows = self.assembler.rows(messages, self._featurizers)
            scores = np.stack([coef[:, cols] @ vals + intercept for cols, vals in rows])
        else:
            features = self.assembler.transform(messages, self._featurizers)
            scores = np.asarray(self.model.decision_function(features))
        scores = scores.reshape(len(messages), -1)
        if scores.shape[1] == 1:  # binary: sklearn returns one column
            scores = np.hstack([-scores / 2, scores / 2])
        return softmax(scores, float(self.config["temperature"]))

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets ``intent``, ``intent_ranking`` and, for retrieval labels, ``response_selector``."""
        todo = [m for m in messages if m.get(TEXT)]
        if self.model is None or not todo:
            return messages
        labels = self.labels
        retrieval = sorted({base_intent(lab) for lab in labels if "/" in lab})
        length = int(self.config["ranking_length"])
        for message, probs in zip(todo, self._probabilities(todo), strict=True):
            order = np.argsort(-probs)
            ranked = [(labels[i], float(probs[i])) for i in order]
            top_k = ranked[:length] if length > 0 else ranked
            top, confidence = ranked[0]
            message.set(
                INTENT,
                {"name": base_intent(top), PREDICTED_CONFIDENCE_KEY: confidence},
                add_to_output=True,
            )
            message.set(INTENT_RANKING_KEY, intent_ranking(top_k), add_to_output=True)
            selector = response_selector(ranked, top_k, retrieval, self.responses)
            if selector is not None:
                merged = {**message.get(RESPONSE_SELECTOR_PROPERTY_NAME, {}), **selector}
                message.set(RESPONSE_SELECTOR_PROPERTY_NAME, merged, add_to_output=True)
        return messages

    def persist(self) -> None:
        """Writes model, feature layout and responses to the model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump({"model": self.model, "assembler": self.assembler}, directory / "model.pkl")
            (directory / "responses.json").write_text(json.dumps(self.responses))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """The trained classifier, or an untrained one when nothing was persisted."""
        try:
            with model_storage.read_from(resource) as directory:
                state = joblib.load(directory / "model.pkl")
                responses = json.loads((directory / "responses.json").read_text())
        except (ValueError, FileNotFoundError):
            logger.debug("LinearIntentClassifier: no trained model in %s", resource.name)
            return cls(config, model_storage, resource)
        return cls(
            config,
            model_storage,
            resource,
            model=state["model"],
            assembler=state["assembler"],
            responses=responses,
        )
