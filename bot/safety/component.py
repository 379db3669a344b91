"""SecretNotice: a Rasa NLU graph component that routes a message made of secrets alone.

The inbound gate masks secrets before a message reaches Rasa and lists the kinds removed
in ``metadata["masked_secrets"]`` (``bot.safety.secrets``). When such a message also asks
something the bot can answer (an FAQ question, a request for a person), its intent is kept
and the answer leads with the warning (``actions/faq.py``). Otherwise ("4111 ... exp 12/27",
"hi, my password is [password removed]"), the intent becomes ``shared_secret``: the
warning, the secure route, and the question what the customer needs (data/rules.yml).
Listed in config.yml after the classifiers; it needs no training.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety.secrets import PLACEHOLDERS

SHARED_SECRET_INTENT = "shared_secret"
METADATA_KEY = "masked_secrets"
#: Intents that still get their answer (after the warning) when the message held a secret.
HELPFUL_INTENTS = ("faq", "human_handoff")
#: A question needs at least this many words besides placeholders and the words that only
#: introduce a secret ("my card number is"); fewer, and the message is the secret alone.
MIN_QUESTION_WORDS = 2
_INTRODUCING = frozenset(
    re.findall(
        r"[a-z']+",
        "my the a is was here's heres here it's its card number no cvv cvc code security"
        " exp expiry expires date password pin passcode pw pwd login iban bank account sort"
        " routing key token api and with of this that these details hi hello hey thanks ok"
        " please you go use",
    )
)
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in set(PLACEHOLDERS.values())))
_WORD = re.compile(r"[a-z']+")


def masked_kinds(metadata: Any) -> list[str]:
    """The kinds of secret the gate removed from a message, from its metadata."""
    kinds = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return [str(kind) for kind in kinds] if isinstance(kinds, list) else []


def secret_alone(text: str) -> bool:
    """Whether a masked message says nothing besides its secrets."""
    words = _WORD.findall(_PLACEHOLDER.sub(" ", text.lower()))
    return sum(word not in _INTRODUCING for word in words) < MIN_QUESTION_WORDS


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SecretNotice(GraphComponent):
    """Keeps the kinds removed in the parse data; a secret alone becomes ``shared_secret``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"helpful_intents": list(HELPFUL_INTENTS)}

    def __init__(self, config: dict[str, Any]) -> None:
        self.helpful_intents = frozenset(config["helpful_intents"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SecretNotice:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            kinds = masked_kinds(message.get("metadata"))
            if not kinds:
                continue
            message.set(METADATA_KEY, kinds, add_to_output=True)
            intent = message.get("intent") or {}
            text = str(message.get("text") or "")
            if intent.get("name") not in self.helpful_intents or secret_alone(text):
                routed = {"name": SHARED_SECRET_INTENT, "confidence": 1.0}
                message.set("intent", routed, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
