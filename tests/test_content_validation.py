"""`bot validate`: every problem is found and located; the shipped content is clean."""

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.faq.validate import validate_project

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's content to break."""
    for name in ("data", "domain.yml"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    (tmp_path / "tests").mkdir()
    return tmp_path


def faq_file(project: Path) -> Path:
    return sorted((project / "data" / "faq").glob("*.yml"))[0]


def test_the_shipped_content_is_valid() -> None:
    assert validate_project(PROJECT) == []


def test_an_example_shared_by_two_entries_is_reported(project: Path) -> None:
    (project / "data" / "faq" / "extra.yml").write_text(
        "faq:\n  topic: extra\n  entries:\n    - id: extra_entry\n      question: Extra?\n"
        "      answer: An answer.\n      examples:\n"
        + "".join(f"        - unique extra example number {i}\n" for i in range(12))
        + "        - "
        + _first_example(project)
        + "\n"
    )
    messages = [str(f) for f in validate_project(project)]
    assert any("is also an example of FAQ entry" in m and "extra.yml" in m for m in messages)


def test_a_near_duplicate_across_entries_is_reported(project: Path) -> None:
    text = "why is my monthly bill so much higher than usual this month"
    (project / "data" / "faq" / "near.yml").write_text(
        "faq:\n  topic: near\n  entries:\n"
        + "".join(
            f"    - id: near_{n}\n      question: Q{n}?\n      answer: A.\n      examples:\n"
            + "".join(f"        - filler {n} example {i}\n" for i in range(12))
            + f"        - {text}{suffix}\n"
            for n, suffix in ((1, ""), (2, " please"))
        )
    )
    assert any("nearly duplicates" in str(f) for f in validate_project(project))


def test_a_response_used_by_a_rule_but_missing_is_reported(project: Path) -> None:
    rules = project / "data" / "rules.yml"
    rules.write_text(rules.read_text().replace("action: utter_greet", "action: utter_grete"))
    findings = validate_project(project)
    assert any("'utter_grete' is used but not defined" in str(f) for f in findings)
    assert any(f.path == rules and f.line for f in findings)


def test_an_answer_over_the_channel_limit_is_reported(project: Path) -> None:
    path = faq_file(project)
    text = path.read_text()
    path.write_text(text.replace("answer: |\n", "answer: |\n        " + "x" * 3100 + "\n", 1))
    assert any("the limit is 3000" in str(f) for f in validate_project(project))


def test_a_follow_up_that_is_no_response_is_reported(project: Path) -> None:
    path = project / "data" / "faq" / "not_offered.yml"
    path.write_text(path.read_text().replace("follow_up: none", "follow_up: utter_nothing_here"))
    findings = [str(f) for f in validate_project(project)]
    assert any("follow_up 'utter_nothing_here' is not a response" in f for f in findings)


def test_too_few_examples_is_reported(project: Path) -> None:
    (project / "data" / "faq" / "thin.yml").write_text(
        "faq:\n  topic: thin\n  entries:\n    - id: thin_entry\n      question: Thin?\n"
        "      answer: A.\n      examples:\n        - only one example here\n"
    )
    assert any("has 1 examples; write at least 12" in str(f) for f in validate_project(project))


def test_the_command_exits_non_zero_with_located_errors(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq_file(project).write_text("faq:\n  topic: broken\n  entries: [\n")
    assert main(["validate", "--project", str(project)]) == 1
    output = capsys.readouterr().out
    assert "invalid YAML" in output and faq_file(project).name in output
    assert "Traceback" not in output


def _first_example(project: Path) -> str:
    from bot.faq.knowledge_base import load_knowledge_base

    return next(load_knowledge_base([project / "data"]).entries).examples[0]


def test_stories_without_a_policy_that_learns_them_are_reported(project: Path) -> None:
    shutil.copy(PROJECT / "config.yml", project / "config.yml")
    assert validate_project(project) == []
    (project / "data" / "stories.yml").write_text(
        'version: "3.1"\nstories:\n  - story: greet\n    steps:\n'
        "      - intent: greet\n      - action: utter_greet\n"
    )
    [finding] = validate_project(project)
    assert str(finding).startswith(f"{project / 'data' / 'stories.yml'}:3: these stories")
    config = (project / "config.yml").read_text()
    (project / "config.yml").write_text(
        config.replace("  - name: RulePolicy", "  - name: MemoizationPolicy\n  - name: RulePolicy")
    )
    assert validate_project(project) == []
