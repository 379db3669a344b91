"""Sentiment and irony: interface, sarcasm, support-style texts, CLI and the Rasa component."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sentiment import (
    LinearSentimentAnalyser,
    Sentiment,
    SentimentAnalyser,
    analyse_texts,
    default_analyser,
)
from bot.sentiment.model import MODEL_PATH, Weights

REPO = Path(__file__).resolve().parents[1]
SARCASM = "Great, my internet died again. Thanks a lot."
SUPPORT = [
    ("my internet has been down for 3 days, this is ridiculous", "negative"),
    ("I've been charged twice and nobody answers the phone", "negative"),
    ("this is the worst service I have ever had", "negative"),
    ("how do I change my plan", "neutral"),
    ("what is the address of your office", "neutral"),
    ("can I pay by bank transfer", "neutral"),
    ("thanks, that fixed it!", "positive"),
    ("perfect, it works now, you're the best", "positive"),
    ("great support, thank you so much", "positive"),
]


def test_default_analyser_satisfies_the_protocol() -> None:
    analyser: SentimentAnalyser = default_analyser()
    assert isinstance(analyser, LinearSentimentAnalyser)


async def test_results_are_typed_bounded_and_in_order() -> None:
    texts = ["I love it", "I hate it", "", "It is a table."] * 5  # > 8: the threaded path
    results = await analyse_texts(texts)
    assert len(results) == len(texts)
    assert all(isinstance(r, Sentiment) for r in results)
    assert all(-1.0 <= r.score <= 1.0 and 0.0 <= r.irony_probability <= 1.0 for r in results)
    assert [r.label for r in results[:2]] == ["positive", "negative"]
    assert results[:4] == results[4:8]
    assert await analyse_texts([]) == []


async def test_sarcasm_is_negative_and_ironic() -> None:
    [reading] = await analyse_texts([SARCASM])
    assert reading.irony
    assert reading.label == "negative"
    assert reading.score < 0


@pytest.mark.parametrize(("text", "label"), SUPPORT)
async def test_support_style_messages(text: str, label: str) -> None:
    [reading] = await analyse_texts([text])
    assert reading.label == label, reading


async def test_sincere_thanks_stays_praise() -> None:
    # The tweet-trained irony flag may fire on short thanks; the label never flips for it.
    readings = await analyse_texts(["thanks, that fixed it!", "great support, thank you so much"])
    assert [r.label for r in readings] == ["positive", "positive"]
    assert all(r.score > 0.5 for r in readings)


async def test_support_questions_are_not_ironic() -> None:
    questions = ["how do I change my plan", "why is my bill higher this month", "reset password"]
    readings = await analyse_texts(questions)
    assert not any(r.irony for r in readings)
    assert all(r.label == "neutral" for r in readings)


def test_shipped_weights_are_small_and_load(tmp_path: Path) -> None:
    assert MODEL_PATH.stat().st_size < 8 * 2**20
    weights = Weights.load(MODEL_PATH)
    assert weights.sentiment_coef.shape[1] == 3
    weights.save(tmp_path / "copy.npz")
    assert Weights.load(tmp_path / "copy.npz").irony_threshold == weights.irony_threshold
    with pytest.raises(FileNotFoundError, match="train-sentiment"):
        Weights.load(tmp_path / "missing.npz")


def test_cli_reads_lines_and_writes_json_lines() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sentiment"],
        input=f"{SARCASM}\nhow do I change my plan\nthanks, that fixed it!\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["negative", "neutral", "positive"]
    assert [r["irony"] for r in rows][:2] == [True, False]
    assert all(set(r) == {"label", "score", "irony"} for r in rows)


def test_cli_help() -> None:
    from bot.cli import build_parser

    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["sentiment", "--help"])
    assert exit_info.value.code == 0


def test_component_annotates_messages_with_defaults() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.sentiment.component import SentimentAnnotator

    component = SentimentAnnotator({**SentimentAnnotator.get_default_config()})
    messages = component.process([Message(data={"text": SARCASM}), Message(data={})])
    assert messages[0].as_dict(only_output_properties=True)["sentiment"]["label"] == "negative"
    assert messages[1].get("sentiment") is None


@pytest.fixture(scope="module")
def nlu_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    from rasa.model_training import train_nlu

    root = tmp_path_factory.mktemp("sentiment-model")
    (root / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: sentiment-test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n"
        "  - name: bot.sentiment.component.SentimentAnnotator\n"
        "  - name: KeywordIntentClassifier\npolicies: []\n"
    )
    (root / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi\n'
        "- intent: complain\n  examples: |\n    - internet\n    - broken\n"
    )
    model = train_nlu(str(root / "config.yml"), str(root / "nlu.yml"), str(root / "models"))
    assert model
    return model


async def test_sentiment_survives_into_the_tracker(nlu_model: str) -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import UserUttered

    agent = Agent.load(nlu_model)
    parsed = await agent.parse_message(SARCASM)
    assert parsed["sentiment"]["label"] == "negative" and parsed["sentiment"]["irony"]
    await agent.log_message(UserMessage(SARCASM, sender_id="sentiment-test"))
    tracker = await agent.tracker_store.retrieve("sentiment-test")
    assert tracker is not None
    uttered = [e for e in tracker.events if isinstance(e, UserUttered)][-1]
    assert uttered.parse_data["sentiment"] == {
        "label": "negative",
        "score": parsed["sentiment"]["score"],
        "irony": True,
    }
    assert uttered.as_dict()["parse_data"]["sentiment"]["irony"] is True
