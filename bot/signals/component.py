"""MessageSignals: a Rasa NLU graph component that adds ``topic`` and ``urgency`` to every
message's parse data (docs/events.md). Listed in config.yml after the intent classifier
and the sentiment annotator; topics and urgency rules are read at training time from
``data/`` and kept in the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.faq.knowledge_base import load_knowledge_base
from bot.signals.urgency import UrgencyRules, urgency

OTHER = "other"
#: Polite intents said sarcastically ("Great, my internet died again. Thanks a lot.") are a
#: complaint: the customer gets the unhappy-customer answer, never "You're welcome!".
SARCASM_FLIPS = frozenset({"thanks", "affirm"})
COMPLAINT_INTENT = "mood_unhappy"
#: A bare "thanks" / "yes" / "ok great, thanks" is never read as sarcasm, whatever the
#: tweet-trained sentiment model says of it: the complaint needs words of its own.
MIN_SARCASM_WORDS = 5
_FILE = "signals.json"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class MessageSignals(GraphComponent):
    """Topic (the FAQ entry's topic, else the intent's, else ``other``) and urgency (0..1)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"data_path": "data", "signals_file": "data/signals.yml"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        topics: dict[str, str] | None = None,
        rules: UrgencyRules | None = None,
    ) -> None:
        self._config, self._storage, self._resource = config, model_storage, resource
        self.topics = topics or {}
        self.rules = rules or UrgencyRules()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessageSignals:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the label -> topic map from the FAQ and data/signals.yml."""
        signals_file = Path(self._config["signals_file"])
        raw = yaml_or_empty(signals_file)
        self.topics = {str(k): str(v) for k, v in (raw.get("intent_topics") or {}).items()}
        for entry in load_knowledge_base([Path(self._config["data_path"])]).entries:
            self.topics[entry.intent_response_key] = entry.topic
        self.rules = UrgencyRules.load(signals_file)
        with self._storage.write_to(self._resource) as folder:
            content = {"topics": self.topics, "rules": self.rules.as_config()}
            (Path(folder) / _FILE).write_text(json.dumps(content))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MessageSignals:
        with model_storage.read_from(resource) as folder:
            content = json.loads((Path(folder) / _FILE).read_text())
        rules = content["rules"]
        return cls(
            config,
            model_storage,
            resource,
            content["topics"],
            UrgencyRules(
                urgent_topics=rules["topics"],
                urgent_phrases=rules["phrases"],
                negative_weight=rules["negative_weight"],
            ),
        )

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            sentiment = message.get("sentiment") or {}
            score, irony = sentiment.get("score"), bool(sentiment.get("irony"))
            intent = message.get("intent") or {}
            words = len(str(message.get("text") or "").split())
            sarcastic = irony and (score or 0.0) < 0 and words >= MIN_SARCASM_WORDS
            if intent.get("name") in SARCASM_FLIPS and sarcastic:
                message.set("intent", {**intent, "name": COMPLAINT_INTENT}, add_to_output=True)
            topic = self.topic_of(message.data)
            message.set("topic", topic, add_to_output=True)
            text = str(message.get("text") or "")
            value = urgency(text, topic, score, self.rules, irony=sarcastic)
            message.set("urgency", value, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def topic_of(self, data: dict[str, Any]) -> str:
        """The message's topic from its FAQ entry or intent."""
        intent = str((data.get("intent") or {}).get("name") or "")
        selector = (data.get("response_selector") or {}).get("faq") or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        if intent == "faq" and key:
            return self.topics.get(str(key), OTHER)
        return self.topics.get(intent, OTHER)


def yaml_or_empty(path: Path) -> dict[str, Any]:
    """The YAML mapping in ``path`` (empty when the file is missing)."""
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text()) or {}
    return loaded if isinstance(loaded, dict) else {}
