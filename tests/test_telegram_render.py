"""Unit tests: Telegram rendering (HTML, escaping, splitting, keyboards) and settings."""

from __future__ import annotations

import pytest

from bot.responses.model import Button, Reply
from bot.testing.telegram_html import HtmlError, visible_text
from channels.telegram.inbound import conversation_id, route
from channels.telegram.payload_keys import key_for
from channels.telegram.render import (
    MAX_CALLBACK_BYTES,
    MAX_TEXT,
    button_title,
    chosen_html,
    escape,
    keyboard,
    long_payloads,
    render_reply,
    render_text,
    visible_length,
)
from channels.telegram.settings import SettingsError, TelegramSettings


def test_bold_links_and_lists_render_as_telegram_html() -> None:
    html = render_text("Hi **Ada**, see [our page](https://x.example/a?b=1&c=2):\n- one\n- _two_")[
        0
    ]
    assert html == (
        'Hi <b>Ada</b>, see <a href="https://x.example/a?b=1&amp;c=2">our page</a>:\n'
        "• one\n• <i>two</i>"
    )
    assert visible_text(html) == "Hi Ada, see our page:\n• one\n• two"


def test_numbered_list_and_paragraphs() -> None:
    html = render_text("Steps:\n\n1. Unplug\n2. Wait `30s`\n\nDone.")[0]
    assert html == "Steps:\n1. Unplug\n2. Wait <code>30s</code>\n\nDone."


@pytest.mark.parametrize(
    "text",
    [
        "a < b && c > d",
        "2*3*4 and snake_case_name",
        "*unclosed _italic",
        "<b>not html</b>",
        "**bold with <tag>**",
        'Tom & Jerry\'s "quote"',
        "[x](javascript:alert(1))",
    ],
)
def test_customer_text_never_breaks_html(text: str) -> None:
    for part in render_text(text):
        visible = visible_text(part)  # raises HtmlError like Telegram would
        assert "<" not in part.replace("<b>", "").replace("</b>", "") or "&lt;" in part
        assert visible.replace("**", "") or text


def test_strict_html_checker_rejects_what_telegram_rejects() -> None:
    for bad in ["a < b", "x & y", "<b>open", "<script>x</script>"]:
        with pytest.raises(HtmlError):
            visible_text(bad)


def test_escape() -> None:
    assert escape('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"


def test_long_answer_split_on_sentences_with_buttons_on_last_part() -> None:
    sentence = "This sentence about your bill is exactly long enough to matter here. "
    text = sentence * 150  # ~10 000 characters
    reply = Reply(text=text, buttons=(Button("Yes", "/affirm"), Button("No", "/deny")))
    messages = render_reply(reply)
    assert len(messages) == 3
    for message in messages:
        assert visible_length(message.html) <= MAX_TEXT
        assert message.html.endswith("here.")  # cut between sentences
    assert [m.keyboard is not None for m in messages] == [False, False, True]
    assert "".join(visible_text(m.html) + " " for m in messages).split() == text.split()


def test_split_respects_limit_after_rendering_adds_line_breaks() -> None:
    text = "\n".join(f"Paragraph {i} text.\n- item {i}" for i in range(600))
    for part in render_text(text):
        assert visible_length(part) <= MAX_TEXT
        visible_text(part)


def test_keyboard_layout_and_limits() -> None:
    short = keyboard(tuple(Button(t, f"/{t}") for t in ("a", "b", "c", "d")), {})
    assert short is not None
    assert [len(row) for row in short.inline_keyboard] == [3, 1]
    long = keyboard((Button("A very long button label indeed", "/x"), Button("b", "/y")), {})
    assert long is not None and [len(row) for row in long.inline_keyboard] == [1, 1]
    many = keyboard(tuple(Button(str(i), f"/{i}") for i in range(150)), {})
    assert many is not None and sum(len(r) for r in many.inline_keyboard) == 100
    assert len(button_title("x" * 200)) == 64


def test_url_buttons_and_long_payloads_use_short_keys() -> None:
    long_payload = '/choose_faq{"faq_id": "' + "billing_" * 12 + '"}'
    reply = Reply("Pick", (Button("Site", url="https://x.example"), Button("FAQ", long_payload)))
    assert long_payloads(reply) == [long_payload]
    key = key_for(long_payload)
    assert len(key.encode()) <= MAX_CALLBACK_BYTES and key == key_for(long_payload)
    markup = render_reply(reply, {long_payload: key})[0].keyboard
    assert markup is not None
    site, faq = markup.inline_keyboard[0]
    assert site.url == "https://x.example" and faq.callback_data == key
    with pytest.raises((ValueError, KeyError)):
        render_reply(reply, {})  # a long payload is never silently dropped or truncated


def test_buttons_without_text_still_get_a_message() -> None:
    (message,) = render_reply(Reply(buttons=(Button("Yes", "/affirm"),)))
    assert message.html and message.keyboard is not None


def test_chosen_choice_is_escaped() -> None:
    assert chosen_html("<b>Q?</b>", "A & <B>") == "<b>Q?</b>\n\n✅ <i>A &amp; &lt;B&gt;</i>"


def test_conversation_ids_route_back_to_the_chat() -> None:
    assert conversation_id(42, 42, group=False) == "telegram:42"
    assert conversation_id(-100123, 42, group=True) == "telegram:-100123:42"
    assert route("telegram:42") == 42 and route("telegram:-100123:42") == -100123
    with pytest.raises(ValueError):
        route("slack:C1")


def test_settings_from_credentials_and_env() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret_-",
        "TELEGRAM_BOT_USERNAME": "@lumen_bot",
    }
    settings = TelegramSettings.load({"token": "", "base_url": "http://127.0.0.1:9/bot"}, env)
    assert (settings.token, settings.mode, settings.username) == ("1:abc", "webhook", "lumen_bot")
    assert settings.base_file_url == "http://127.0.0.1:9/file/bot"
    assert TelegramSettings.load({"token": "2:x"}, {}).mode == "polling"
    with pytest.raises(SettingsError, match="secret"):
        TelegramSettings.load({"token": "2:x", "mode": "webhook"}, {})
    with pytest.raises(SettingsError) as error:
        TelegramSettings.load(
            {"token": "2:x", "mode": "webhook", "secret_token": "bad secret!"}, {}
        )
    assert "bad secret" not in str(error.value)


def test_several_rasa_workers_need_the_webhook_since_polling_runs_once() -> None:
    workers = {"SANIC_WORKERS": "2"}
    with pytest.raises(SettingsError, match="TELEGRAM_MODE=webhook"):
        TelegramSettings.load({"token": "2:x"}, workers)
    webhook = {"token": "2:x", "mode": "webhook", "secret_token": "s3cret"}
    assert TelegramSettings.load(webhook, workers).mode == "webhook"
    assert TelegramSettings.load({"token": "2:x"}, {"SANIC_WORKERS": "1"}).mode == "polling"


def test_typing_delay_from_credentials() -> None:
    assert TelegramSettings.load({"token": "2:x"}, {}).typing_after == 0.5
    assert TelegramSettings.load({"token": "2:x", "typing_after": "0"}, {}).typing_after == 0.0
    assert TelegramSettings.load({"token": "2:x", "typing_after": 1.5}, {}).typing_after == 1.5
    for wrong in ("soon", -1):
        with pytest.raises(SettingsError, match="typing_after"):
            TelegramSettings.load({"token": "2:x", "typing_after": wrong}, {})
