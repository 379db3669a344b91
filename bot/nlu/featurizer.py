"""Dense sentence features from a pre-trained, offline sentence encoder."""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoders import ENCODERS, Encoder, get_encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):  # type: ignore[misc]
    """Adds one sentence-level dense feature vector per message text.

    Config: ``encoder`` (``minilm``: all-MiniLM-L6-v2 int8 on onnxruntime, 384-d; ``use``:
    multilingual Universal Sentence Encoder v3, 512-d), ``batch_size`` (texts per encoder
    call while featurizing training data) and Rasa's featurizer ``alias``.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's defaults."""
        return {**DenseFeaturizer.get_default_config(), "encoder": "minilm", "batch_size": 256}

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime", "tokenizers"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._encoder_name = str(config["encoder"])
        self._batch_size = int(config["batch_size"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        """A featurizer for ``config`` (nothing to train or persist)."""
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Rejects unknown encoders and non-positive batch sizes."""
        if config.get("encoder") not in ENCODERS:
            raise InvalidConfigException(
                f"encoder must be one of {', '.join(ENCODERS)}, not {config.get('encoder')!r}"
            )
        if int(config.get("batch_size", 0)) < 1:
            raise InvalidConfigException("batch_size must be a positive integer")

    @property
    def encoder(self) -> Encoder:
        """The shared encoder (loaded on first use)."""
        return get_encoder(self._encoder_name)

    def _featurize(self, messages: list[Message]) -> None:
        texts = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(texts), self._batch_size):
            chunk = texts[start : start + self._batch_size]
            vectors = self.encoder.encode([m.get(TEXT) for m in chunk])
            for message, vector in zip(chunk, vectors, strict=True):
                features = Features(
                    np.asarray(vector, dtype=np.float32)[None, :],
                    FEATURE_TYPE_SENTENCE,
                    TEXT,
                    self._identifier,
                )
                message.add_features(features)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example that has a text."""
        self._featurize(list(training_data.training_examples))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages."""
        self._featurize(messages)
        return messages
