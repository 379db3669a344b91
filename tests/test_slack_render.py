"""Slack rendering: pure functions from the channel-neutral Reply to mrkdwn and Block Kit."""

from __future__ import annotations

from typing import Any

import pytest

from bot.responses.model import Button, Reply
from channels.slack.render import (
    BLOCKS_PER_MESSAGE,
    BUTTON_TEXT_LIMIT,
    ELEMENTS_PER_ACTIONS,
    SECTION_LIMIT,
    ZWSP,
    choice_mrkdwn,
    escape,
    mark_choice,
    render_reply,
    to_mrkdwn,
)


def sections(messages: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section"]


def visible(text: str) -> str:
    return text.replace(ZWSP, "")


def test_markdown_becomes_mrkdwn() -> None:
    text = (
        "Hello **Sam**, see _this_ and `code`:\n- one\n"
        "- [docs](https://x.example/a?b=1&c=2)\n\n1. first"
    )
    assert to_mrkdwn(text) == (
        "Hello *Sam*, see _this_ and `code`:\n\n"
        "• one\n• <https://x.example/a?b=1&amp;c=2|docs>\n"
        "1. first"
    )


def test_special_characters_are_escaped() -> None:
    assert escape("a & b <c> d") == "a &amp; b &lt;c&gt; d"
    assert to_mrkdwn("`<b> & c`") == "`&lt;b&gt; &amp; c`"
    assert "<!channel>" not in to_mrkdwn("<!channel> hi")


@pytest.mark.parametrize("text", ["a *b* c", "snake_case_name", "~strike~", "x * y * z", "2*3_4*5"])
def test_user_formatting_characters_never_pair(text: str) -> None:
    rendered = to_mrkdwn(text)
    assert visible(rendered) == text  # nothing lost or changed for the reader
    for char in "*_~":  # every formatting character is fenced by zero-width spaces
        assert rendered.count(char) == rendered.count(f"{ZWSP}{char}{ZWSP}")


def test_bold_text_with_underscores_stays_one_bold_span() -> None:
    rendered = to_mrkdwn("**my_account_id** is _private_")
    assert rendered.startswith("*my") and visible(rendered) == "*my_account_id* is _private_"
    assert rendered.count("_") - rendered.count(f"{ZWSP}_{ZWSP}") == 2  # only the italic markers


def test_link_url_cannot_break_out() -> None:
    rendered = to_mrkdwn("[x](https://e.example/a|b>c)")
    assert rendered.count("<") == 1 and rendered.count(">") == 1
    assert "%7C" in rendered and "|x>" in rendered


def test_long_text_is_split_into_sections_without_losing_words() -> None:
    words = [f"word{i} & more." for i in range(1500)]
    messages = render_reply(Reply(text=" ".join(words)))
    parts = sections(messages)
    assert len(parts) > 1 and all(len(p) <= SECTION_LIMIT for p in parts)
    rejoined = " ".join(visible(p).replace("&amp;", "&") for p in parts)
    assert rejoined.split() == " ".join(words).split()


def test_more_than_50_blocks_become_several_messages() -> None:
    text = "\n\n".join("x" * 2900 for _ in range(60))
    messages = render_reply(Reply(text=text, buttons=(Button("Yes", "/affirm"),)))
    assert len(messages) == 2
    assert all(len(m["blocks"]) <= BLOCKS_PER_MESSAGE for m in messages)
    assert len(sections(messages)) == 60
    assert messages[-1]["blocks"][-1]["type"] == "actions"  # buttons after all the text
    assert all(m["text"] for m in messages)


def test_buttons_become_actions_with_payloads() -> None:
    reply = Reply(
        text="Pick",
        buttons=(
            Button("Talk to a person", "/human_handoff"),
            Button("Docs", url="https://d.example"),
        ),
    )
    [message] = render_reply(reply)
    actions = message["blocks"][-1]
    assert actions["type"] == "actions" and actions["block_id"].startswith("rasa_buttons:")
    first, second = actions["elements"]
    assert first["value"] == "/human_handoff" and first["action_id"] == "rasa_button:0"
    assert first["text"] == {"type": "plain_text", "text": "Talk to a person", "emoji": True}
    assert second["url"] == "https://d.example" and "value" not in second


def test_more_than_25_buttons_use_several_rows() -> None:
    buttons = tuple(Button(f"Option {i}", f"/choose_faq{i}") for i in range(30))
    [message] = render_reply(Reply(text="Pick one", buttons=buttons))
    rows = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [ELEMENTS_PER_ACTIONS, 5]
    assert len({r["block_id"] for r in rows}) == 2
    ids = [e["action_id"] for r in rows for e in r["elements"]]
    assert len(set(ids)) == 30


def test_long_button_title_is_shortened_and_listed_in_full() -> None:
    title = "I would like to speak to somebody about the invoice I received last month please"
    [message] = render_reply(Reply(text="Pick", buttons=(Button(title, "/human_handoff"),)))
    button = message["blocks"][-1]["elements"][0]
    assert len(button["text"]["text"]) == BUTTON_TEXT_LIMIT and button["text"]["text"].endswith("…")
    assert any(title in visible(s) for s in sections([message]))


def test_image_and_slack_custom_payload() -> None:
    messages = render_reply(
        Reply(image="https://img.example/pics/router.png", custom={"blocks": [{"type": "divider"}]})
    )
    assert messages[0]["blocks"] == [
        {
            "type": "image",
            "image_url": "https://img.example/pics/router.png",
            "alt_text": "router.png",
        }
    ]
    assert messages[1] == {"blocks": [{"type": "divider"}]}


def test_mark_choice_replaces_only_the_button_rows() -> None:
    [message] = render_reply(Reply(text="Pick", buttons=(Button("A *b*", "/a"),)))
    line = choice_mrkdwn("A *b*", "You chose: **{choice}**")
    blocks = mark_choice(message["blocks"], line)
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert visible(blocks[1]["elements"][0]["text"]) == "You chose: *A *b**"
    assert blocks[0] == message["blocks"][0]
    assert choice_mrkdwn("Yes") == "✅ Yes"
