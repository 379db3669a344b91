"""Rasa NLU component that annotates every user message with sentiment and irony.

The reading is set as an *output property*, so it survives into the parse data that Rasa
stores on ``UserUttered`` (``parse_data["sentiment"] == {"label", "score", "irony"}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

PROPERTY = "sentiment"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentimentAnnotator(GraphComponent):
    """Adds ``{"label", "score", "irony"}`` (plus ``irony_probability`` if configured)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults: the shipped weights, no irony probability in the parse data."""
        return {"model_path": None, "include_irony_probability": False}

    def __init__(self, config: dict[str, Any]) -> None:
        from bot.sentiment.model import MODEL_PATH

        path = config.get("model_path")
        self._path = Path(path) if path else MODEL_PATH
        self._with_probability = bool(config.get("include_irony_probability"))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnnotator:
        """Creates the component (the weights load on the first message, not here)."""
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotates messages that carry text; Rasa calls this synchronously."""
        texted = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT)]
        if texted:
            from bot.sentiment import _analyse

            readings = _analyse([m.get(TEXT) for m in texted], self._path)
            for message, reading in zip(texted, readings, strict=True):
                value = reading.as_dict()
                if not self._with_probability:
                    value.pop("irony_probability")
                message.set(PROPERTY, value, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no sentiment: passed through untouched."""
        return training_data
