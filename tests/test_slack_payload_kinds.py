"""Every kind of request Slack sends gets a 200, and the ones a customer means get an answer:
events without a listener, rate-limit notices, foreign interactions, a revoked token, a bare
mention, a /me emote and the slash commands (in-process over HTTP, Rasa recorded)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from channels.slack.inbound import SLASH_COMMANDS
from tests.slack_inprocess import Recorder, deliver, eventually, http_runtime

if TYPE_CHECKING:
    from bot.testing.fake_slack import FakeSlack

PROJECT = Path(__file__).resolve().parents[1]


async def test_events_without_a_listener_are_acknowledged_quietly(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = fake_slack.workspace
    events = [
        {
            "type": "reaction_added",
            "user": w.user_id,
            "reaction": "thumbsup",
            "item_user": w.bot_user_id,
            "item": {"type": "message", "channel": w.dm_channel, "ts": "1700000000.000100"},
            "event_ts": "1700000001.000200",
        },
        {
            "type": "member_joined_channel",
            "user": w.user_id,
            "channel": w.channel,
            "channel_type": "C",
            "team": w.team_id,
            "event_ts": "1700000001.000300",
        },
        {
            "type": "app_home_opened",
            "user": w.user_id,
            "channel": w.dm_channel,
            "tab": "messages",
            "event_ts": "1700000001.000400",
        },
        {
            "type": "team_join",
            "user": {"id": "U0NEW00001", "team_id": w.team_id, "name": "newbie"},
            "event_ts": "1700000001.000500",
        },
    ]
    recorder = Recorder()
    caplog.set_level(logging.DEBUG)
    async with http_runtime(fake_slack, tmp_path / "bot.db", recorder) as runtime:
        for event in events:
            response = await deliver(fake_slack, runtime, w.wrap(event))
            assert response.status == 200, (event["type"], response.body)
    assert recorder.messages == [] and not fake_slack.calls_of("chat.postMessage")
    assert "[Suggestion]" not in caplog.text
    assert "does not handle: event_callback/reaction_added" in caplog.text


async def test_rate_limit_notice_is_logged_with_its_minute(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = fake_slack.workspace
    body = {
        "token": "fake-verification-token",
        "type": "app_rate_limited",
        "team_id": w.team_id,
        "minute_rate_limited": 1518467820,
        "api_app_id": w.app_id,
    }
    async with http_runtime(fake_slack, tmp_path / "bot.db", Recorder()) as runtime:
        response = await deliver(fake_slack, runtime, body)
    assert response.status == 200
    [warning] = [
        r for r in caplog.records if r.levelno == logging.WARNING and "rate-limited" in r.message
    ]
    assert "1518467820" in warning.message


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "shortcut", "callback_id": "open_ticket", "trigger_id": "1.2", "action_ts": "1.3"},
        {
            "type": "message_action",
            "callback_id": "save",
            "trigger_id": "1.2",
            "action_ts": "1.3",
            "channel": {"id": "C0CHAN0001"},
            "message": {"type": "message", "text": "hi", "ts": "1.1"},
        },
        {
            "type": "view_submission",
            "trigger_id": "1.2",
            "view": {
                "id": "V0VIEW0001",
                "type": "modal",
                "callback_id": "feedback",
                "state": {"values": {}},
            },
        },
        {
            "type": "block_actions",
            "trigger_id": "1.2",
            "container": {"type": "view", "view_id": "V0VIEW0001"},
            "view": {"id": "V0VIEW0001", "type": "modal", "callback_id": "feedback"},
            "actions": [
                {"type": "static_select", "action_id": "pick", "block_id": "b1", "action_ts": "1.4"}
            ],
        },
    ],
    ids=["global shortcut", "message shortcut", "view submission", "modal block action"],
)
async def test_interactions_the_bot_does_not_own_are_acknowledged(
    fake_slack: FakeSlack, tmp_path: Path, payload: dict[str, object]
) -> None:
    w = fake_slack.workspace
    body = {
        "team": {"id": w.team_id, "domain": "fake"},
        "api_app_id": w.app_id,
        "user": {"id": w.user_id, "team_id": w.team_id},
        "token": "fake-verification-token",
        **payload,
    }
    recorder = Recorder()
    async with http_runtime(fake_slack, tmp_path / "bot.db", recorder) as runtime:
        response = await deliver(fake_slack, runtime, body, form="payload")
    assert response.status == 200 and recorder.messages == []


async def test_a_revoked_token_stops_the_slack_side(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = fake_slack.workspace
    revoked = {
        "type": "tokens_revoked",
        "tokens": {"oauth": [], "bot": [w.bot_user_id]},
        "event_ts": "1700000002.000100",
    }
    recorder = Recorder()
    async with http_runtime(fake_slack, tmp_path / "bot.db", recorder) as runtime:
        assert (await deliver(fake_slack, runtime, w.wrap(revoked))).status == 200
        await eventually(lambda: runtime.revoked == "tokens_revoked")
        assert (
            await deliver(fake_slack, runtime, w.wrap({**revoked, "event_ts": "2.0"}))
        ).status == 200
        assert (await deliver(fake_slack, runtime, w.wrap(w.message("hello?")))).status == 200
        await runtime.output.send_response(f"slack:{w.dm_channel}", {"text": "a reminder"})
        failures = await runtime.store.failures()
    assert not fake_slack.calls_of("chat.postMessage") and recorder.messages == []
    assert [f["error"] for f in failures] == ["tokens_revoked"]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1  # logged once


async def test_user_tokens_revoked_keeps_the_bot_working(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    w = fake_slack.workspace
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U0USER0001"]}, "event_ts": "1.5"}
    async with http_runtime(fake_slack, tmp_path / "bot.db", Recorder()) as runtime:
        await deliver(fake_slack, runtime, w.wrap(revoked))
        await deliver(fake_slack, runtime, w.wrap(w.message("hello")))
        await fake_slack.wait_for("chat.postMessage")
        assert runtime.revoked is None


async def test_app_uninstalled_stops_the_slack_side(fake_slack: FakeSlack, tmp_path: Path) -> None:
    w = fake_slack.workspace
    async with http_runtime(fake_slack, tmp_path / "bot.db", Recorder()) as runtime:
        await deliver(fake_slack, runtime, w.wrap({"type": "app_uninstalled", "event_ts": "1.6"}))
        await eventually(lambda: runtime.revoked == "app_uninstalled")


async def test_a_bare_mention_is_a_hello_answered_in_its_thread(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    w = fake_slack.workspace
    recorder = Recorder()
    async with http_runtime(fake_slack, tmp_path / "bot.db", recorder) as runtime:
        mention = w.mention("")
        await deliver(fake_slack, runtime, w.wrap(mention))
        [post] = await fake_slack.wait_for("chat.postMessage")
    [message] = recorder.messages
    assert message.text == "/greet" and message.metadata["slack"]["bare_mention"] is True
    assert post.params["thread_ts"] == mention["ts"] and post.params["channel"] == w.channel


async def test_a_me_emote_is_greeted(fake_slack: FakeSlack, tmp_path: Path) -> None:
    w = fake_slack.workspace
    recorder = Recorder()
    async with http_runtime(fake_slack, tmp_path / "bot.db", recorder) as runtime:
        await deliver(fake_slack, runtime, w.wrap(w.message("waves", subtype="me_message")))
        await fake_slack.wait_for("chat.postMessage")
    [message] = recorder.messages
    assert message.text == "/greet" and message.metadata["slack"]["emote"] == "waves"
    assert message.sender_id == f"slack:{w.dm_channel}"


@pytest.mark.parametrize(
    ("command", "rasa_receives"),
    [
        ("/privacy", "/privacy"),
        ("/forgetme", "/forget_me"),
        ("/human", "/human_handoff"),
        ("/restart", "/restart"),
    ],
)
async def test_slash_commands_reach_rasa_translated_and_are_answered_in_the_dm(
    fake_slack: FakeSlack, tmp_path: Path, command: str, rasa_receives: str
) -> None:
    w = fake_slack.workspace
    recorder = Recorder()
    fields = w.slash_command(command, channel_id=w.channel, channel_name="general")
    async with http_runtime(fake_slack, tmp_path / "bot.db", recorder) as runtime:
        response = await deliver(fake_slack, runtime, fields, form="fields")
        [post] = await fake_slack.wait_for("chat.postMessage")
    assert response.status == 200 and not response.body  # nothing shown in the channel
    [message] = recorder.messages
    assert message.text == rasa_receives and message.sender_id == f"slack:{w.dm_channel}"
    assert message.metadata["slack"]["command"] == command
    assert message.metadata["slack"]["invoked_in"] == w.channel
    assert post.params["channel"] == w.dm_channel and "thread_ts" not in post.params


def test_the_manifest_declares_the_registered_commands_and_events() -> None:
    manifest = yaml.safe_load((PROJECT / "channels/slack/manifest.yml").read_text())
    declared = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert sorted(declared) == sorted(f"/{name}" for name in SLASH_COMMANDS)
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_uninstalled", "tokens_revoked"} <= events
    assert {"commands", "im:write", "chat:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])


async def test_socket_mode_acknowledges_an_event_without_a_listener(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_slack_channel import Recorder as SocketRecorder
    from tests.test_slack_channel import running

    w = fake_slack.workspace
    reaction = {"type": "reaction_added", "user": w.user_id, "reaction": "tada", "event_ts": "1.7"}
    reaction["item"] = {"type": "message", "channel": w.dm_channel, "ts": "1.1"}
    recorder = SocketRecorder()
    async with running(fake_slack, tmp_path / "bot.db", recorder):
        ack = await fake_slack.send_envelope("events_api", w.wrap(reaction))
    assert ack["envelope_id"] and recorder.messages == []
    assert "[Suggestion]" not in caplog.text
