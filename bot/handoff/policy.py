"""EscalationPolicy: the dialogue policy that hands a conversation to the human queue.

Listed in config.yml's ``policies``; it predicts ``action_escalate`` (with a priority
above RulePolicy) when :func:`bot.handoff.triggers.escalation_reason` finds a reason,
and abstains otherwise. The rules (data/handoff.yml, FAQ ``human_only`` markings) are
read at training time and persisted with the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff.triggers import ESCALATE_ACTION, EscalationRules, escalation_reason

OPEN_STATES = {"queued", "claimed"}
_RULES_FILE = "escalation_rules.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class EscalationPolicy(Policy):
    """Escalates when asked, when misunderstanding persists, on anger, on human-only topics."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7, "data_path": "data"}

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        rules: EscalationRules | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context)
        self.rules = rules or EscalationRules()

    def train(self, training_trackers: list[Any], domain: Domain, **kwargs: Any) -> Resource:
        self.rules = EscalationRules.load(Path(self.config["data_path"]))
        with self._model_storage.write_to(self._resource) as folder:
            (Path(folder) / _RULES_FILE).write_text(json.dumps(self.rules.as_config()))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EscalationPolicy:
        with model_storage.read_from(resource) as folder:
            rules = EscalationRules.from_config(
                json.loads((Path(folder) / _RULES_FILE).read_text())
            )
        return cls(config, model_storage, resource, execution_context, rules=rules)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if self._should_escalate(tracker, domain):
            probabilities[domain.index_for_action(ESCALATE_ACTION)] = 1.0
        return self._prediction(probabilities)

    def _should_escalate(self, tracker: DialogueStateTracker, domain: Domain) -> bool:
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            return False
        if ESCALATE_ACTION not in domain.action_names_or_texts:
            return False
        if tracker.get_slot("handoff_state") in OPEN_STATES:
            return False  # a person is already on the way
        events = list(tracker.applied_events())
        last_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=-1)
        if any(
            isinstance(e, ActionExecuted) and e.action_name == ESCALATE_ACTION
            for e in events[last_user:]
        ):
            return False  # this message was already handed over
        turns = [e.parse_data for e in events if isinstance(e, UserUttered)]
        return escalation_reason(turns, self.rules) is not None

    def _metadata(self) -> dict[str, Any]:
        return self.rules.as_config()

    @classmethod
    def _metadata_filename(cls) -> str:
        return _RULES_FILE
