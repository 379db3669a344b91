"""The conversation test set's format: the shipped set loads, the held-out split is a fixed
third of every category, and mistakes are reported with file and line."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from bot.bench.conversation_set import (
    CATEGORIES,
    ContentError,
    assign_splits,
    check_references,
    load_file,
    load_set,
)
from bot.bench.conversations import SET_FOLDER, load_checked_set

MIN_SCENARIOS = 180


def test_the_shipped_set_loads_and_covers_every_category() -> None:
    scenarios = load_checked_set()
    assert len(scenarios) >= MIN_SCENARIOS
    per_category = Counter(s.category for s in scenarios)
    assert set(per_category) == set(CATEGORIES)
    heldout = Counter(s.category for s in scenarios if s.split == "heldout")
    for category, count in per_category.items():
        assert heldout[category] == math.ceil(count / 3), category


def test_the_split_is_fixed_by_the_ids_not_by_file_order() -> None:
    scenarios = load_set(SET_FOLDER)
    again = assign_splits(list(reversed(scenarios)))
    assert {s.id: s.split for s in scenarios} == {s.id: s.split for s in again}


def write(tmp_path: Path, text: str, name: str = "set.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ContentError) as raised:
        load_file(path)
    return str(raised.value)


def test_a_flat_contains_list_is_one_any_of_group_and_nested_lists_are_all_required(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "category: followup\n"
        "scenarios:\n"
        "  - id: a\n"
        "    turns:\n"
        "      - say: hi\n"
        "        expect: {contains: [x, y]}\n"
        '      - click: "Yes"\n'
        "        expect: {contains: [[x, y], [z]], handoff: true}\n",
    )
    first, second = load_file(path)[0].turns
    assert first.expect.contains == (("x", "y"),)
    assert second.expect.contains == (("x", "y"), ("z",))
    assert second.click == "Yes" and second.expect.handoff


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("category: nope\nscenarios: []\n", 1, "`category` must be one of"),
        (
            "category: single\nscenarios:\n  - id: a\n    turns:\n      - sey: hi\n",
            5,
            "unknown key(s) sey",
        ),
        (
            "category: single\nscenarios:\n  - id: a\n    turns:\n"
            "      - say: hi\n        click: x\n",
            5,
            "exactly one of `say` or `click`",
        ),
        (
            "category: single\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n"
            "      - say: no\n",
            6,
            "`say` is read as False: quote it",
        ),
        (
            "category: single\nscenarios:\n  - id: a\n    turns:\n      - click: OK\n",
            5,
            "the first turn cannot be a click",
        ),
        (
            "category: single\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n"
            "        expect:\n          handoff: maybe\n",
            7,
            "`handoff` must be true or false",
        ),
        (
            "category: single\nscenarios:\n  - id: Bad Id\n    turns:\n      - say: hi\n",
            3,
            "scenario `id` must be",
        ),
        (
            "category: single\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n"
            "        expect: {contains: [{x: 1}]}\n",
            6,
            "`contains` must be text",
        ),
    ],
)
def test_mistakes_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    error = error_of(path)
    assert error.startswith(f"{path}:{line}: ") and message in error


def test_a_scenario_id_used_twice_names_both_places(tmp_path: Path) -> None:
    scenario = "scenarios:\n  - id: same\n    turns:\n      - say: hi\n"
    write(tmp_path, "category: single\n" + scenario, "a.yml")
    second = write(tmp_path, "category: scope\n" + scenario, "b.yml")
    with pytest.raises(ContentError) as raised:
        load_set(tmp_path)
    assert str(raised.value).startswith(f"{second}:3: ") and "a.yml:3" in str(raised.value)


def test_unknown_entries_and_intents_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "category: single\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n"
        "        expect: {entry: pay_bil}\n",
    )
    with pytest.raises(ContentError) as raised:
        check_references(load_file(path), {"pay_bill"}, {"faq"})
    assert str(raised.value).startswith(f"{path}:5: ") and "unknown FAQ entry 'pay_bil'" in str(
        raised.value
    )
    path = write(
        tmp_path,
        "category: single\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n"
        "        expect: {intent: greeet, not_entry: '*'}\n",
    )
    with pytest.raises(ContentError, match="unknown intent 'greeet'"):
        check_references(load_file(path), {"pay_bill"}, {"faq"})
