"""End to end over Socket Mode: the fake Slack's WebSocket -> Rasa (trained model) -> fake Slack."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from bot.testing.servers import DEFAULT_MODEL, RunningBot
from bot.testing.slack_bot import rendered_variants, running_slack_bot, settle, text_of

pytestmark = pytest.mark.e2e

if TYPE_CHECKING:  # imported by pytest as a plugin (below), not here: keeps assert rewriting
    from bot.testing.fake_slack import FakeSlack

# the fake Slack fixtures (harmless if tests/conftest.py registers the plugin too)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def socket_bot(fake_slack_server: FakeSlack) -> AsyncIterator[RunningBot]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    async with running_slack_bot(fake_slack_server, "socket") as bot:
        yield bot
    await fake_slack_server.drop_sockets()


async def test_socket_dm_answer_is_formatted(socket_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    ack = await fake_slack.send_envelope("events_api", w.wrap(w.message("/chitchat_capabilities")))
    assert ack["envelope_id"]
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == w.dm_channel and "thread_ts" not in answer.params
    assert text_of(answer) in rendered_variants("utter_capabilities")
    assert "• *Billing*: paying" in text_of(answer)


async def test_socket_mention_answered_in_thread(
    socket_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    mention = w.mention("/greet")
    await fake_slack.send_envelope("events_api", w.wrap(mention))
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert (answer.params["channel"], answer.params["thread_ts"]) == (w.channel, mention["ts"])
    assert text_of(answer) in rendered_variants("utter_greet")


async def test_socket_button_click_flow(socket_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    # its own DM: the "Talk to a person" click really hands the conversation to a person
    # (paused until an agent resolves it), which must not silence the other tests
    dm = w.new_dm_channel()
    await fake_slack.send_envelope("events_api", w.wrap(w.message("this is useless", channel=dm)))
    [offer] = await fake_slack.wait_for("chat.postMessage")
    posted = fake_slack.posted(offer)
    row = posted["blocks"][-1]
    click = w.block_actions(posted, {**row["elements"][0], "block_id": row["block_id"]})
    started = time.monotonic()
    ack = await fake_slack.send_envelope("interactive", click, timeout=3)
    assert ack["envelope_id"] and time.monotonic() - started < 3
    [update] = await fake_slack.wait_for("chat.update")
    assert [b["type"] for b in update.params["blocks"]] == ["section", "context"]
    assert "Talk to a person" in update.params["blocks"][1]["elements"][0]["text"]
    answer = (await fake_slack.wait_for("chat.postMessage", 2))[1]  # the handoff flow answers
    assert answer.params["channel"] == dm and text_of(answer)


async def test_socket_redelivery_answered_once(
    socket_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    body = w.wrap(w.message("/greet"))
    await fake_slack.send_envelope("events_api", body)
    await fake_slack.wait_for("chat.postMessage")
    await fake_slack.send_envelope("events_api", body, retry_attempt=1)
    await fake_slack.send_envelope("events_api", w.wrap(w.message("/greet")))  # a new one
    await fake_slack.wait_for("chat.postMessage", 2)
    await settle(fake_slack, 2, 1.5)


async def test_socket_file_gets_polite_reply(socket_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    await fake_slack.send_envelope("events_api", w.wrap(w.file_share()))
    [answer] = await fake_slack.wait_for("chat.postMessage")
    assert text_of(answer) in rendered_variants("utter_unsupported_content")
