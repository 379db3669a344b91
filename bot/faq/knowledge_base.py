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
from dataclasses import dataclass, field, replace
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
#: Ids of follow-ups and next steps: ``<entry id>__then<n>`` / ``<entry id>__step<n>``.
FOLLOW_UP_MARK = "__then"
STEP_MARK = "__step"
#: A follow-up needs at least this many example phrasings.
MIN_FOLLOW_UP_EXAMPLES = 3


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
    #: Questions that only make sense right after this answer ("and from the app?"), each
    #: an entry of its own (``<id>__then<n>``) with this entry as ``parent``.
    follow_ups: tuple[FaqEntry, ...] = ()
    #: What to try next, in order, when the customer says this did not help
    #: (``if_not_solved:``): own steps (``<id>__step<n>``) or other entries.
    next_steps: tuple[FaqEntry, ...] = ()
    #: The entry a follow-up or step belongs to.
    parent: str | None = None
    #: The entry whose answer a follow-up or step gives (``entry:`` instead of ``answer:``).
    refers_to: str | None = None
    #: Entries whose advice this answer already gives (``covers:``): "I already restarted
    #: it" after this answer is not answered with the restart entry again.
    covers: tuple[str, ...] = ()

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

    @property
    def all_entries(self) -> Iterator[FaqEntry]:
        """Entries, their follow-ups and their next steps."""
        for entry in self.entries:
            yield entry
            yield from entry.follow_ups
            yield from entry.next_steps

    def entry(self, entry_id: str) -> FaqEntry | None:
        """The entry, follow-up or step with this id (``pay_bill`` or ``faq/pay_bill``)."""
        entry_id = entry_id.removeprefix(f"{RETRIEVAL_INTENT}/")
        return next((e for e in self.all_entries if e.id == entry_id), None)

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
    loaded = KnowledgeBase(tuple(load_topic(path) for path in faq_files(paths)))
    answers = {e.id: e.answer for e in loaded.entries}
    for entry in loaded.entries:
        unknown = [c for c in entry.covers if c not in answers]
        if unknown:
            raise ContentError(
                entry.source, entry.line, f"entry '{entry.id}': covers unknown {unknown}"
            )
    topics = []
    for topic in loaded.topics:  # follow-ups and steps that name an entry give its answer
        entries = []
        for entry in topic.entries:
            follow_ups = tuple(_resolved(f, answers) for f in entry.follow_ups)
            steps = tuple(_resolved(s, answers) for s in entry.next_steps)
            entries.append(replace(entry, follow_ups=follow_ups, next_steps=steps))
        topics.append(replace(topic, entries=tuple(entries)))
    return KnowledgeBase(tuple(topics))


def _resolved(derived: FaqEntry, answers: dict[str, str]) -> FaqEntry:
    if derived.refers_to is None:
        return derived
    if derived.refers_to not in answers:
        raise ContentError(
            derived.source,
            derived.line,
            f"entry '{derived.parent}': '{derived.refers_to}' is not a FAQ entry",
        )
    return replace(derived, answer=answers[derived.refers_to])


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
    if not ENTRY_ID.match(entry_id) or "__" in entry_id:
        raise ContentError(
            path, line_of(raw), f"{where}: id must be snake_case (a-z, 0-9, single _)"
        )
    examples = raw.get("examples")
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ContentError(path, line_of(raw), f"{where}: 'examples' must be a list of texts")
    entry = FaqEntry(
        id=entry_id,
        topic=str(raw.get("topic") or topic),
        question=_required_text(path, raw, "question", where),
        examples=tuple(e.strip() for e in examples if e.strip()),
        answer=_required_text(path, raw, "answer", where).strip(),
        source=path,
        line=line_of(raw),
    )
    follow_ups = _list(path, raw, "follow_ups", where)
    steps = _list(path, raw, "if_not_solved", where)
    covers = _list(path, raw, "covers", where)
    if not all(isinstance(c, str) and c != entry_id for c in covers):
        raise ContentError(path, line_of(raw), f"{where}: 'covers' lists other entries' ids")
    return replace(
        entry,
        covers=tuple(covers),
        follow_ups=tuple(
            _derived(path, entry, f"{entry_id}{FOLLOW_UP_MARK}{n}", item, needs_examples=True)
            for n, item in enumerate(follow_ups, 1)
        ),
        next_steps=tuple(
            _derived(path, entry, f"{entry_id}{STEP_MARK}{n}", item, needs_examples=False)
            for n, item in enumerate(steps, 1)
        ),
    )


def _list(path: Path, raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ContentError(path, line_of(raw), f"{where}: '{key}' must be a list")
    return value


def _derived(
    path: Path, parent: FaqEntry, derived_id: str, raw: Any, *, needs_examples: bool
) -> FaqEntry:
    """A follow-up (examples + answer or entry) or a next step (an entry id, or answer)."""
    kind = "follow-up" if needs_examples else "step"
    where = f"entry '{parent.id}', {kind} {derived_id.rsplit('_', 1)[-1]}"
    if isinstance(raw, str) and not needs_examples:  # a step that is another entry's id
        raw = {"entry": raw}
    if not isinstance(raw, dict):
        raise ContentError(path, parent.line, f"{where}: expected a mapping")
    line = line_of(raw) or parent.line
    answer, refers_to = raw.get("answer"), raw.get("entry")
    if (answer is None) == (refers_to is None):
        raise ContentError(path, line, f"{where}: give exactly one of 'answer' or 'entry'")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise ContentError(path, line, f"{where}: 'answer' is empty")
    if refers_to is not None and (not isinstance(refers_to, str) or refers_to == parent.id):
        raise ContentError(path, line, f"{where}: 'entry' must name another FAQ entry")
    examples = raw.get("examples") or []
    if needs_examples and (
        not isinstance(examples, list)
        or len(examples) < MIN_FOLLOW_UP_EXAMPLES
        or not all(isinstance(e, str) and e.strip() for e in examples)
    ):
        raise ContentError(
            path, line, f"{where}: write at least {MIN_FOLLOW_UP_EXAMPLES} 'examples' (texts)"
        )
    return FaqEntry(
        id=derived_id,
        topic=parent.topic,
        question=str(raw.get("question") or parent.question),
        examples=tuple(e.strip() for e in examples) if needs_examples else (),
        answer=answer.strip() if isinstance(answer, str) else "",
        source=path,
        line=line,
        parent=parent.id,
        refers_to=refers_to,
    )


def _required_text(path: Path, mapping: dict[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, line_of(mapping), f"{where}: '{key}' is missing or empty")
    return value.strip()
