"""End to end over the HTTP Events API: fake Slack -> Rasa server (trained model) -> fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
import pytest_asyncio

from bot.testing.servers import DEFAULT_MODEL, RunningBot
from bot.testing.slack_bot import (
    events_url,
    is_rendered_variant,
    rendered_variants,
    running_slack_bot,
    settle,
    text_of,
)

pytestmark = pytest.mark.e2e

if TYPE_CHECKING:  # imported by pytest as a plugin (below), not here: keeps assert rewriting
    from bot.testing.fake_slack import FakeSlack

# the fake Slack fixtures (harmless if tests/conftest.py registers the plugin too)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def http_bot(fake_slack_server: FakeSlack) -> AsyncIterator[RunningBot]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    async with running_slack_bot(fake_slack_server, "http") as bot:
        yield bot


async def test_url_verification(http_bot: RunningBot, fake_slack: FakeSlack) -> None:
    body = {
        "token": "fake-verification-token",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    status, text = await fake_slack.post_event(events_url(http_bot), body)
    assert status == 200 and body["challenge"] in text


@pytest.mark.parametrize("tamper", ["bad signature", "old timestamp", "no headers"])
async def test_unsigned_or_stale_requests_rejected(
    http_bot: RunningBot, fake_slack: FakeSlack, tamper: str
) -> None:
    w = fake_slack.workspace
    body = w.wrap(w.message("/greet"))
    if tamper == "bad signature":
        status, _ = await fake_slack.post_event(events_url(http_bot), body, secret="not-the-secret")
    elif tamper == "old timestamp":
        status, _ = await fake_slack.post_event(
            events_url(http_bot), body, timestamp=int(time.time()) - 301
        )
    else:
        async with (
            aiohttp.ClientSession() as session,
            session.post(events_url(http_bot), json=body) as response,
        ):
            status = response.status
    assert status == 401
    await settle(fake_slack, 0, 1.5)
    log = (http_bot.state / "rasa.log").read_text()
    assert "rejected a Slack request" in log and fake_slack.signing_secret not in log


async def test_dm_answer_is_formatted(http_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    status, _ = await fake_slack.post_event(
        events_url(http_bot), w.wrap(w.message("/chitchat_capabilities"))
    )
    assert status == 200
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == w.dm_channel and "thread_ts" not in answer.params
    assert text_of(answer) in rendered_variants("utter_capabilities")
    assert "• *Billing*: paying" in text_of(answer)


async def test_mention_is_answered_in_thread_and_thread_continues(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    mention = w.mention("/greet")
    await fake_slack.post_event(events_url(http_bot), w.wrap(mention))
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert (answer.params["channel"], answer.params["thread_ts"]) == (w.channel, mention["ts"])
    assert is_rendered_variant(text_of(answer), "utter_greet")
    reply = w.message("are you a bot?", channel_type="channel", thread_ts=mention["ts"])
    await fake_slack.post_event(events_url(http_bot), w.wrap(reply))
    second = (await fake_slack.wait_for("chat.postMessage", 2))[1]
    assert second.params["thread_ts"] == mention["ts"] and text_of(second) in rendered_variants(
        "utter_iamabot"
    )
    stranger = w.message("/greet", channel_type="channel", thread_ts="1600000000.000001")
    await fake_slack.post_event(events_url(http_bot), w.wrap(stranger))
    await settle(fake_slack, 2)


async def test_button_click_flow(http_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    # its own DM: the "Talk to a person" click really hands the conversation to a person
    # (paused until an agent resolves it), which must not silence the other tests
    dm = w.new_dm_channel()
    await fake_slack.post_event(
        events_url(http_bot), w.wrap(w.message("this is useless", channel=dm))
    )
    [offer] = await fake_slack.wait_for("chat.postMessage")
    posted = fake_slack.posted(offer)
    row = posted["blocks"][-1]
    assert row["type"] == "actions" and row["elements"][0]["value"].startswith("/human_handoff~")
    click = w.block_actions(posted, {**row["elements"][0], "block_id": row["block_id"]})
    status, _, seconds = await fake_slack.post_interaction(events_url(http_bot), click)
    assert status == 200 and seconds < 3
    [update] = await fake_slack.wait_for("chat.update")
    blocks = update.params["blocks"]
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert "Talk to a person" in blocks[1]["elements"][0]["text"]
    answer = (await fake_slack.wait_for("chat.postMessage", 2))[1]  # the handoff flow answers
    assert answer.params["channel"] == dm and text_of(answer)
    tracker = await _tracker(http_bot, f"slack:{dm}")
    [clicked] = [
        e for e in tracker["events"] if e["event"] == "user" and e["text"] == "/human_handoff"
    ]
    assert clicked["parse_data"]["intent"]["name"] == "human_handoff"
    assert clicked["metadata"]["slack"]["action"]["title"] == "Talk to a person"


async def test_retries_and_duplicates_answered_once(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    body = w.wrap(w.message("/greet"))
    assert (await fake_slack.post_event(events_url(http_bot), body))[0] == 200
    await fake_slack.wait_for("chat.postMessage")
    for retry in (1, 2):
        assert (await fake_slack.post_event(events_url(http_bot), body, retry_num=retry))[0] == 200
    same_again = json.loads(json.dumps(body))  # a redelivery without the retry header
    assert (await fake_slack.post_event(events_url(http_bot), same_again))[0] == 200
    await fake_slack.post_event(events_url(http_bot), w.wrap(w.message("/greet")))  # a new one
    await fake_slack.wait_for("chat.postMessage", 2)
    await settle(fake_slack, 2, 1.5)


async def test_file_gets_polite_reply(http_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    event = w.file_share("here is the bill")
    await fake_slack.post_event(events_url(http_bot), w.wrap(event))
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert text_of(answer) in rendered_variants("utter_unsupported_content")
    tracker = await _tracker(http_bot, f"slack:{w.dm_channel}")
    [user] = [
        e
        for e in tracker["events"]
        if e["event"] == "user" and e.get("metadata", {}).get("slack", {}).get("ts") == event["ts"]
    ]
    assert user["metadata"]["slack"]["files"][0]["name"] == "bill.pdf"


async def test_bot_messages_edits_and_joins_ignored(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    for event in (
        w.bot_message("/greet"),
        w.bot_message("/greet", own=True),
        w.edit("/greet"),
        w.message("", subtype="channel_join", channel_type="channel"),
    ):
        assert (await fake_slack.post_event(events_url(http_bot), w.wrap(event)))[0] == 200
    await fake_slack.post_event(events_url(http_bot), w.wrap(w.message("/greet")))  # answered
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert is_rendered_variant(text_of(answer), "utter_greet")
    await settle(fake_slack, 1, 1.5)


async def test_rate_limit_retry_after_honoured(http_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    fake_slack.fail_next("chat.postMessage", "ratelimited", retry_after=2)
    await fake_slack.post_event(events_url(http_bot), w.wrap(w.message("/greet")))
    first, second = await fake_slack.wait_for("chat.postMessage", 2)
    assert second.at - first.at >= 2.0
    assert len(fake_slack.messages) == 1 and is_rendered_variant(text_of(second), "utter_greet")


async def test_proactive_message_routed_from_conversation_id(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    conversation = "slack:C0CHAN0001:1700000000.000200"
    url = f"{http_bot.rasa_url}/conversations/{conversation}/trigger_intent?output_channel=slack"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"name": "greet"}, params=http_bot.api_params) as response,
    ):
        assert response.status == 200, await response.text()
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert (answer.params["channel"], answer.params["thread_ts"]) == (
        "C0CHAN0001",
        "1700000000.000200",
    )
    assert is_rendered_variant(text_of(answer), "utter_greet")


async def _tracker(bot: RunningBot, conversation: str) -> dict[str, Any]:
    url = f"{bot.rasa_url}/conversations/{conversation}/tracker"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params=bot.api_params) as response,
    ):
        return dict(await response.json())


async def test_privacy_slash_command_as_slack_sends_it(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    """A signed form-encoded slash command, typed in a channel: an empty 200 at once, the
    answer in the customer's DM (not "/privacy is not a valid command")."""
    w = fake_slack.workspace
    fields = w.slash_command("/privacy", channel_id=w.channel, channel_name="general")
    status, body = await fake_slack.post_command(events_url(http_bot), fields)
    assert status == 200 and body == ""
    answers = await fake_slack.wait_for("chat.postMessage")
    assert all(a.params["channel"] == w.dm_channel for a in answers)
    assert is_rendered_variant(text_of(answers[0]), "utter_privacy_nothing") or any(
        is_rendered_variant(text_of(a), "utter_privacy_options") for a in answers
    )


async def test_a_bare_mention_is_greeted_in_its_thread(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    mention = w.mention("")
    status, _ = await fake_slack.post_event(events_url(http_bot), w.wrap(mention))
    assert status == 200
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert answer.params["thread_ts"] == mention["ts"]
    assert is_rendered_variant(text_of(answer), "utter_greet")


async def test_a_reaction_is_acknowledged_and_not_answered(
    http_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    reaction = {
        "type": "reaction_added",
        "user": w.user_id,
        "reaction": "thumbsup",
        "item": {"type": "message", "channel": w.dm_channel, "ts": "1700000000.000100"},
        "event_ts": "1700000001.000200",
    }
    status, _ = await fake_slack.post_event(events_url(http_bot), w.wrap(reaction))
    assert status == 200
    await settle(fake_slack, 0, 1.5)
    assert "[Suggestion]" not in (http_bot.state / "rasa.log").read_text()


async def test_a_revoked_token_shows_in_the_health_check_and_stops_answers(
    fake_slack_server: FakeSlack, fake_slack: FakeSlack
) -> None:
    """Its own server: after tokens_revoked the health check answers 503 with the reason
    and a customer's DM is acknowledged but not answered (the token would be refused)."""
    w = fake_slack.workspace
    async with running_slack_bot(fake_slack_server, "http") as bot:
        health = f"{bot.rasa_url}/webhooks/slack/"
        async with aiohttp.ClientSession() as session, session.get(health) as response:
            assert response.status == 200
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [w.bot_user_id]}}
        status, _ = await fake_slack.post_event(events_url(bot), w.wrap(revoked))
        assert status == 200
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                async with session.get(health) as response:
                    state = (response.status, await response.json())
                if state[0] == 503:
                    break
                await asyncio.sleep(0.05)
        assert state == (
            503,
            {"status": "token_revoked", "reason": "tokens_revoked", "transport": "http"},
        )
        status, _ = await fake_slack.post_event(events_url(bot), w.wrap(w.message("/greet")))
        assert status == 200
        await settle(fake_slack, 0, 1.5)
        assert "revoked the bot token" in (bot.state / "rasa.log").read_text()
