"""Content checks designers get from `make validate`, each naming file and entry.

On top of ``rasa data validate``: every FAQ entry has an answer and a topic, no
duplicate or near-duplicate examples across entries and intents, every response a
rule or story uses exists, every answer fits the channels' message limits, no answer or
other customer-facing text is a placeholder ("TODO", "TBD", "...", lorem ipsum, empty), and
stories are only written when a policy in ``config.yml`` learns from them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.faq.knowledge_base import FaqEntry, KnowledgeBase, faq_files, load_knowledge_base
from bot.faq.placeholders import placeholder_in
from bot.faq.yaml_source import ContentError, line_of, load_yaml

#: Slack's section-block text limit (3,000) is the tightest of our channels (Telegram: 4,096).
MAX_ANSWER_CHARS = 3000
MIN_EXAMPLES = 12
NEAR_DUPLICATE_JACCARD = 0.85
#: The policies that learn from stories (the dialogue is otherwise rules only: RulePolicy).
STORY_POLICIES = frozenset({"MemoizationPolicy", "AugmentedMemoizationPolicy", "TEDPolicy"})
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Finding:
    """One problem, located."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(frozen=True)
class _Example:
    text: str
    owner: str  # "FAQ entry 'x'" or "intent 'y'"
    path: Path
    line: int | None


def validate_project(root: Path) -> list[Finding]:
    """All findings for the project in ``root`` (empty when the content is clean)."""
    try:
        knowledge_base = load_knowledge_base([root / "data"])
        domain = load_yaml(root / "domain.yml") or {}
        nlu_examples = list(_nlu_examples(_yaml_files(root / "data")))
        used = list(_used_responses([*_yaml_files(root / "data"), *_yaml_files(root / "tests")]))
        config = load_yaml(root / "config.yml") if (root / "config.yml").exists() else None
    except ContentError as error:
        return [Finding(error.path, error.line, error.message)]
    findings = [*check_entries(knowledge_base), *check_answer_lengths(knowledge_base, domain)]
    findings += check_placeholders(faq_files([root / "data"]), domain, root / "domain.yml")
    faq_examples = [
        _Example(text, f"FAQ entry '{e.id}'", e.source, e.line)
        for e in knowledge_base.entries
        for text in e.examples
    ]
    findings += check_duplicates([*faq_examples, *nlu_examples])
    findings += check_follow_up_examples(knowledge_base, [*faq_examples, *nlu_examples])
    findings += check_responses_exist(knowledge_base, domain, used)
    if isinstance(config, dict):
        findings += check_stories_are_learned(_yaml_files(root / "data"), config)
    return findings


def check_entries(knowledge_base: KnowledgeBase) -> Iterator[Finding]:
    """Ids are unique; every entry has a topic, an answer and enough examples."""
    seen: dict[str, FaqEntry] = {}
    for entry in knowledge_base.entries:
        where = f"FAQ entry '{entry.id}'"
        if entry.id in seen:
            first = seen[entry.id]
            yield Finding(
                entry.source,
                entry.line,
                f"{where} is defined twice (first at {first.source}:{first.line})",
            )
        seen.setdefault(entry.id, entry)
        if not entry.topic:
            yield Finding(entry.source, entry.line, f"{where} has no topic")
        if len(entry.examples) < MIN_EXAMPLES:
            yield Finding(
                entry.source,
                entry.line,
                f"{where} has {len(entry.examples)} examples; write at least {MIN_EXAMPLES}",
            )


def check_answer_lengths(
    knowledge_base: KnowledgeBase, domain: dict[str, Any]
) -> Iterator[Finding]:
    """Every FAQ answer and domain response text fits in one channel message."""
    for entry in knowledge_base.all_entries:
        if len(entry.answer) > MAX_ANSWER_CHARS:
            yield Finding(
                entry.source,
                entry.line,
                f"FAQ entry '{entry.id}': the answer has {len(entry.answer)} characters;"
                f" the limit is {MAX_ANSWER_CHARS}",
            )
    for name, variants in (domain.get("responses") or {}).items():
        for variant in variants or []:
            text = variant.get("text", "") if isinstance(variant, dict) else ""
            if len(text) > MAX_ANSWER_CHARS:
                yield Finding(
                    Path("domain.yml"),
                    line_of(variant),
                    f"response '{name}' has {len(text)} characters;"
                    f" the limit is {MAX_ANSWER_CHARS}",
                )


def check_follow_up_examples(
    knowledge_base: KnowledgeBase, examples: list[_Example]
) -> Iterator[Finding]:
    """A follow-up's phrasing is no example of an entry or intent: it would be read as that
    question on its own. (Follow-ups of different entries may share phrasings: the
    conversation tells them apart.)"""
    owners = {" ".join(_WORD.findall(e.text.lower())): e for e in examples}
    for entry in knowledge_base.entries:
        for follow_up in entry.follow_ups:
            for text in follow_up.examples:
                other = owners.get(" ".join(_WORD.findall(text.lower())))
                if other is not None:
                    yield Finding(
                        follow_up.source,
                        follow_up.line,
                        f"FAQ entry '{entry.id}': the follow-up example '{text}' is also an"
                        f" example of {other.owner} ({other.path}:{other.line})",
                    )


#: Keys of an FAQ entry whose values customers never see (everything else they may).
NOT_SHOWN_KEYS = frozenset({"id", "examples", "topic"})


def check_placeholders(
    faq_paths: Iterable[Path], domain: dict[str, Any], domain_path: Path
) -> Iterator[Finding]:
    """No FAQ answer, question or other text of an entry (any key, including nested ones,
    except ids, topics and examples), and no domain response, is a placeholder."""
    for path in faq_paths:
        document = load_yaml(path)
        body = document.get("faq") if isinstance(document, dict) else None
        entries = body.get("entries") if isinstance(body, dict) else None
        lines = path.read_text(encoding="utf-8").splitlines()
        for raw in entries if isinstance(entries, list) else []:
            if not isinstance(raw, dict):
                continue
            where = f"FAQ entry '{raw.get('id')}'"
            for key, text, start in _shown_texts(raw, line_of(raw)):
                if (problem := placeholder_in(text)) is not None:
                    yield Finding(
                        path,
                        _key_line(lines, start, key.rsplit(".", 1)[-1]),
                        f"{where}: '{key}' is a placeholder ({problem}); write the text"
                        " customers will see",
                    )
    for name, variants in (domain.get("responses") or {}).items():
        for variant in variants or []:
            shown = variant.get("text") if isinstance(variant, dict) else None
            if isinstance(shown, str) and (problem := placeholder_in(shown)) is not None:
                yield Finding(
                    domain_path,
                    line_of(variant),
                    f"response '{name}' is a placeholder ({problem}); write the text"
                    " customers will see",
                )


def _shown_texts(
    mapping: dict[str, Any], start: int | None, prefix: str = ""
) -> Iterator[tuple[str, str, int | None]]:
    """(dotted key, text, line the mapping starts on) for every customer-facing text."""
    for key, value in mapping.items():
        if key in NOT_SHOWN_KEYS and not prefix:
            continue
        dotted = f"{prefix}{key}"
        if value is None or isinstance(value, str):
            yield dotted, value or "", start
        elif isinstance(value, dict):
            yield from _shown_texts(value, line_of(value) or start, f"{dotted}.")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    yield dotted, item, start
                elif isinstance(item, dict):
                    yield from _shown_texts(item, line_of(item) or start, f"{dotted}.")


def _key_line(lines: list[str], start: int | None, key: str) -> int | None:
    """The line of ``key:`` at or after ``start`` (1-based), else ``start``."""
    pattern = re.compile(rf"^\s*(?:-\s+)?{re.escape(key)}\s*:")
    for number in range(start or 1, len(lines) + 1):
        if pattern.match(lines[number - 1]):
            return number
    return start


def check_duplicates(examples: list[_Example]) -> Iterator[Finding]:
    """No example twice, and no near-duplicates across different entries or intents."""
    by_text: dict[str, _Example] = {}
    for example in examples:
        key = " ".join(_WORD.findall(example.text.lower()))
        first = by_text.get(key)
        if first is None:
            by_text[key] = example
        elif first.owner == example.owner:
            yield Finding(
                example.path,
                example.line,
                f"{example.owner}: the example '{example.text}' appears twice",
            )
        else:
            yield Finding(
                example.path,
                example.line,
                f"{example.owner}: the example '{example.text}' is also an example of"
                f" {first.owner} ({first.path})",
            )
    token_sets = [(set(_WORD.findall(t)), e) for t, e in by_text.items()]
    for (a_tokens, a), (b_tokens, b) in itertools.combinations(token_sets, 2):
        if a.owner == b.owner or min(len(a_tokens), len(b_tokens)) < 3:
            continue
        similarity = len(a_tokens & b_tokens) / len(a_tokens | b_tokens)
        if similarity >= NEAR_DUPLICATE_JACCARD:
            yield Finding(
                b.path,
                b.line,
                f"{b.owner}: the example '{b.text}' nearly duplicates '{a.text}' of"
                f" {a.owner}; make them distinct or merge the entries",
            )


def check_responses_exist(
    knowledge_base: KnowledgeBase, domain: dict[str, Any], used: list[tuple[str, Path, int | None]]
) -> Iterator[Finding]:
    """Every ``utter_`` action a rule, story or test uses has a response."""
    known = set((domain.get("responses") or {}).keys())
    known |= {entry.response_name for entry in knowledge_base.all_entries}
    known |= {"utter_faq"}  # Rasa's retrieval action, answered by the response selector
    for action, path, line in used:
        if action.startswith("utter_") and action not in known:
            yield Finding(
                path,
                line,
                f"the response '{action}' is used but not defined in domain.yml or data/faq",
            )
    for topic in knowledge_base.topics:
        if topic.follow_up is not None and topic.follow_up not in known:
            yield Finding(
                topic.source,
                None,
                f"topic '{topic.name}': follow_up '{topic.follow_up}' is not a response in"
                f" domain.yml (name one, or write `follow_up: none`)",
            )


def check_stories_are_learned(paths: Iterable[Path], config: dict[str, Any]) -> Iterator[Finding]:
    """Stories in ``data/`` need a policy that learns from them; ``RulePolicy`` does not."""
    names = {str(p.get("name")) for p in config.get("policies") or [] if isinstance(p, dict)}
    if names & STORY_POLICIES:
        return
    for path in paths:
        document = load_yaml(path)
        stories = document.get("stories") if isinstance(document, dict) else None
        if stories:
            first = stories[0]
            yield Finding(
                path,
                line_of(first) if isinstance(first, dict) else None,
                "these stories would be ignored: no policy in config.yml learns from stories"
                " (add MemoizationPolicy, or write them as rules in data/rules.yml)",
            )


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def _nlu_examples(paths: Iterable[Path]) -> Iterator[_Example]:
    for path in paths:
        document = load_yaml(path)
        if not isinstance(document, dict):
            continue
        for block in document.get("nlu") or []:
            if isinstance(block, dict) and "intent" in block:
                for line in str(block.get("examples") or "").splitlines():
                    text = line.strip().removeprefix("- ").strip()
                    if text:
                        yield _Example(text, f"intent '{block['intent']}'", path, line_of(block))


def _used_responses(paths: Iterable[Path]) -> Iterator[tuple[str, Path, int | None]]:
    for path in paths:
        document = load_yaml(path)
        if not isinstance(document, dict):
            continue
        for flow in [*(document.get("rules") or []), *(document.get("stories") or [])]:
            for step in (flow.get("steps") or []) if isinstance(flow, dict) else []:
                if isinstance(step, dict) and isinstance(step.get("action"), str):
                    yield step["action"], path, line_of(step)
