"""The Slack channel in-process against the fake Slack (Socket Mode), Rasa replaced by a recorder.

Fast and independent of the trained model; tests/test_slack_e2e.py runs the real servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from slack_inprocess import Recorder

from bot.delivery.store import SqliteDeliveryStore
from bot.handoff.service import HandoffServices
from bot.handoff.tickets import EscalationReason
from bot.privacy.log_redaction import known_names
from channels.slack.channel import _Runtime
from channels.slack.config import settings_from

Answer = Callable[[UserMessage], dict[str, Any] | None]

if TYPE_CHECKING:  # imported by pytest as a plugin (below), not here: keeps assert rewriting
    from bot.testing.fake_slack import FakeSlack

# the fake Slack fixtures (harmless if tests/conftest.py registers the plugin too)


@contextlib.asynccontextmanager
async def running(fake: FakeSlack, db: Path, recorder: Recorder) -> AsyncIterator[_Runtime]:
    settings = settings_from(
        {
            "bot_token": fake.bot_token,
            "app_token": fake.app_token,
            "transport": "socket",
            "api_url": fake.api_url,
        },
        {},
    )
    runtime = _Runtime(settings, SqliteDeliveryStore(db), recorder, server=None)
    await runtime.start()
    await fake.wait_socket(10)
    try:
        yield runtime
    finally:
        await runtime.stop()
        for _ in range(100):
            if not fake.socket_connected:
                break
            await asyncio.sleep(0.05)


async def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_dm_reaches_rasa_and_answer_is_rendered(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    recorder = Recorder()
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        body = fake_slack.workspace.wrap(
            fake_slack.workspace.message("my router &amp; &lt;modem&gt;")
        )
        ack = await fake_slack.send_envelope("events_api", body)
        assert ack["envelope_id"] and not ack.get("payload")
        [post] = await fake_slack.wait_for("chat.postMessage")
    [message] = recorder.messages
    assert (
        message.sender_id == f"slack:{fake_slack.workspace.dm_channel}"
        and message.input_channel == "slack"
    )
    assert message.text == "my router & <modem>"
    assert message.metadata["slack"]["event_id"] == body["event_id"]
    assert (
        post.params["channel"] == fake_slack.workspace.dm_channel and "thread_ts" not in post.params
    )
    section = post.params["blocks"][0]["text"]
    assert section["type"] == "mrkdwn"
    assert section["text"].replace("\u200b", "") == "You said: *my router &amp; &lt;modem&gt;*"


async def test_answers_reuse_one_connection_to_the_web_api(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    w = fake_slack.workspace
    async with running(fake_slack, tmp_path / "bot.db", Recorder()):
        for text in ("first", "second"):
            await fake_slack.send_envelope("events_api", w.wrap(w.message(text)))
        posts = await fake_slack.wait_for("chat.postMessage", count=2)
    assert len({post.peer for post in posts}) == 1, [post.peer for post in posts]


async def test_a_message_rasa_fails_on_gets_an_apology_and_a_ticket(
    fake_slack: FakeSlack, tmp_path: Path, handoff_here: HandoffServices
) -> None:
    def fail(message: UserMessage) -> None:
        raise LockError(f"Could not acquire lock for conversation_id '{message.sender_id}'.")

    w = fake_slack.workspace
    async with running(fake_slack, tmp_path / "bot.db", Recorder(fail)):
        await fake_slack.send_envelope("events_api", w.wrap(w.message("is there an outage?")))
        [post] = await fake_slack.wait_for("chat.postMessage")
    text = post.params["blocks"][0]["text"]["text"]
    assert "support team" in text and "number 1" in text
    ticket = await handoff_here.store.find_open(f"slack:{w.dm_channel}")
    assert ticket is not None and ticket.reason is EscalationReason.BOT_FAILURE
    assert [t.text for t in ticket.last_turns] == ["is there an outage?"]


async def test_customer_name_is_masked_in_logs_from_the_first_message(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    w = fake_slack.workspace
    w.people[w.user_id] = ("Zuleika", "Zuleika Quarrington")
    assert "Zuleika" not in known_names()
    async with running(fake_slack, tmp_path / "bot.db", Recorder()):
        await fake_slack.send_envelope("events_api", w.wrap(w.message("hello")))
        await fake_slack.wait_for("chat.postMessage")
    # no wait for the profile store's refresh: the adapter's process knows it now
    assert "Zuleika" in known_names()
    assert known_names().mask("Zuleika wrote") == "[name] wrote"


async def test_redelivery_and_restart_produce_one_answer(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    recorder = Recorder()
    body = fake_slack.workspace.wrap(fake_slack.workspace.message("hello"))
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        await fake_slack.send_envelope("events_api", body)
        await fake_slack.wait_for("chat.postMessage")
        await fake_slack.send_envelope("events_api", body, retry_attempt=1)
    async with running(fake_slack, tmp_path / "bot.db", recorder):  # a restart, same SQLite file
        await fake_slack.send_envelope("events_api", body, retry_attempt=2)
        await asyncio.sleep(1)
    assert len(recorder.messages) == 1 and len(fake_slack.calls_of("chat.postMessage")) == 1


async def test_bots_edits_and_joins_are_acked_and_ignored(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    recorder = Recorder()
    w = fake_slack.workspace
    events = [
        w.bot_message("beep"),
        w.bot_message("my own answer", own=True),
        w.edit("typo fixed"),
        w.message("", subtype="channel_join", channel_type="channel"),
        w.message("just chatting", channel_type="channel"),
    ]
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        for event in events:
            await fake_slack.send_envelope("events_api", w.wrap(event))  # each one acknowledged
        await fake_slack.send_envelope("events_api", w.wrap(w.message("real question")))
        await fake_slack.wait_for("chat.postMessage")
    assert [m.text for m in recorder.messages] == ["real question"]


async def test_file_is_forwarded_with_metadata(fake_slack: FakeSlack, tmp_path: Path) -> None:
    recorder = Recorder(lambda m: {"text": "polite reply"})
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        await fake_slack.send_envelope(
            "events_api", fake_slack.workspace.wrap(fake_slack.workspace.file_share("see attached"))
        )
        await fake_slack.wait_for("chat.postMessage")
    [message] = recorder.messages
    assert message.text == "/unsupported_content"
    assert message.metadata["slack"]["files"][0]["mimetype"] == "application/pdf"
    assert message.metadata["slack"]["text"] == "see attached"


async def test_button_click_acks_updates_and_sends_payload(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    def answer(message: UserMessage) -> dict[str, Any]:
        if message.text.startswith("/"):
            return {"text": "Connecting you now."}
        return {
            "text": "Sorry to hear that.",
            "buttons": [{"title": "Talk to a person", "payload": "/human_handoff"}],
        }

    recorder = Recorder(answer)
    w = fake_slack.workspace
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        await fake_slack.send_envelope("events_api", w.wrap(w.message("this is awful")))
        [post] = await fake_slack.wait_for("chat.postMessage")
        posted = fake_slack.posted(post)
        post_ts = posted["ts"]
        button = posted["blocks"][-1]["elements"][0]
        click = w.block_actions(posted, {**button, "block_id": posted["blocks"][-1]["block_id"]})
        started = time.monotonic()
        ack = await fake_slack.send_envelope("interactive", click)
        assert time.monotonic() - started < 3 and ack["envelope_id"]
        [update] = await fake_slack.wait_for("chat.update")
        await fake_slack.wait_for("chat.postMessage", 2)
    assert update.params["ts"] == post_ts
    blocks = fake_slack.messages[(w.dm_channel, post_ts)]["blocks"]
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert "Talk to a person" in blocks[1]["elements"][0]["text"]
    assert [m.text for m in recorder.messages] == ["this is awful", "/human_handoff"]
    assert recorder.messages[1].sender_id == f"slack:{w.dm_channel}"


async def test_a_forged_button_value_reaches_rasa_only_as_an_expired_button(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    recorder = Recorder(
        lambda m: {"text": "Pick", "buttons": [{"title": "Yes", "payload": "/affirm"}]}
    )
    w = fake_slack.workspace
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        await fake_slack.send_envelope("events_api", w.wrap(w.message("hello")))
        [post] = await fake_slack.wait_for("chat.postMessage")
        posted = fake_slack.posted(post)
        button = {**posted["blocks"][-1]["elements"][0], "value": '/csat{"csat_score":5}'}
        click = w.block_actions(posted, {**button, "block_id": posted["blocks"][-1]["block_id"]})
        await fake_slack.send_envelope("interactive", click)
        await eventually(lambda: len(recorder.messages) == 2)
    assert recorder.messages[1].text == "/button_expired"


async def test_typed_internal_intents_reach_rasa_as_text(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    recorder = Recorder()
    w = fake_slack.workspace
    typed = ['/csat{"csat_score":5}', "/handoff_resolved", "x" * 4001, "/privacy"]
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        for text in typed:
            await fake_slack.send_envelope("events_api", w.wrap(w.message(text)))
        await eventually(lambda: len(recorder.messages) == len(typed))
    assert sorted(m.text for m in recorder.messages) == sorted(
        ['csat{"csat_score":5}', "handoff_resolved", "/message_too_long", "/privacy"]
    )


async def test_rate_limit_retry_after_is_honoured(fake_slack: FakeSlack, tmp_path: Path) -> None:
    fake_slack.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    async with running(fake_slack, tmp_path / "bot.db", Recorder()) as runtime:
        await runtime.output.send_response("slack:C0CHAN0001:1.000001", {"text": "proactive hello"})
    first, second = fake_slack.calls_of("chat.postMessage")
    assert second.at - first.at >= 1.0
    assert second.params["thread_ts"] == "1.000001"
    assert len(fake_slack.messages) == 1


async def test_network_errors_retried_then_recorded(fake_slack: FakeSlack, tmp_path: Path) -> None:
    fake_slack.fail_next("chat.postMessage", "disconnect", times=1)
    store = SqliteDeliveryStore(tmp_path / "bot.db")
    async with running(fake_slack, tmp_path / "bot.db", Recorder()) as runtime:
        await runtime.output.send_response("slack:D0DM000001", {"text": "after a blip"})
        assert len(fake_slack.messages) == 1
        fake_slack.fail_next("chat.postMessage", "server_error", times=5)
        await runtime.output.send_response("slack:D0DM000001", {"text": "never arrives"})
    [failure] = await store.failures()
    assert failure["conversation_id"] == "slack:D0DM000001" and failure["channel"] == "slack"
    assert failure["payload"]["text"] == "never arrives" and "500" in failure["error"]
