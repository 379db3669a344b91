"""Real Slack request bodies (tests/payloads/slack, see its README) replayed through the
channel over HTTP: every one acknowledged with a 200, the ones a customer means answered in
the right place, everything else deliberately silent, and nothing crashes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from channels.slack.channel import _Runtime
from tests.slack_inprocess import Recorder, deliver, eventually, http_runtime

if TYPE_CHECKING:
    from bot.testing.fake_slack import FakeSlack

CORPUS = Path(__file__).parent / "payloads" / "slack"
PAYLOADS = sorted(CORPUS.glob("*.json"))
# interactions come as the form field ``payload``; slash commands as plain form fields
INTERACTIVE = {
    "block_actions",
    "block_suggestion",
    "dialog_cancellation",
    "dialog_submission",
    "dialog_suggestion",
    "interactive_message",
    "message_action",
    "shortcut",
    "view_closed",
    "view_submission",
    "workflow_step_edit",
}
MENTION_THREAD = "slack:C0CHAN0001:1595926230.009600"
DM = "slack:D0DM000001"
ASSISTANT_THREAD = "slack:D0DM000001:1726133698.626339"  # a DM thread (per-thread scope)
# file -> (what Rasa receives, the conversation); every other payload is answered by silence
ANSWERED = {
    "bolt_event_callback_app_mention_app_app_mention_event_body": ("Hi there!", MENTION_THREAD),
    "bolt_event_callback_app_mention_app_bot_only_app_mention_body": ("Hi there!", MENTION_THREAD),
    "bolt_event_callback_app_mention_events_request_verification_app_mention_body": (
        "Hi there!",
        MENTION_THREAD,
    ),
    "bolt_event_callback_app_mention_events_say_stream_org_app_mention_event_body": (
        "Hi there!",
        MENTION_THREAD,
    ),
    "bolt_event_callback_message_events_assistant_user_message_event_body": (
        "When Slack was released?",
        ASSISTANT_THREAD,
    ),
    "bolt_event_callback_message_events_assistant_user_message_event_body_with_action_token": (
        "When Slack was released?",
        ASSISTANT_THREAD,
    ),
    "bolt_event_callback_message_events_assistant_user_message_event_body_with_assistant_thread": (
        "When Slack was released?",
        ASSISTANT_THREAD,
    ),
    "java_app_mention": ("hello", "slack:C0CHAN0001:1700000000.000100"),
    "java_message": ("hello", DM),
    "java_message_file_share": ("/unsupported_content", DM),
    "java_message_me": ("/greet", DM),
    "java_message_thread_broadcast": ("hello", DM),
    "java_slash_command": ("/privacy", DM),
}
# the token is dead after these: the Slack side stops (tests/test_slack_payload_kinds.py)
REVOKING = {"tokens_revoked", "app_uninstalled"}


def form_of(body: dict[str, Any]) -> str | None:
    if "command" in body and "type" not in body:
        return "fields"
    return "payload" if body.get("type") in INTERACTIVE else None


def event_type(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    return event.get("type") if isinstance(event, dict) else None


def test_the_corpus_covers_the_kinds_slack_sends() -> None:
    bodies = [json.loads(path.read_text()) for path in PAYLOADS]
    kinds = {event_type(b) or b.get("type") or "slash_command" for b in bodies}
    assert len(PAYLOADS) >= 60
    assert {"app_mention", "message", "reaction_added", "member_joined_channel"} <= kinds
    assert {"app_home_opened", "team_join", "tokens_revoked", "app_uninstalled"} <= kinds
    assert "assistant_thread_started" in kinds
    assert {"app_rate_limited", "block_actions", "shortcut", "view_submission"} <= kinds
    assert "slash_command" in kinds and set(ANSWERED) <= {p.stem for p in PAYLOADS}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replay(
    fake_slack_server: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[_Runtime, Recorder]]:
    recorder = Recorder()
    db = tmp_path_factory.mktemp("corpus") / "bot.db"
    async with http_runtime(fake_slack_server, db, recorder) as runtime:
        yield runtime, recorder


@pytest.mark.parametrize(
    "path",
    [p for p in PAYLOADS if event_type(json.loads(p.read_text())) not in REVOKING],
    ids=lambda p: p.stem,
)
async def test_replayed_payload_is_acknowledged_and_answered_as_expected(
    fake_slack: FakeSlack, replay: tuple[_Runtime, Recorder], path: Path
) -> None:
    runtime, recorder = replay
    body = json.loads(path.read_text())
    if body.get("type") == "event_callback":  # one delivery each (the corpus reuses "Ev111")
        body["event_id"] = "Ev" + uuid.uuid4().hex[:10].upper()
    before = len(recorder.messages)
    response = await deliver(fake_slack, runtime, body, form=form_of(body))
    assert response.status == 200, response.body
    if body.get("type") == "url_verification":
        assert body["challenge"] in str(response.body)
    if path.stem in ANSWERED:
        text, conversation = ANSWERED[path.stem]
        [post] = await fake_slack.wait_for("chat.postMessage")
        [message] = recorder.messages[before:]
        assert (message.text, message.sender_id) == (text, conversation)
        _, channel, *thread = conversation.split(":")
        assert post.params["channel"] == channel
        assert post.params.get("thread_ts") == (thread[0] if thread else None)
        return
    # silence: a customer's DM sent after it is the only thing Rasa sees and answers
    w = fake_slack.workspace
    await deliver(fake_slack, runtime, w.wrap(w.message("after the replay")))
    await fake_slack.wait_for("chat.postMessage")
    assert [m.text for m in recorder.messages[before:]] == ["after the replay"]
    assert len(fake_slack.calls_of("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "path",
    [p for p in PAYLOADS if event_type(json.loads(p.read_text())) in REVOKING],
    ids=lambda p: p.stem,
)
async def test_replayed_revocation_stops_the_slack_side(
    fake_slack: FakeSlack, tmp_path: Path, path: Path
) -> None:
    body = json.loads(path.read_text())
    async with http_runtime(fake_slack, tmp_path / "bot.db", Recorder()) as runtime:
        assert (await deliver(fake_slack, runtime, body)).status == 200
        await eventually(lambda: runtime.revoked == event_type(body))
    assert not fake_slack.calls_of("chat.postMessage")
