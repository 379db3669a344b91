"""Signature verification, settings, conversation ids and event translation (pure units)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest

from bot.testing.slack_events import Workspace
from channels.slack.config import settings_from
from channels.slack.ids import Conversation, parse_sender_id
from channels.slack.inbound import (
    UNSUPPORTED_CONTENT,
    Ignored,
    Inbound,
    delivery_key,
    from_click,
    from_event,
    plain_text,
)
from channels.slack.transports import rejection

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
W = Workspace()


def signed(body: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def test_valid_signature_accepted() -> None:
    now = int(time.time())
    assert rejection(SECRET, b'{"a":1}', signed(b'{"a":1}', now)) is None


def test_slack_documented_example() -> None:
    # the example from https://api.slack.com/authentication/verifying-requests-from-slack
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    assert rejection(SECRET, body, headers, now=1531420618 + 10) is None
    assert rejection(SECRET, body + b"x", headers, now=1531420618 + 10) == "signature mismatch"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing signature headers"),
        ({"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": ""}, "missing signature headers"),
        (
            {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
            "malformed timestamp",
        ),
    ],
)
def test_missing_or_malformed_headers_rejected(headers: dict[str, str], reason: str) -> None:
    assert rejection(SECRET, b"{}", headers) == reason


def test_old_timestamp_rejected_even_when_correctly_signed() -> None:
    old = int(time.time()) - 5 * 60 - 5
    reason = rejection(SECRET, b"{}", signed(b"{}", old))
    assert reason is not None and "timestamp" in reason
    assert SECRET not in reason


def test_wrong_secret_rejected() -> None:
    assert (
        rejection(SECRET, b"{}", signed(b"{}", int(time.time()), "other")) == "signature mismatch"
    )


def test_settings_from_credentials_and_env() -> None:
    socket = settings_from({"bot_token": "xoxb-1", "app_token": "xapp-1"}, {})
    assert socket.transport == "socket" and socket.conversation_scope == "per-thread"
    http = settings_from(
        {"bot_token": "xoxb-1"}, {"SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://x/api"}
    )
    assert http.transport == "http" and http.api_url == "http://x/api/"
    assert "xoxb" not in repr(http) and "'s'" not in repr(http)
    with pytest.raises(ValueError, match="app-level token"):
        settings_from({"bot_token": "xoxb-1", "transport": "socket"}, {})
    with pytest.raises(ValueError, match="signing secret"):
        settings_from({"bot_token": "xoxb-1"}, {})
    with pytest.raises(ValueError, match="bot token"):
        settings_from({}, {})


def test_conversation_ids_round_trip() -> None:
    for conversation in (Conversation("D1"), Conversation("C1", "1700000000.000100")):
        assert parse_sender_id(conversation.sender_id) == conversation
    assert Conversation("C1", "1.2").sender_id == "slack:C1:1.2"
    with pytest.raises(ValueError):
        parse_sender_id("telegram:42")


def translate(event: dict[str, Any], scope: str = "per-thread") -> Inbound | Ignored:
    return from_event(event, W.wrap(event), bot_user_id=W.bot_user_id, scope=scope)  # type: ignore[arg-type]


def test_dm_and_dm_thread() -> None:
    dm = translate(W.message("I was charged twice &amp; <https://x.example|see>"))
    assert isinstance(dm, Inbound) and dm.conversation == Conversation(W.dm_channel)
    assert dm.text == "I was charged twice & see (https://x.example)"
    assert dm.metadata["slack"]["user"] == W.user_id
    threaded = translate(W.message("more", thread_ts="1.000001"))
    assert isinstance(threaded, Inbound) and threaded.conversation == Conversation(
        W.dm_channel, "1.000001"
    )
    per_user = translate(W.message("more", thread_ts="1.000001"), "per-dm-user")
    assert isinstance(per_user, Inbound) and per_user.conversation == Conversation(W.dm_channel)


def test_mentions_are_threaded_and_thread_replies_need_a_known_conversation() -> None:
    mention = W.mention("hello")
    inbound = translate(mention)
    assert isinstance(inbound, Inbound) and inbound.text == "hello"
    assert inbound.conversation == Conversation(W.channel, mention["ts"])
    reply = translate(
        W.message("and another thing", channel_type="channel", thread_ts=mention["ts"])
    )
    assert isinstance(reply, Inbound) and reply.only_if_known
    assert reply.conversation == inbound.conversation
    assert isinstance(
        translate(W.message(f"<@{W.bot_user_id}> hi", channel_type="channel")), Ignored
    )
    assert isinstance(translate(W.message("chatter", channel_type="channel")), Ignored)


@pytest.mark.parametrize(
    "event",
    [
        W.bot_message("beep"),
        W.bot_message("me", own=True),
        W.edit("fixed"),
        W.message("", subtype="channel_join"),
    ],
)
def test_bots_edits_and_joins_ignored(event: dict[str, Any]) -> None:
    assert isinstance(translate(event), Ignored)


def test_files_become_unsupported_content_with_metadata() -> None:
    inbound = translate(W.file_share("here is my bill"))
    assert isinstance(inbound, Inbound) and inbound.text == UNSUPPORTED_CONTENT
    slack = inbound.metadata["slack"]
    assert slack["files"][0]["name"] == "bill.pdf" and slack["text"] == "here is my bill"


def test_click_and_delivery_keys() -> None:
    posted = {"channel": W.dm_channel, "ts": "1.000009", "text": "Pick", "blocks": []}
    action = {
        "type": "button",
        "action_id": "rasa_button:0",
        "block_id": "rasa_buttons:0",
        "text": {"type": "plain_text", "text": "Talk to a person"},
        "value": "/human_handoff",
    }
    body = W.block_actions(posted, action)
    result = from_click(body)
    assert not isinstance(result, Ignored)
    inbound, title = result
    assert (inbound.text, title, inbound.conversation) == (
        "/human_handoff",
        "Talk to a person",
        Conversation(W.dm_channel),
    )
    assert delivery_key(body) == f"slack:action:1.000009:{body['actions'][0]['action_ts']}"
    wrapped = W.wrap(W.message("hi"), event_id="Ev1")
    assert delivery_key(wrapped) == "slack:event:Ev1"
    assert delivery_key({"type": "url_verification"}) is None
    assert plain_text(f"<@{W.bot_user_id}> hi <#C1|general>", W.bot_user_id) == "hi general"
