"""A Rasa training-data importer that turns data/faq/*.yml into retrieval-intent data.

Listed in ``config.yml`` under ``importers:`` next to ``RasaFileImporter``, so
``rasa train``, ``rasa data validate`` and ``rasa test`` pick the FAQ up with no build step.
Each entry becomes examples of the retrieval intent ``faq/<id>`` and the response
``utter_faq/<id>``; so does each follow-up (``faq/<id>__then<n>``) and next step
(``faq/<id>__step<n>``, a response only).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.faq.knowledge_base import KnowledgeBase, faq_files, load_knowledge_base


class FaqImporter(TrainingDataImporter):
    """Reads FAQ YAML files below the training data paths (or ``faq_path``)."""

    def __init__(
        self,
        config_file: str | None = None,
        domain_path: str | None = None,
        training_data_paths: str | list[str] | None = None,
        faq_path: str | None = None,
    ) -> None:
        if faq_path:
            roots = [Path(faq_path)]
        elif isinstance(training_data_paths, str):
            roots = [Path(training_data_paths)]
        else:
            roots = [Path(p) for p in training_data_paths or ["data"]]
        self._roots = roots
        self._knowledge_base: KnowledgeBase | None = None

    @property
    def knowledge_base(self) -> KnowledgeBase:
        """The loaded knowledge base (loaded once)."""
        if self._knowledge_base is None:
            self._knowledge_base = load_knowledge_base(self._roots)
        return self._knowledge_base

    def get_nlu_data(self, language: str | None = "en") -> TrainingData:
        """Examples of ``faq/<id>`` and the ``utter_faq/<id>`` responses."""
        examples = [
            Message.build(text=text, intent=entry.intent_response_key)
            for entry in self.knowledge_base.all_entries
            for text in entry.examples
        ]
        responses = {
            entry.response_name: [{"text": entry.answer}]
            for entry in self.knowledge_base.all_entries
        }
        return TrainingData(training_examples=examples, responses=responses)

    def get_domain(self) -> Domain:
        """Nothing of its own: Rasa adds the retrieval intent and responses from the NLU data."""
        return Domain.empty()

    def get_stories(self, exclusion_percentage: int | None = None) -> StoryGraph:
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        return StoryGraph([])

    def get_config(self) -> dict[str, Any]:
        return {}

    def get_config_file_for_auto_config(self) -> str | None:
        return None

    def fingerprint(self) -> str:
        """A hash of the FAQ files' content."""
        digest = hashlib.sha256()
        for path in faq_files(self._roots):
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()
