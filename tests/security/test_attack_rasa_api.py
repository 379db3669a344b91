"""Rasa's HTTP API without its token: read, message, drive or silence anyone's conversation.

Each attack is refused (401) and changes nothing: the victim's tracker keeps its events,
the model stays loaded.
"""

from __future__ import annotations

from typing import Any

import pytest
from attacker import (
    api_params,
    request,
    rest_tracker,
    say,
    still_answers,
    tracker,
)

from bot.testing.servers import DEFAULT_MODEL, RunningBot

pytestmark = pytest.mark.e2e
PHISHING = "Support here: confirm your card at http://lumen-refund.example"


async def victim(bot: RunningBot, sender: str) -> str:
    """A customer's conversation (with an e-mail address in it); its id."""
    text = f"hello, I am {sender}, my email is {sender}@example.com"
    await say(bot, sender, text)
    return str((await rest_tracker(bot, sender, text))["sender_id"])


async def unchanged(bot: RunningBot, conversation_id: str, before: dict[str, Any]) -> None:
    after = await tracker(bot, conversation_id)
    assert after["events"] == before["events"]


async def test_reading_a_tracker_needs_the_token(rest_bot: RunningBot) -> None:
    conversation = await victim(rest_bot, "api-read")
    answer = await request("GET", f"{rest_bot.rasa_url}/conversations/{conversation}/tracker")
    assert answer.status == 401
    assert "example.com" not in answer.text


async def test_injecting_a_bot_message_needs_the_token(rest_bot: RunningBot) -> None:
    conversation = await victim(rest_bot, "api-inject")
    before = await tracker(rest_bot, conversation)
    answer = await request(
        "POST",
        f"{rest_bot.rasa_url}/conversations/{conversation}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true"},
        json_body=[{"event": "bot", "text": PHISHING}],
    )
    assert answer.status == 401
    await unchanged(rest_bot, conversation, before)


async def test_triggering_an_intent_needs_the_token(rest_bot: RunningBot) -> None:
    conversation = await victim(rest_bot, "api-trigger")
    before = await tracker(rest_bot, conversation)
    answer = await request(
        "POST",
        f"{rest_bot.rasa_url}/conversations/{conversation}/trigger_intent",
        params={"output_channel": "latest"},
        json_body={"name": "handoff_resolved", "entities": {}},
    )
    assert answer.status == 401
    await unchanged(rest_bot, conversation, before)


async def test_executing_an_action_needs_the_token(rest_bot: RunningBot) -> None:
    conversation = await victim(rest_bot, "api-execute")
    before = await tracker(rest_bot, conversation)
    answer = await request(
        "POST",
        f"{rest_bot.rasa_url}/conversations/{conversation}/execute",
        json_body={"name": "action_forget_me"},
    )
    assert answer.status == 401
    await unchanged(rest_bot, conversation, before)


async def test_adding_a_message_needs_the_token(rest_bot: RunningBot) -> None:
    conversation = await victim(rest_bot, "api-message")
    before = await tracker(rest_bot, conversation)
    answer = await request(
        "POST",
        f"{rest_bot.rasa_url}/conversations/{conversation}/messages",
        json_body={"text": "/forget_me_confirm", "sender": "user"},
    )
    assert answer.status == 401
    await unchanged(rest_bot, conversation, before)


async def test_parsing_needs_the_token(rest_bot: RunningBot) -> None:
    answer = await request("POST", f"{rest_bot.rasa_url}/model/parse", json_body={"text": "hi"})
    assert answer.status == 401
    assert "intent" not in answer.text


@pytest.mark.parametrize(
    ("method", "body"),
    [("DELETE", None), ("PUT", {"model_file": "/tmp/nothing.tar.gz"})],
    ids=["unload", "replace"],
)
async def test_unloading_or_replacing_the_model_needs_the_token(
    rest_bot: RunningBot, method: str, body: dict[str, Any] | None
) -> None:
    answer = await request(method, f"{rest_bot.rasa_url}/model", json_body=body)
    if answer.status != 401:  # the attack worked: load the model again for the other tests
        await request(
            "PUT",
            f"{rest_bot.rasa_url}/model",
            params=api_params(rest_bot),
            json_body={"model_file": str(DEFAULT_MODEL)},
        )
    assert answer.status == 401
    status = await request("GET", f"{rest_bot.rasa_url}/status", params=api_params(rest_bot))
    assert status.status == 200 and status.json().get("model_id")
    await still_answers(rest_bot, "api-after-model")


async def test_the_owner_with_the_token_still_gets_in(rest_bot: RunningBot) -> None:
    conversation = await victim(rest_bot, "api-owner")
    state = await tracker(rest_bot, conversation)  # asserts 200 with the token
    assert any("api-owner@example.com" in str(e.get("text")) for e in state["events"])
