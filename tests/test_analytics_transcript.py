"""`bot transcript`: who said what, when, where; agents by name; handoff changes; redacted."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.analytics.events import from_rasa_dict
from bot.analytics.seed import bulk_insert, create_events_table, event_rows
from bot.analytics.sql_source import create_engine
from bot.analytics.synthetic import generate
from bot.analytics.transcript import parse_conversation_id, render_text, transcripts
from bot.cli import build_parser

MONDAY = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()


def handed_over() -> tuple[str, list[dict[str, object]]]:
    """Generated conversation 2: FAQ answer not resolved, Alice takes over and resolves."""
    return list(generate(3, MONDAY))[2]


def test_a_transcript_shows_customer_bot_agent_and_the_handoff() -> None:
    sender_id, events = handed_over()
    (transcript,) = transcripts(sender_id, [from_rasa_dict(sender_id, e) for e in events])
    text = render_text(transcript)

    assert transcript.conversation_id == "web-2@20261102T002000Z"
    assert "channel rest" in text
    assert "2026-11-02T00:20:05Z    customer: why is my bill so high" in text
    assert "bot: (answer bill_higher_than_usual)" in text
    assert "-- handoff: queued (ticket T2, reason requested)" in text
    assert "-- handoff: claimed (ticket T2) by Alice Martin" in text
    assert "agent Alice Martin: Hi, Alice here." in text
    assert "-- handoff: resolved (ticket T2) by Alice Martin" in text
    assert "-- resolution: not_resolved" in text
    assert "-- csat: 4 (agent)" in text


def test_personal_data_is_redacted_in_the_transcript() -> None:
    sender_id, events = handed_over()
    (transcript,) = transcripts(sender_id, [from_rasa_dict(sender_id, e) for e in events])

    assert "jo@example.com" not in render_text(transcript)
    assert "customer: my email is [email]" in render_text(transcript)
    assert "jo@example.com" not in json.dumps(transcript.as_dict())


def test_a_conversation_id_names_the_sender_and_the_start() -> None:
    assert parse_conversation_id("slack:C1:17.2@20261102T002000Z") == (
        "slack:C1:17.2",
        "20261102T002000Z",
    )
    assert parse_conversation_id("telegram:42") == ("telegram:42", None)


@pytest.fixture
def tracker_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    create_events_table(engine)
    bulk_insert(engine, event_rows(generate(10, MONDAY)))
    engine.dispose()
    return url


async def test_the_command_exports_json(
    tracker_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(
        ["transcript", "web-2@20261102T002000Z", "--format", "json", "--store", tracker_db]
    )

    assert await args.handler(args) == 0
    (exported,) = json.loads(capsys.readouterr().out)
    assert exported["channel"] == "rest"
    assert [line["who"] for line in exported["lines"]][:3] == ["customer", "bot", "customer"]
    assert {line["name"] for line in exported["lines"] if line["who"] == "agent"} == {
        "Alice Martin"
    }


async def test_a_sender_with_two_conversations_gets_both(
    tracker_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["transcript", "slack:C0:0", "--store", tracker_db])

    assert await args.handler(args) == 0
    out = capsys.readouterr().out
    assert out.count("Conversation slack:C0:0@") == 2


async def test_an_unknown_conversation_is_an_error(
    tracker_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["transcript", "nobody", "--store", tracker_db])

    assert await args.handler(args) == 1
    assert "No conversation 'nobody'" in capsys.readouterr().out
