"""The FAQ knowledge base: loading, the Rasa importer, and errors that name file and line."""

from pathlib import Path

import pytest

from bot.faq.importer import FaqImporter
from bot.faq.knowledge_base import load_knowledge_base
from bot.faq.yaml_source import ContentError

PROJECT = Path(__file__).resolve().parents[1]

TOPIC = """\
faq:
  topic: billing
  title: Billing
  entries:
    - id: pay_bill
      question: How can I pay my bill?
      examples:
        - how do i pay my bill
        - paying my invoice
      answer: |
        You can pay in the **My Lumen** app.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_entry_keeps_its_examples_answer_and_topic(tmp_path: Path) -> None:
    write(tmp_path, "faq/billing.yml", TOPIC)
    entry = load_knowledge_base([tmp_path]).entry("pay_bill")
    assert entry is not None
    assert entry.topic == "billing"
    assert entry.examples == ("how do i pay my bill", "paying my invoice")
    assert entry.answer == "You can pay in the **My Lumen** app."
    assert entry.response_name == "utter_faq/pay_bill"


def test_rasa_nlu_files_next_to_faq_files_are_not_taken_for_faq(tmp_path: Path) -> None:
    write(tmp_path, "faq/billing.yml", TOPIC)
    write(
        tmp_path,
        "nlu/other.yml",
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n',
    )
    assert [t.name for t in load_knowledge_base([tmp_path]).topics] == ["billing"]


def test_the_importer_gives_rasa_retrieval_intents_and_responses(tmp_path: Path) -> None:
    write(tmp_path, "faq/billing.yml", TOPIC)
    data = FaqImporter(training_data_paths=[str(tmp_path)]).get_nlu_data()
    assert {m.get("intent_response_key") for m in data.training_examples} == {"faq/pay_bill"}
    assert {m.get("intent") for m in data.training_examples} == {"faq"}
    assert data.responses["utter_faq/pay_bill"] == [
        {"text": "You can pay in the **My Lumen** app."}
    ]


def test_the_fingerprint_changes_when_content_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "faq/billing.yml", TOPIC)
    before = FaqImporter(training_data_paths=[str(tmp_path)]).fingerprint()
    path.write_text(TOPIC.replace("My Lumen", "Lumen"))
    assert FaqImporter(training_data_paths=[str(tmp_path)]).fingerprint() != before


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "faq/broken.yml", TOPIC.replace("    - id: pay_bill", "    - id: [pay_bill")
    )
    with pytest.raises(ContentError) as caught:
        load_knowledge_base([tmp_path])
    assert caught.value.path == path
    assert caught.value.line is not None and 5 <= caught.value.line <= 7
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: invalid YAML")


def test_a_missing_answer_names_the_entry(tmp_path: Path) -> None:
    write(tmp_path, "faq/billing.yml", TOPIC.split("      answer:", maxsplit=1)[0])
    with pytest.raises(ContentError, match=r"billing.yml:5: entry 'pay_bill': 'answer' is missing"):
        load_knowledge_base([tmp_path])


def test_the_shipped_knowledge_base_is_big_enough() -> None:
    knowledge_base = load_knowledge_base([PROJECT / "data"])
    entries = list(knowledge_base.entries)
    assert len(entries) >= 40
    assert len(knowledge_base.topics) >= 6
    assert all(len(e.examples) >= 12 for e in entries)
