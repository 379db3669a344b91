"""The conversation test set (``tests/conversations/*.yml``): loading, schema checks that
name file and line, and the fixed held-out split.

One file per category::

    category: followup
    scenarios:
      - id: pay-bill-then-app
        turns:
          - say: how can I pay my bill?
            expect: {entry: pay_bill}
          - say: and from the app?
            expect: {contains: [pay now], menu: false}

docs/conversations.md describes every key.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.faq.yaml_source import ContentError, line_of, load_yaml

#: The categories of the set (issue "Conversations, not lookups"), in report order.
CATEGORIES = (
    "single",
    "followup",
    "multi_question",
    "negation",
    "emotion",
    "account",
    "safety",
    "scope",
    "closing",
)
SPLITS = ("tune", "heldout")
#: The held-out split: in each category, the scenarios whose ids hash lowest with this seed,
#: one third of the category (rounded up). Changing the seed changes the split: never do it.
SPLIT_SEED = "lumen-conversations-heldout-v1"
HELDOUT_SHARE = 1 / 3
#: "Any FAQ entry" in ``not_entry``: the turn must answer no FAQ entry at all.
ANY_ENTRY = "*"

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_FILE_KEYS = {"category", "scenarios"}
_SCENARIO_KEYS = {"id", "turns", "never_say", "never_store", "note"}
_TURN_KEYS = {"say", "click", "expect"}
_EXPECT_KEYS = {
    "entry",
    "entries",
    "not_entry",
    "intent",
    "contains",
    "not_contains",
    "handoff",
    "menu",
    "repeat_ok",
}


@dataclass(frozen=True)
class Expectation:
    """What one bot turn must do. Text checks are case-insensitive.

    ``contains`` is a list of groups, all required; a group is satisfied by any one of its
    phrases (written in YAML as a flat list for one group, or a list of lists).
    """

    entry: tuple[str, ...] = ()  # one of these FAQ entries is answered
    entries: tuple[str, ...] = ()  # all of these are answered, in this order
    not_entry: tuple[str, ...] = ()  # none of these is answered ("*": no entry at all)
    intent: tuple[str, ...] = ()  # the customer message is read as one of these intents
    contains: tuple[tuple[str, ...], ...] = ()
    not_contains: tuple[str, ...] = ()
    handoff: bool = False  # the bot hands the conversation to a person in this turn
    menu: bool | None = None  # it answers with the "Did you mean ...?" menu (None: either)
    repeat_ok: bool = False  # the reply may repeat an earlier reply of the scenario


@dataclass(frozen=True)
class Turn:
    """The customer's message (``say``) or a button press by its title (``click``)."""

    say: str | None
    click: str | None
    expect: Expectation
    line: int | None = None

    @property
    def label(self) -> str:
        return f"[{self.click}]" if self.click is not None else str(self.say)


@dataclass(frozen=True)
class Scenario:
    id: str
    category: str
    turns: tuple[Turn, ...]
    split: str = "tune"
    never_say: tuple[str, ...] = ()  # must appear in no reply of the scenario (secrets)
    never_store: tuple[str, ...] = ()  # must not be stored with the customer's messages
    source: Path = field(default=Path("."), compare=False)
    line: int | None = field(default=None, compare=False)


def load_set(folder: Path) -> list[Scenario]:
    """Every scenario in ``folder``'s ``*.yml`` files, with its split; raises
    :class:`ContentError` (``file:line: message``) on the first problem."""
    scenarios: list[Scenario] = []
    seen: dict[str, Scenario] = {}
    for path in sorted(folder.glob("*.yml")):
        for scenario in load_file(path):
            if (first := seen.get(scenario.id)) is not None:
                raise ContentError(
                    path,
                    scenario.line,
                    f"scenario id '{scenario.id}' is used twice (first at"
                    f" {first.source}:{first.line})",
                )
            seen[scenario.id] = scenario
            scenarios.append(scenario)
    if not scenarios:
        raise ContentError(folder, None, "no scenarios (*.yml files with `scenarios:`)")
    return assign_splits(scenarios)


def load_file(path: Path) -> list[Scenario]:
    """The scenarios of one file (split not yet assigned)."""
    document = load_yaml(path)
    if not isinstance(document, dict):
        raise ContentError(path, None, "expected a mapping with `category` and `scenarios`")
    _no_unknown_keys(path, document, _FILE_KEYS, "file")
    category = document.get("category")
    if category not in CATEGORIES:
        raise ContentError(
            path,
            line_of(document),
            f"`category` must be one of {', '.join(CATEGORIES)} (got {category!r})",
        )
    raw = document.get("scenarios")
    if not isinstance(raw, list) or not raw:
        raise ContentError(path, line_of(document), "`scenarios` must be a non-empty list")
    return [_scenario(path, str(category), item) for item in raw]


def assign_splits(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """The same scenarios, a fixed third of each category marked ``heldout``: those whose
    id hashes lowest with :data:`SPLIT_SEED`. Adding a scenario moves at most one other."""
    heldout: set[str] = set()
    for category in CATEGORIES:
        ids = sorted((s.id for s in scenarios if s.category == category), key=_split_key)
        heldout.update(ids[: math.ceil(len(ids) * HELDOUT_SHARE)])
    return [
        Scenario(
            s.id,
            s.category,
            s.turns,
            "heldout" if s.id in heldout else "tune",
            s.never_say,
            s.never_store,
            s.source,
            s.line,
        )
        for s in scenarios
    ]


def _split_key(scenario_id: str) -> str:
    return hashlib.sha256(f"{SPLIT_SEED}:{scenario_id}".encode()).hexdigest()


def _scenario(path: Path, category: str, raw: Any) -> Scenario:
    if not isinstance(raw, dict):
        raise ContentError(path, line_of(raw), "each scenario must be a mapping")
    line = line_of(raw)
    _no_unknown_keys(path, raw, _SCENARIO_KEYS, "scenario")
    scenario_id = raw.get("id")
    if not isinstance(scenario_id, str) or not _ID.match(scenario_id):
        raise ContentError(
            path,
            line,
            f"scenario `id` must be lower-case letters, digits, - or _ (got {scenario_id!r})",
        )
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ContentError(
            path, line, f"scenario '{scenario_id}': `turns` must be a non-empty list"
        )
    parsed = tuple(_turn(path, scenario_id, t, line) for t in turns)
    if parsed[0].click is not None:
        raise ContentError(
            path, parsed[0].line, f"scenario '{scenario_id}': the first turn cannot be a click"
        )
    never_say = _strings(path, line, raw.get("never_say"), "never_say", scenario_id)
    never_store = _strings(path, line, raw.get("never_store"), "never_store", scenario_id)
    return Scenario(scenario_id, category, parsed, "tune", never_say, never_store, path, line)


def _turn(path: Path, scenario_id: str, raw: Any, scenario_line: int | None) -> Turn:
    if not isinstance(raw, dict):
        raise ContentError(
            path, scenario_line, f"scenario '{scenario_id}': each turn must be a mapping"
        )
    line = line_of(raw)
    _no_unknown_keys(path, raw, _TURN_KEYS, f"turn of scenario '{scenario_id}'")
    say, click = raw.get("say"), raw.get("click")
    if (say is None) == (click is None):
        raise ContentError(
            path, line, f"scenario '{scenario_id}': a turn has exactly one of `say` or `click`"
        )
    for key, value in (("say", say), ("click", click)):
        if isinstance(value, bool):  # YAML reads a bare yes / no / on / off as true or false
            raise ContentError(
                path, line, f"scenario '{scenario_id}': `{key}` is read as {value}: quote it"
            )
        if value is not None and (not isinstance(value, str | int) or not str(value).strip()):
            raise ContentError(
                path, line, f"scenario '{scenario_id}': `{key}` must be non-empty text"
            )
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise ContentError(path, line, f"scenario '{scenario_id}': `expect` must be a mapping")
    return Turn(
        None if say is None else str(say),
        None if click is None else str(click),
        _expectation(path, line_of(expect) or line, scenario_id, expect),
        line,
    )


def _expectation(
    path: Path, line: int | None, scenario_id: str, raw: dict[str, Any]
) -> Expectation:
    _no_unknown_keys(path, raw, _EXPECT_KEYS, f"`expect` of scenario '{scenario_id}'")
    for flag in ("handoff", "menu", "repeat_ok"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise ContentError(
                path, line, f"scenario '{scenario_id}': `{flag}` must be true or false"
            )
    contains = raw.get("contains")
    groups: tuple[tuple[str, ...], ...]
    if isinstance(contains, list) and contains and all(isinstance(g, list) for g in contains):
        groups = tuple(_strings(path, line, g, "contains", scenario_id) for g in contains)
    else:
        group = _strings(path, line, contains, "contains", scenario_id)
        groups = (group,) if group else ()
    if any(not g for g in groups):
        raise ContentError(path, line, f"scenario '{scenario_id}': empty group in `contains`")
    return Expectation(
        entry=_strings(path, line, raw.get("entry"), "entry", scenario_id),
        entries=_strings(path, line, raw.get("entries"), "entries", scenario_id),
        not_entry=_strings(path, line, raw.get("not_entry"), "not_entry", scenario_id),
        intent=_strings(path, line, raw.get("intent"), "intent", scenario_id),
        contains=groups,
        not_contains=_strings(path, line, raw.get("not_contains"), "not_contains", scenario_id),
        handoff=bool(raw.get("handoff", False)),
        menu=raw.get("menu"),
        repeat_ok=bool(raw.get("repeat_ok", False)),
    )


def _strings(
    path: Path, line: int | None, value: Any, key: str, scenario_id: str
) -> tuple[str, ...]:
    """A phrase or a list of phrases (numbers are read as text)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(
        isinstance(i, str | int) and not isinstance(i, bool) and str(i).strip() for i in items
    ):
        raise ContentError(
            path, line, f"scenario '{scenario_id}': `{key}` must be text or a list of texts"
        )
    return tuple(str(i) for i in items)


def _no_unknown_keys(path: Path, raw: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ContentError(
            path,
            line_of(raw),
            f"unknown key(s) {', '.join(unknown)} in {where}"
            f" (allowed: {', '.join(sorted(allowed))})",
        )


def check_references(scenarios: Iterable[Scenario], entries: set[str], intents: set[str]) -> None:
    """Every expected entry and intent exists in the knowledge base / domain."""
    for scenario in scenarios:
        for turn in scenario.turns:
            e = turn.expect
            for entry in (*e.entry, *e.entries, *e.not_entry):
                if entry != ANY_ENTRY and entry not in entries:
                    raise ContentError(
                        scenario.source,
                        turn.line,
                        f"scenario '{scenario.id}': unknown FAQ entry '{entry}'",
                    )
            for intent in e.intent:
                if intent not in intents:
                    raise ContentError(
                        scenario.source,
                        turn.line,
                        f"scenario '{scenario.id}': unknown intent '{intent}'",
                    )
