"""The local chat: markdown shown as plain text, buttons numbered and chosen by number."""

import io
import uuid

import pytest

from bot.chat.terminal import ChatEndpoint, chat, choose, render
from bot.testing.servers import RunningBot


def test_markdown_is_shown_as_plain_text_and_buttons_are_numbered() -> None:
    out = io.StringIO()
    buttons = render(
        {
            "text": "**Restart** the hub: see [help](https://lumenfiber.example/help)",
            "buttons": [
                {"title": "Yes", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
            ],
        },
        out,
    )
    assert out.getvalue() == (
        "Bot: Restart the hub: see help (https://lumenfiber.example/help)\n  1) Yes\n  2) No\n"
    )
    assert choose("2", buttons) == "/deny"


def test_text_that_is_not_a_button_number_is_sent_as_typed() -> None:
    assert choose("3", [{"title": "Yes", "payload": "/affirm"}]) == "3"
    assert choose("hello", []) == "hello"


@pytest.mark.e2e
async def test_the_local_chat_talks_to_the_bot_with_its_tokens(rest_bot: RunningBot) -> None:
    lines = iter(["hello", "/exit"])

    async def read_line() -> str | None:
        return next(lines, None)

    out = io.StringIO()
    sender = f"chat-{uuid.uuid4().hex[:8]}"
    endpoint = ChatEndpoint(rest_bot.rasa_url, rest_bot.rasa_token, rest_bot.rest_token)
    await chat(endpoint, sender, read_line, out)
    assert "Bot: " in out.getvalue()
    assert "could not be reached" not in out.getvalue()
    tracker = await rest_bot.conversations().tracker(f"rest:{sender}")
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["hello"]


@pytest.mark.e2e
async def test_the_local_chat_without_the_right_token_says_so(rest_bot: RunningBot) -> None:
    lines = iter(["hello", "/exit"])

    async def read_line() -> str | None:
        return next(lines, None)

    out = io.StringIO()
    endpoint = ChatEndpoint(rest_bot.rasa_url, rest_bot.rasa_token, "wrong")
    await chat(endpoint, f"chat-{uuid.uuid4().hex[:8]}", read_line, out)
    assert "could not be reached" in out.getvalue() and "401" in out.getvalue()
