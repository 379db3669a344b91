"""Check-in declarations: designers say in ``data/followup.yml`` which FAQ topics get a
proactive follow-up, after how long, and with which domain response::

    followup:
      checkins:
        - topic: outages            # a FAQ topic (data/faq/<file>.yml, ``topic:``)
          after: 24h                # 90s, 30m, 24h, 2d, or seconds
          response: utter_checkin_outages
          entries: [outage_eta]     # optional: only these entries of the topic
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.faq.knowledge_base import KnowledgeBase
from bot.faq.yaml_source import ContentError, line_of, load_yaml

DEFAULT_FILE = Path("data/followup.yml")
#: Overrides every declared delay (seconds): for tests and for trying check-ins out.
DELAY_OVERRIDE_ENV = "BOT_CHECKIN_DELAY_SECONDS"
_KEYS = {"topic", "after", "response", "entries"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class CheckinRule:
    """One declaration: answers on ``topic`` get ``response`` after ``delay_seconds``."""

    topic: str
    delay_seconds: float
    response: str
    entries: frozenset[str] = frozenset()  # empty: every entry of the topic
    source: Path = DEFAULT_FILE
    line: int | None = None

    def applies_to(self, topic: str, entry_id: str) -> bool:
        """Whether an answer from this FAQ entry calls for this check-in."""
        return topic == self.topic and (not self.entries or entry_id in self.entries)

    @property
    def label(self) -> str:
        return f"check-in '{self.topic}'"


def parse_delay(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"24h"`` or ``"2d"``; positive."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a delay")
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a delay; write e.g. 90s, 30m, 24h or 2d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("the delay must be more than 0")
    return seconds


def delay_of(rule: CheckinRule, env: Mapping[str, str] = os.environ) -> float:
    """The rule's delay, or ``BOT_CHECKIN_DELAY_SECONDS`` when set."""
    override = env.get(DELAY_OVERRIDE_ENV, "").strip()
    return parse_delay(override) if override else rule.delay_seconds


def parse_checkins(document: Any, path: Path) -> tuple[list[CheckinRule], list[ContentError]]:
    """The declarations in a loaded file, and every structural problem (file and line)."""
    section = document.get("followup") if isinstance(document, dict) else None
    if section is None:
        return [], []
    declared = section.get("checkins") if isinstance(section, dict) else None
    if not isinstance(declared, list):
        return [], [ContentError(path, line_of(section), "'followup.checkins' must be a list")]
    rules: list[CheckinRule] = []
    problems: list[ContentError] = []
    seen: dict[str, CheckinRule] = {}
    for number, item in enumerate(declared, start=1):
        rule, errors = _parse_one(item, number, path)
        problems += errors
        if rule is None:
            continue
        if rule.topic in seen:
            first = seen[rule.topic]
            problems.append(
                ContentError(
                    path, rule.line, f"{rule.label} is declared twice (first at line {first.line})"
                )
            )
            continue
        seen[rule.topic] = rule
        rules.append(rule)
    return rules, problems


def _parse_one(item: Any, number: int, path: Path) -> tuple[CheckinRule | None, list[ContentError]]:
    line = line_of(item)
    if not isinstance(item, dict):
        return None, [ContentError(path, line, f"check-in {number} must be a mapping")]
    label = f"check-in {number} (topic '{item.get('topic', '?')}')"
    errors = [
        ContentError(
            path, line, f"{label}: unknown setting '{key}' (allowed: {', '.join(sorted(_KEYS))})"
        )
        for key in item
        if key not in _KEYS
    ]
    for key in ("topic", "after", "response"):
        if item.get(key) in (None, ""):
            errors.append(ContentError(path, line, f"{label}: '{key}' is missing"))
    entries = item.get("entries") or []
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        errors.append(ContentError(path, line, f"{label}: 'entries' must be a list of entry ids"))
        entries = []
    delay = 0.0
    if item.get("after") not in (None, ""):
        try:
            delay = parse_delay(item["after"])
        except ValueError as error:
            errors.append(ContentError(path, line, f"{label}: 'after': {error}"))
    if errors:
        return None, errors
    rule = CheckinRule(
        topic=str(item["topic"]),
        delay_seconds=delay,
        response=str(item["response"]),
        entries=frozenset(entries),
        source=path,
        line=line,
    )
    return rule, []


def check_references(
    rules: Collection[CheckinRule], knowledge_base: KnowledgeBase, responses: Collection[str]
) -> Iterator[ContentError]:
    """Every declared topic, entry and response exists."""
    topics = {t.name: {e.id for e in t.entries} for t in knowledge_base.topics}
    for rule in rules:
        if rule.topic not in topics:
            known = ", ".join(sorted(topics)) or "none"
            yield ContentError(
                rule.source,
                rule.line,
                f"{rule.label}: no FAQ topic '{rule.topic}' (known: {known})",
            )
            continue
        for entry in sorted(rule.entries - topics[rule.topic]):
            yield ContentError(
                rule.source,
                rule.line,
                f"{rule.label}: '{entry}' is not an entry of the topic '{rule.topic}'",
            )
        if rule.response not in responses:
            yield ContentError(
                rule.source,
                rule.line,
                f"{rule.label}: the response '{rule.response}' is not in domain.yml",
            )


def load_checkin_rules(path: Path = DEFAULT_FILE) -> list[CheckinRule]:
    """The declarations in ``path`` (none when it is missing); raises the first problem."""
    if not path.exists():
        return []
    rules, problems = parse_checkins(load_yaml(path), path)
    if problems:
        raise problems[0]
    return rules


def validate_checkins(root: Path, knowledge_base: KnowledgeBase) -> list[ContentError]:
    """Every problem in ``root/data/followup.yml`` (for ``bot validate``)."""
    path = root / DEFAULT_FILE
    if not path.exists():
        return []
    try:
        document = load_yaml(path)
        domain = load_yaml(root / "domain.yml") or {}
    except ContentError as error:
        return [error]
    rules, problems = parse_checkins(document, path)
    responses = set((domain.get("responses") or {}).keys())
    return [*problems, *check_references(rules, knowledge_base, responses)]
