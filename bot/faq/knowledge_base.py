"""The FAQ knowledge base: entries with their question variants, answer and topic.

Designers write one YAML file per topic under ``data/faq/``::

    faq:
      topic: billing
      title: Billing and payments
      entries:
        - id: pay_bill
          question: How can I pay my bill?
          examples: [...]
          answer: |
            ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.faq.yaml_source import ContentError, line_of, load_yaml

FAQ_KEY = "faq"
#: What follows an answer unless its topic says otherwise (``follow_up:`` in the topic file).
DEFAULT_FOLLOW_UP = "utter_did_that_help"
#: ``follow_up: none``: nothing follows the answer.
NO_FOLLOW_UP = "none"
RETRIEVAL_INTENT = "faq"
ENTRY_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class FaqEntry:
    """One question the bot can answer."""

    id: str
    topic: str
    question: str
    examples: tuple[str, ...]
    answer: str
    source: Path
    line: int | None = None

    @property
    def intent_response_key(self) -> str:
        """The Rasa retrieval label, e.g. ``faq/pay_bill``."""
        return f"{RETRIEVAL_INTENT}/{self.id}"

    @property
    def response_name(self) -> str:
        """The domain response holding the answer, e.g. ``utter_faq/pay_bill``."""
        return f"utter_{self.intent_response_key}"


@dataclass(frozen=True)
class Topic:
    """A group of entries, one file under data/faq/."""

    name: str
    title: str
    source: Path
    entries: tuple[FaqEntry, ...]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def follow_up(self) -> str | None:
        """The response sent with the last answer of this topic (buttons included), or None
        for ``follow_up: none``; "Did that solve it?" by default."""
        name = str(self.options.get("follow_up") or DEFAULT_FOLLOW_UP)
        return None if name == NO_FOLLOW_UP else name


@dataclass(frozen=True)
class KnowledgeBase:
    """All topics and entries, in file order."""

    topics: tuple[Topic, ...]

    @property
    def entries(self) -> Iterator[FaqEntry]:
        for topic in self.topics:
            yield from topic.entries

    def entry(self, entry_id: str) -> FaqEntry | None:
        """The entry with this id (``pay_bill`` or ``faq/pay_bill``), if any."""
        entry_id = entry_id.removeprefix(f"{RETRIEVAL_INTENT}/")
        return next((e for e in self.entries if e.id == entry_id), None)

    def topic(self, name: str) -> Topic | None:
        """The topic called ``name``, if any."""
        return next((t for t in self.topics if t.name == name), None)

    def topic_of(self, entry_id: str) -> str | None:
        """The topic name of an entry, if the entry exists."""
        found = self.entry(entry_id)
        return found.topic if found else None


def is_faq_file(path: Path) -> bool:
    """Whether a YAML file holds FAQ content (its top-level key is ``faq``)."""
    if path.suffix not in {".yml", ".yaml"}:
        return False
    try:
        head = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(rf"^{FAQ_KEY}:", head, flags=re.MULTILINE) is not None


def faq_files(paths: Iterable[Path]) -> list[Path]:
    """Every FAQ file in or below ``paths``, sorted."""
    found: set[Path] = set()
    for path in paths:
        candidates = [path] if path.is_file() else path.rglob("*")
        found.update(p for p in candidates if p.is_file() and is_faq_file(p))
    return sorted(found)


def load_knowledge_base(paths: Iterable[Path]) -> KnowledgeBase:
    """Loads every FAQ file below ``paths``; raises :class:`ContentError` on bad content."""
    return KnowledgeBase(tuple(load_topic(path) for path in faq_files(paths)))


def load_topic(path: Path) -> Topic:
    """Loads one topic file."""
    document = load_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get(FAQ_KEY), dict):
        raise ContentError(path, 1, f"expected a top-level '{FAQ_KEY}:' mapping")
    body = document[FAQ_KEY]
    topic = _required_text(path, body, "topic", "the topic")
    entries = body.get("entries")
    if not isinstance(entries, list) or not entries:
        raise ContentError(path, line_of(body), "'entries' must be a non-empty list")
    options = {k: v for k, v in body.items() if k not in {"topic", "title", "entries"}}
    return Topic(
        name=topic,
        title=str(body.get("title") or topic.replace("_", " ").capitalize()),
        source=path,
        entries=tuple(_entry(path, topic, raw) for raw in entries),
        options=options,
    )


def _entry(path: Path, topic: str, raw: Any) -> FaqEntry:
    if not isinstance(raw, dict):
        raise ContentError(path, None, "every entry must be a mapping with id, examples, answer")
    entry_id = _required_text(path, raw, "id", "an entry")
    where = f"entry '{entry_id}'"
    if not ENTRY_ID.match(entry_id):
        raise ContentError(path, line_of(raw), f"{where}: id must be snake_case (a-z, 0-9, _)")
    examples = raw.get("examples")
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ContentError(path, line_of(raw), f"{where}: 'examples' must be a list of texts")
    return FaqEntry(
        id=entry_id,
        topic=str(raw.get("topic") or topic),
        question=_required_text(path, raw, "question", where),
        examples=tuple(e.strip() for e in examples if e.strip()),
        answer=_required_text(path, raw, "answer", where).strip(),
        source=path,
        line=line_of(raw),
    )


def _required_text(path: Path, mapping: dict[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, line_of(mapping), f"{where}: '{key}' is missing or empty")
    return value.strip()
