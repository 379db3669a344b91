"""Pure rendering: a channel-neutral :class:`Reply` into Telegram messages (HTML parse mode).

Telegram limits handled here: 4096 characters of visible text per message (long answers
are split on paragraph, then sentence boundaries, buttons go on the last part), 64 bytes
of ``callback_data`` (longer payloads are replaced by a stored short key, see
:func:`needs_key`), at most 8 buttons per row and 100 per keyboard, button labels kept short.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.responses.markdown import Block, Span, parse, split_text
from bot.responses.model import Button, Reply

logger = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]+>")

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
MAX_BUTTON_TITLE = 64
MAX_PER_ROW = 8
MAX_BUTTONS = 100
_SHORT_TITLE = 20  # titles up to this long are laid out side by side
_SHORT_PER_ROW = 3


@dataclass(frozen=True)
class OutgoingMessage:
    """One ``sendMessage`` (or ``sendPhoto`` when ``photo`` is set)."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: str | None = None


def escape(text: str) -> str:
    """Text safe inside Telegram HTML (``&``, ``<``, ``>``; quotes for attributes)."""
    return html.escape(text, quote=True)


def render_span(span: Span) -> str:
    """One inline span as Telegram HTML."""
    text = escape(span.text)
    if span.kind == "bold":
        return f"<b>{text}</b>"
    if span.kind == "italic":
        return f"<i>{text}</i>"
    if span.kind == "code":
        return f"<code>{text}</code>"
    if span.kind == "link" and span.url:
        return f'<a href="{escape(span.url)}">{text}</a>'
    return text


def render_blocks(blocks: list[Block]) -> str:
    """Blocks as Telegram HTML: a blank line before each paragraph, list items one per line."""
    lines: list[str] = []
    previous: str | None = None
    for block in blocks:
        body = "".join(render_span(span) for span in block.spans)
        if block.kind == "bullet":
            body = f"• {body}"
        elif block.kind == "numbered":
            body = f"{block.number}. {body}"
        if previous is not None and block.kind == "paragraph":  # lists hug their intro
            lines.append("")
        lines.append(body)
        previous = block.kind
    return "\n".join(lines)


def render_text(markdown: str, limit: int = MAX_TEXT) -> list[str]:
    """Light markdown as HTML message parts, each at most ``limit`` visible characters."""
    budget = limit
    while True:
        parts = [render_blocks(parse(chunk)) for chunk in split_text(markdown, budget)]
        parts = [part for part in parts if part.strip()]
        if budget <= 16 or all(visible_length(part) <= limit for part in parts):
            return parts
        budget -= max(16, budget // 50)  # rendering added line breaks: cut a little shorter


def visible_length(html_text: str) -> int:
    """How many characters the customer sees (Telegram counts after parsing entities)."""
    return len(html.unescape(_TAG.sub("", html_text)))


def needs_key(payload: str) -> bool:
    """Whether ``payload`` is too long for ``callback_data`` and must go through a short key."""
    return len(payload.encode("utf-8")) > MAX_CALLBACK_BYTES


def button_title(title: str) -> str:
    """A label that fits a button (Telegram cuts long ones; we shorten visibly)."""
    title = " ".join(title.split()) or "…"
    return title if len(title) <= MAX_BUTTON_TITLE else title[: MAX_BUTTON_TITLE - 1] + "…"


def keyboard(buttons: tuple[Button, ...], keys: Mapping[str, str]) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard; ``keys`` maps too-long payloads to their short keys."""
    if not buttons:
        return None
    if len(buttons) > MAX_BUTTONS:
        logger.warning("%d buttons; Telegram shows at most %d", len(buttons), MAX_BUTTONS)
        buttons = buttons[:MAX_BUTTONS]
    rendered = [_button(b, keys) for b in buttons]
    short = all(len(b.text) <= _SHORT_TITLE for b in rendered)
    per_row = min(_SHORT_PER_ROW if short else 1, MAX_PER_ROW)
    rows = [rendered[i : i + per_row] for i in range(0, len(rendered), per_row)]
    return InlineKeyboardMarkup(rows)


def _button(button: Button, keys: Mapping[str, str]) -> InlineKeyboardButton:
    title = button_title(button.title)
    if button.url and not button.payload:
        return InlineKeyboardButton(title, url=button.url)
    payload = button.payload or button.title
    data = keys[payload] if needs_key(payload) else payload
    if needs_key(data):
        raise ValueError("a long button payload has no short key")
    return InlineKeyboardButton(title, callback_data=data)


def long_payloads(reply: Reply) -> list[str]:
    """The payloads of ``reply`` that need a short key before rendering."""
    payloads = [b.payload or b.title for b in reply.buttons if not (b.url and not b.payload)]
    return [p for p in payloads if needs_key(p)]


def render_reply(reply: Reply, keys: Mapping[str, str] | None = None) -> list[OutgoingMessage]:
    """All messages for one reply; the keyboard goes on the last one."""
    parts = render_text(reply.text) if reply.text.strip() else []
    markup = keyboard(reply.buttons, keys or {})
    if markup is not None and not parts:
        parts = ["…"]  # Telegram needs text to carry a keyboard
    messages = [OutgoingMessage(part) for part in parts]
    if markup is not None:
        messages[-1] = OutgoingMessage(messages[-1].html, markup)
    if reply.image:
        messages.append(OutgoingMessage("", photo=reply.image))
    return messages


def chosen_html(original_html: str, choice: str) -> str:
    """The message after a button press: its text with the customer's choice marked."""
    marked = f"{original_html}\n\n✅ <i>{escape(choice)}</i>"
    return marked if visible_length(marked) <= MAX_TEXT else original_html
