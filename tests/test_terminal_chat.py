"""The local chat: markdown shown as plain text, buttons numbered and chosen by number."""

import io

from bot.chat.terminal import choose, render


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
