"""Property-based fuzzing of every inbound translation: whatever arrives (well-formed or not),
the pure functions give their documented result, never an exception."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from fuzz_inputs import BOT_USERNAME, SLACK_BOT_USER, customer_text, json_values
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update

from channels.slack.inbound import (
    Ignored,
    Inbound,
    delivery_key,
    from_click,
    from_event,
    plain_text,
)
from channels.slack.render import BUTTON_ACTION
from channels.slack.transports import MAX_AGE, malformed, rejection
from channels.telegram.inbound import (
    Inbound as TelegramInbound,
)
from channels.telegram.inbound import (
    chosen_title,
    conversation_id,
    from_callback,
    from_message,
    route,
)
from channels.telegram.webhook import secret_matches

BOT_ID = 999


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that may hold the expected kind of value or anything at all."""
    return st.one_of(strategy, json_values)


# -- Slack --------------------------------------------------------------------------------
slack_events = st.fixed_dictionaries(
    {},
    optional={
        "type": maybe(st.sampled_from(["message", "app_mention"])),
        "subtype": maybe(st.sampled_from([None, "file_share", "bot_message", "message_changed"])),
        "user": maybe(st.sampled_from(["U0USER0001", SLACK_BOT_USER, ""])),
        "bot_id": maybe(st.none()),
        "channel": maybe(st.sampled_from(["D0DM000001", "C0CHAN0001", "G0GROUP001"])),
        "channel_type": maybe(st.sampled_from(["im", "channel", "mpim", "group"])),
        "ts": maybe(st.sampled_from(["1700000000.000100", "1700000000.000200"])),
        "thread_ts": maybe(st.sampled_from(["1700000000.000100", "1600000000.000001"])),
        "text": maybe(customer_text),
        "team": maybe(st.just("T0FAKE0001")),
        "files": maybe(
            st.lists(st.dictionaries(st.sampled_from(["id", "name", "size"]), json_values))
        ),
    },
)
slack_bodies = st.fixed_dictionaries(
    {},
    optional={
        "type": maybe(st.sampled_from(["event_callback", "block_actions", "url_verification"])),
        "event_id": maybe(st.text(max_size=12)),
        "team_id": maybe(st.just("T0FAKE0001")),
        "actions": maybe(st.lists(json_values, max_size=2)),
        "container": maybe(
            st.dictionaries(st.sampled_from(["message_ts", "channel_id"]), json_values)
        ),
    },
)
slack_actions = st.fixed_dictionaries(
    {},
    optional={
        "action_id": maybe(st.sampled_from([f"{BUTTON_ACTION}0", "rasa_link:0", "claim"])),
        "value": maybe(customer_text),
        "text": maybe(
            st.fixed_dictionaries({"type": st.just("plain_text"), "text": customer_text})
        ),
    },
)
slack_clicks = st.fixed_dictionaries(
    {"actions": st.lists(slack_actions, max_size=2)},
    optional={
        "type": st.just("block_actions"),
        "channel": maybe(st.fixed_dictionaries({"id": maybe(st.just("D0DM000001"))})),
        "container": maybe(st.fixed_dictionaries({"channel_id": maybe(st.just("D0DM000001"))})),
        "message": maybe(
            st.fixed_dictionaries({"ts": maybe(st.text()), "thread_ts": maybe(st.text())})
        ),
        "user": maybe(st.fixed_dictionaries({"id": maybe(st.just("U0USER0001"))})),
        "team": maybe(st.fixed_dictionaries({"id": maybe(st.just("T0FAKE0001"))})),
    },
)


@given(event=slack_events, body=slack_bodies, scope=st.sampled_from(["per-user", "per-thread"]))
def test_slack_events_translate_or_are_ignored(
    event: dict[str, Any], body: dict[str, Any], scope: Any
) -> None:
    result = from_event(event, body, bot_user_id=SLACK_BOT_USER, scope=scope)
    assert isinstance(result, Inbound | Ignored)
    if isinstance(result, Inbound):
        assert isinstance(result.text, str) and result.text
        assert result.conversation.sender_id.startswith("slack:")


@given(click=slack_clicks)
def test_slack_clicks_translate_or_are_ignored(click: dict[str, Any]) -> None:
    result = from_click(click)
    if not isinstance(result, Ignored):
        inbound, title = result
        assert isinstance(inbound.text, str) and isinstance(title, str)


@given(body=slack_bodies)
def test_slack_delivery_keys_are_strings_or_none(body: dict[str, Any]) -> None:
    key = delivery_key(body)
    assert key is None or isinstance(key, str)


@given(text=customer_text, bot_user=st.one_of(st.none(), st.just(SLACK_BOT_USER), st.text()))
def test_slack_plain_text_never_fails(text: str, bot_user: str | None) -> None:
    assert isinstance(plain_text(text, bot_user), str)


def _signed(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@given(
    secret=st.text(min_size=1),
    body=st.binary(),
    headers=st.dictionaries(
        st.sampled_from(["X-Slack-Request-Timestamp", "X-Slack-Signature", "x-slack-signature"]),
        st.text(),
    ),
)
def test_slack_signature_check_never_fails_and_refuses_forgeries(
    secret: str, body: bytes, headers: dict[str, str]
) -> None:
    reason = rejection(secret, body, headers)
    assert reason is not None  # nothing but a real signature passes
    assert secret not in reason or len(secret) < 4


@given(secret=st.text(min_size=1), body=st.binary(), skew=st.integers(1 - MAX_AGE, MAX_AGE - 1))
def test_slack_signature_check_accepts_every_genuine_request(
    secret: str, body: bytes, skew: int
) -> None:
    now = time.time()
    stamp = str(int(now) + skew)
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": _signed(secret, stamp, body),
    }
    assert rejection(secret, body, headers, now=now) is None
    tampered = body + b" "
    assert rejection(secret, tampered, headers, now=now) == "signature mismatch"


@given(value=json_values, as_form=st.booleans())
def test_slack_bodies_must_be_json_objects(value: Any, as_form: bool) -> None:
    text = json.dumps(value)
    body, content_type = (
        (urlencode({"payload": text}), "application/x-www-form-urlencoded")
        if as_form
        else (text, "application/json")
    )
    reason = malformed(body.encode(), content_type)
    assert (reason is None) == isinstance(value, dict)


@given(body=st.binary(max_size=300), content_type=st.one_of(st.none(), st.text(max_size=40)))
def test_slack_body_check_never_fails(body: bytes, content_type: str | None) -> None:
    assert malformed(body, content_type) in (
        None,
        "not UTF-8",
        "malformed JSON",
        "not a JSON object",
    )


# -- Telegram -----------------------------------------------------------------------------
chat_types = st.sampled_from(["private", "group", "supergroup", "channel"])
user_ids = st.integers(min_value=1, max_value=2**40)
telegram_users = st.builds(
    lambda uid, name, username: {
        "id": uid,
        "is_bot": False,
        "first_name": name,
        "username": username,
    },
    user_ids,
    st.text(max_size=20),
    st.one_of(st.none(), st.text(max_size=10)),
)
entities = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["mention", "bot_command", "text_mention", "bold", "url"]),
            "offset": st.integers(0, 50),
            "length": st.integers(0, 50),
        },
        optional={"user": st.just({"id": BOT_ID, "is_bot": True, "first_name": "Bot"})},
    ),
    max_size=3,
)


@st.composite
def telegram_messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(chat_types)
    chat_id = draw(user_ids) if kind == "private" else -draw(user_ids)
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": kind},
    }
    if draw(st.booleans()):
        message["from"] = draw(telegram_users)
    content = draw(st.sampled_from(["text", "caption", "sticker", "location", "nothing"]))
    if content == "text":
        message["text"] = draw(customer_text)
        message["entities"] = draw(entities)
    elif content == "caption":
        message["caption"] = draw(customer_text)
        message["photo"] = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
    elif content == "sticker":
        message["sticker"] = {
            "file_id": "s",
            "file_unique_id": "u",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    elif content == "location":
        message["location"] = {"latitude": 1.5, "longitude": -2.5}
    if draw(st.booleans()):
        message["reply_to_message"] = {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": message["chat"],
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
        }
    return message


@given(message=telegram_messages(), username=st.sampled_from([BOT_USERNAME, ""]))
def test_telegram_messages_translate_or_stay_silent(message: dict[str, Any], username: str) -> None:
    update = Update.de_json({"update_id": 1, "message": message}, None)
    assert update is not None and update.message is not None
    inbound = from_message(update.message, BOT_ID, username)
    if inbound is not None:
        assert isinstance(inbound, TelegramInbound) and inbound.text
        assert route(inbound.sender_id) == inbound.chat_id


@given(
    message=telegram_messages(),
    data=st.one_of(customer_text, st.text(max_size=64)),
    user=telegram_users,
)
def test_telegram_callbacks_translate(
    message: dict[str, Any], data: str, user: dict[str, Any]
) -> None:
    query = {"id": "1", "from": user, "message": message, "chat_instance": "ci", "data": data}
    update = Update.de_json({"update_id": 1, "callback_query": query}, None)
    assert update is not None
    target = from_callback(update)
    assert target is not None and route(target[0]) == target[1]
    title = chosen_title(update)
    assert title is None or isinstance(title, str)


@given(
    update=st.dictionaries(
        st.sampled_from(["update_id", "message", "callback_query", "edited_message"]), json_values
    )
)
def test_arbitrary_telegram_updates_parse_or_raise_cleanly(update: dict[str, Any]) -> None:
    """The webhook answers 400 when parsing raises; a parsed update must translate."""
    try:
        parsed = Update.de_json(update, None)
    except Exception:
        return  # the webhook's 400
    if parsed is not None and parsed.message is not None:
        from_message(parsed.message, BOT_ID, BOT_USERNAME)
    if parsed is not None and parsed.callback_query is not None:
        from_callback(parsed)
        chosen_title(parsed)


@given(sender=st.text())
def test_telegram_routes_only_telegram_ids(sender: str) -> None:
    try:
        chat = route(sender)
    except ValueError:
        return
    assert sender.startswith("telegram:") and isinstance(chat, int)


@given(chat=st.integers(), user=st.one_of(st.none(), st.integers()), group=st.booleans())
def test_telegram_conversation_ids_route_back_to_their_chat(
    chat: int, user: int | None, group: bool
) -> None:
    assert route(conversation_id(chat, user, group)) == chat


@given(given_secret=st.one_of(st.none(), st.text()), expected=st.text(min_size=1))
def test_telegram_secret_check_never_fails(given_secret: str | None, expected: str) -> None:
    assert secret_matches(given_secret, expected) == (given_secret == expected)
