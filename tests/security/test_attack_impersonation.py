"""Impersonation: a REST client posing as a Telegram customer, a forged tracker posted to the
action server, a REST call without its token. The victim's profile survives and nothing of
it is shown."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from attacker import (
    REST_PATH,
    bearer,
    reply_texts,
    request,
    rest_conversation_id,
    say,
    tracker,
    user_events,
)

from bot.profiles.model import Visit
from bot.profiles.sqlite_store import SqliteProfileStore
from bot.testing.servers import RunningBot

pytestmark = pytest.mark.e2e
VICTIM_NAME = "Victoria"


async def victim_profile(bot: RunningBot, chat_id: int) -> str:
    """A Telegram customer the bot knows (profile in the bot's database); their identity."""
    identity = f"telegram:{chat_id}"
    store = SqliteProfileStore(bot.state / "bot.db")
    try:
        await store.record_visit(Visit(identity, identity, VICTIM_NAME, datetime.now(timezone.utc)))
    finally:
        await store.close()
    return identity


async def profile_exists(state: Path, identity: str) -> bool:
    store = SqliteProfileStore(state / "bot.db")
    try:
        return await store.get(identity) is not None
    finally:
        await store.close()


def forged_forget_me(identity: str) -> dict[str, Any]:
    """What Rasa would post to run forget-me right after the customer confirmed it."""
    now = time.time()
    return {
        "next_action": "action_forget_me",
        "sender_id": identity,
        "version": "3.6.21",
        "domain": {"responses": {}},
        "tracker": {
            "sender_id": identity,
            "slots": {},
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}, "metadata": {}},
            "latest_event_time": now,
            "followup_action": None,
            "paused": False,
            "events": [
                {"event": "action", "name": "action_listen", "timestamp": now - 2},
                {
                    "event": "bot",
                    "text": "Delete everything?",
                    "metadata": {"utter_action": "utter_ask_forget_me"},
                    "timestamp": now - 1,
                },
                {"event": "user", "text": "yes", "parse_data": {}, "timestamp": now},
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
    }


async def test_rest_cannot_read_a_telegram_customers_privacy_report(rest_bot: RunningBot) -> None:
    identity = await victim_profile(rest_bot, 700001)
    replies = await say(rest_bot, identity, "/privacy")
    assert VICTIM_NAME not in reply_texts(replies)
    assert user_events(await tracker(rest_bot, identity)) == []  # never entered their chat


async def test_rest_cannot_erase_a_telegram_customer(rest_bot: RunningBot) -> None:
    identity = await victim_profile(rest_bot, 700002)
    await say(rest_bot, identity, "/forget_me")
    await say(rest_bot, identity, "/forget_me_confirm")
    assert await profile_exists(rest_bot.state, identity)
    assert user_events(await tracker(rest_bot, identity)) == []


async def test_rest_senders_are_namespaced(rest_bot: RunningBot) -> None:
    await say(rest_bot, "slack:D0VICTIM01", "hello from the attacker")
    stored = await tracker(rest_bot, rest_conversation_id("slack:D0VICTIM01"))
    assert [e["text"] for e in user_events(stored)] == ["hello from the attacker"]
    assert user_events(await tracker(rest_bot, "slack:D0VICTIM01")) == []


async def test_rest_needs_its_token(rest_bot: RunningBot) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        answer = await request(
            "POST",
            rest_bot.rasa_url + REST_PATH,
            headers=headers,
            json_body={"sender": "no-token", "message": "hello"},
        )
        assert answer.status == 401
    for conversation in (rest_conversation_id("no-token"), "no-token"):
        assert user_events(await tracker(rest_bot, conversation)) == []


async def test_a_forged_tracker_cannot_erase_a_profile(rest_bot: RunningBot) -> None:
    identity = await victim_profile(rest_bot, 700003)
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        answer = await request(
            "POST",
            f"{rest_bot.actions_url}/webhook",
            headers=headers,
            json_body=forged_forget_me(identity),
        )
        assert answer.status == 401
        assert "utter_forget_me" not in answer.text
    assert await profile_exists(rest_bot.state, identity)


async def test_the_action_server_health_stays_open(rest_bot: RunningBot) -> None:
    answer = await request("GET", f"{rest_bot.actions_url}/health")
    assert answer.status == 200


async def test_the_action_server_accepts_rasa_with_the_token(rest_bot: RunningBot) -> None:
    """The shared secret lets the real caller in (a harmless action: nothing to erase)."""
    body = forged_forget_me("telegram:700004")
    body["tracker"]["events"] = body["tracker"]["events"][:1]  # never asked: it only asks
    answer = await request(
        "POST",
        f"{rest_bot.actions_url}/webhook",
        headers=bearer(rest_bot, "action_server"),
        json_body=body,
    )
    assert answer.status == 200, answer.text[:300]
