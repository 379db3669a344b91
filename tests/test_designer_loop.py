"""The designer's loop stays safe: `bot suggest` writes `answer: TODO`, says what to fill
in, and `bot validate` rejects any placeholder customers would otherwise see."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.analytics.suggestions import render_suggestions
from bot.analytics.unanswered import Cluster
from bot.faq.placeholders import placeholder_in
from bot.faq.validate import MIN_EXAMPLES, validate_project

PROJECT = Path(__file__).resolve().parents[1]
STATIC_IP = Cluster(
    count=6,
    examples=("can i get a static ip address", "how do i request a fixed ip"),
    nearest_entry="port_forwarding",
    nearest_topic="technical",
    similarity=0.41,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's content to break."""
    for name in ("data", "domain.yml"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    (tmp_path / "tests").mkdir()
    return tmp_path


def merged_suggestion(
    project: Path, answer: str | None = None, extra: dict[str, Any] | None = None
) -> Path:
    """The suggested new entry pasted into a topic file as a designer would, with enough
    examples; its answer replaced when ``answer`` is given."""
    text = render_suggestions([STATIC_IP], "November", set())
    entry = yaml.safe_load(text)["suggestions"][0]["new_entry"]
    entry["examples"] += [f"static ip question number {n}" for n in range(MIN_EXAMPLES)]
    if answer is not None:
        entry["answer"] = answer
    entry.update(extra or {})
    path = project / "data" / "faq" / "static_ip.yml"
    path.write_text(
        yaml.safe_dump({"faq": {"topic": "technical", "entries": [entry]}}, sort_keys=False)
    )
    return path


def line_of_key(path: Path, key: str) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.lstrip(" -").startswith(f"{key}:"))


def test_a_suggestion_merged_without_its_answer_fails_validation_at_the_answer_line(
    project: Path,
) -> None:
    path = merged_suggestion(project)

    findings = [str(f) for f in validate_project(project)]

    assert findings == [
        f"{path}:{line_of_key(path, 'answer')}: FAQ entry 'get_static_ip_address': 'answer'"
        ' is a placeholder ("TODO"); write the text customers will see'
    ]


def test_the_same_suggestion_with_a_written_answer_passes(project: Path) -> None:
    merged_suggestion(project, "Static IP addresses come with our Business plans. ...more")

    assert validate_project(project) == []


def test_the_suggestion_file_lists_what_the_designer_must_fill_in() -> None:
    text = render_suggestions([STATIC_IP], "November", set())

    assert "answer: TODO" in text
    assert "To fill in before merging:" in text
    assert "1. answer: replace TODO with the answer customers will see" in text
    assert f"4. examples: at least {MIN_EXAMPLES}; add {MIN_EXAMPLES - 2} more" in text
    assert "`bot validate` rejects it until the answer is written" in text


@pytest.mark.parametrize(
    "answer",
    [
        "TODO",
        "todo",
        "TBD",
        "FIXME",
        "...",
        "…",
        "",
        "   ",
        "TODO: explain static IPs",
        "Lorem ipsum dolor sit amet.",
        "You can:\n1. Log in.\n2. ...\n",
        "Coming soon (TBD).",
    ],
)
def test_placeholders_are_recognised(answer: str) -> None:
    assert placeholder_in(answer) is not None


@pytest.mark.parametrize(
    "answer",
    [
        "Add it to your todo list: call us on 0800 555 0100.",
        "Wait a minute... then restart the hub.",
        "Your to-do: 1. log in, 2. pay.",
        "Yes.",
    ],
)
def test_real_answers_are_not_placeholders(answer: str) -> None:
    assert placeholder_in(answer) is None


@pytest.mark.parametrize("key", ["question", "answer"])
def test_every_customer_facing_key_is_checked(project: Path, key: str) -> None:
    path = merged_suggestion(project, "A real answer.")
    text = path.read_text()
    original = yaml.safe_load(text)["faq"]["entries"][0][key]
    path.write_text(text.replace(f"{key}: {original}", f"{key}: TBD"))

    findings = [str(f) for f in validate_project(project)]

    assert any(f"{path}:{line_of_key(path, key)}: " in f and f"'{key}'" in f for f in findings)


def test_a_placeholder_under_a_new_nested_key_is_reported(project: Path) -> None:
    path = merged_suggestion(project, "A real answer.", {"when_not_solved": {"say": "FIXME"}})

    findings = [str(f) for f in validate_project(project)]

    where = f"{path}:{line_of_key(path, 'say')}: "
    assert any(where in f and "'when_not_solved.say' is a placeholder" in f for f in findings)


def test_a_placeholder_response_in_the_domain_is_reported(project: Path) -> None:
    domain = project / "domain.yml"
    domain.write_text(
        domain.read_text().replace("responses:\n", 'responses:\n  utter_new:\n    - text: "..."\n')
    )

    assert any("response 'utter_new' is a placeholder" in str(f) for f in validate_project(project))
