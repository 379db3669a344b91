"""Pure rendering: a channel-neutral Reply becomes Slack messages (mrkdwn and Block Kit).

Slack's limits are handled explicitly and nothing is dropped: long text is split into
several sections (and several messages past 50 blocks), more than 25 buttons become
several action rows, and a button title cut to 75 characters is also listed in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

from bot.responses.markdown import Block, Span, parse, split_text
from bot.responses.model import Button, Reply

SECTION_LIMIT = 3000  # characters of mrkdwn in one section block
BLOCKS_PER_MESSAGE = 50
ELEMENTS_PER_ACTIONS = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000  # the notification text of a message with blocks

BUTTON_ACTION = "rasa_button:"  # action_id prefix: the click is sent to Rasa as the payload
LINK_ACTION = "rasa_link:"  # action_id prefix: a link button (Slack opens the URL)
BUTTONS_BLOCK = "rasa_buttons:"  # block_id prefix of the button rows

ZWSP = "\u200b"
_FORMATTING = re.compile(r"([*_~`])")

Message = dict[str, Any]


def escape(text: str) -> str:
    """Literal text for mrkdwn: ``&``, ``<``, ``>`` escaped; ``* _ ~ ``` never start formatting.

    Slack has no escape for its formatting characters, so each one is wrapped in
    zero-width spaces: it still shows, but can no longer pair with another one.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _FORMATTING.sub(f"{ZWSP}\\1{ZWSP}", text)


def _link_url(url: str) -> str:
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def span_mrkdwn(span: Span) -> str:
    """One styled span in mrkdwn."""
    if span.kind == "bold":
        return f"*{escape(span.text)}*"
    if span.kind == "italic":
        return f"_{escape(span.text)}_"
    if span.kind == "code":  # Slack does not format inside code: only &, <, > need escaping
        return "`" + span.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "`"
    if span.kind == "link" and span.url:
        return f"<{_link_url(span.url)}|{escape(span.text)}>"
    return escape(span.text)


def block_mrkdwn(block: Block) -> str:
    """A paragraph, bullet or numbered item in mrkdwn (Slack has no list syntax)."""
    body = "".join(span_mrkdwn(span) for span in block.spans)
    if block.kind == "bullet":
        return f"• {body}"
    if block.kind == "numbered":
        return f"{block.number}. {body}"
    return body


def to_mrkdwn(text: str) -> str:
    """Light markdown to mrkdwn: blank line between paragraphs, list items on their own lines."""
    out = ""
    previous: Block | None = None
    for block in parse(text):
        if previous is not None:
            in_list = block.kind != "paragraph" and previous.kind != "paragraph"
            out += "\n" if in_list else "\n\n"
        out += block_mrkdwn(block)
        previous = block
    return out


def section_texts(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """``text`` as mrkdwn parts of at most ``limit`` characters each (after escaping)."""
    return list(_fit(text, limit, limit))


def _fit(text: str, split_at: int, limit: int) -> Iterator[str]:
    for part in split_text(text, split_at):
        rendered = to_mrkdwn(part)
        if len(rendered) <= limit:
            if rendered:
                yield rendered
        elif split_at > 1:  # escaping made it longer: split this part smaller
            yield from _fit(part, max(1, split_at * limit // len(rendered) - 1), limit)
        else:  # pragma: no cover - one character never renders past the limit
            yield rendered[:limit]


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def button_element(index: int, button: Button) -> tuple[dict[str, Any] | None, bool]:
    """A Block Kit button (None when it cannot be one) and whether its title was shortened."""
    title = button.title.strip() or (button.payload or button.url or "").strip()
    short = title if len(title) <= BUTTON_TEXT_LIMIT else title[: BUTTON_TEXT_LIMIT - 1] + "…"
    element: dict[str, Any] = {"type": "button", "text": _plain(short, BUTTON_TEXT_LIMIT)}
    if button.url:
        element.update(url=button.url, action_id=f"{LINK_ACTION}{index}")
    else:
        value = button.payload or title
        if len(value) > BUTTON_VALUE_LIMIT:
            return None, True
        element.update(value=value, action_id=f"{BUTTON_ACTION}{index}")
    return element, short != title


def button_blocks(buttons: Sequence[Button]) -> list[dict[str, Any]]:
    """Rows of at most 25 buttons; titles that had to be shortened (or could not be a
    button) are listed in full in a section before the rows."""
    elements, in_full = [], []
    for index, button in enumerate(buttons):
        element, shortened = button_element(index, button)
        if element is not None:
            elements.append(element)
        if shortened:
            in_full.append(button.title)
    blocks: list[dict[str, Any]] = []
    if in_full:
        listing = "\n".join(f"• {escape(title)}" for title in in_full)
        blocks += [_section(part) for part in _split_mrkdwn(listing)]
    for row, start in enumerate(range(0, len(elements), ELEMENTS_PER_ACTIONS)):
        chunk = elements[start : start + ELEMENTS_PER_ACTIONS]
        blocks.append({"type": "actions", "block_id": f"{BUTTONS_BLOCK}{row}", "elements": chunk})
    return blocks


def _split_mrkdwn(text: str) -> list[str]:
    parts, current = [], ""
    for full_line in text.split("\n"):
        line = full_line
        while len(line) > SECTION_LIMIT:
            parts.append(line[:SECTION_LIMIT])
            line = line[SECTION_LIMIT:]
        if current and len(current) + 1 + len(line) > SECTION_LIMIT:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*parts, current] if current else parts


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def image_block(url: str) -> dict[str, Any]:
    """An image; its alt text is the file name from the URL."""
    name = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] or urlparse(url).netloc or url
    return {"type": "image", "image_url": url, "alt_text": name[:2000]}


def render_reply(reply: Reply) -> list[Message]:
    """The ``chat.postMessage`` payloads (``text`` and ``blocks``) for one reply, in order."""
    blocks = [_section(part) for part in section_texts(reply.text)] if reply.text else []
    if reply.image:
        blocks.append(image_block(reply.image))
    blocks += button_blocks(reply.buttons)
    messages = [_message(page) for page in paginate(blocks)]
    if reply.custom and any(key in reply.custom for key in ("blocks", "attachments", "text")):
        custom: Message = {
            k: reply.custom[k] for k in ("text", "blocks", "attachments") if k in reply.custom
        }
        messages.append(custom)
    return messages


def paginate(blocks: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Blocks in messages of at most 50."""
    return [
        list(blocks[i : i + BLOCKS_PER_MESSAGE]) for i in range(0, len(blocks), BLOCKS_PER_MESSAGE)
    ]


def _message(blocks: list[dict[str, Any]]) -> Message:
    return {"text": fallback_text(blocks), "blocks": blocks}


def fallback_text(blocks: Sequence[dict[str, Any]]) -> str:
    """The notification text of a message: its sections, else its button titles or image."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    if not texts:
        texts = [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
        texts += [b["alt_text"] for b in blocks if b["type"] == "image"]
    text = "\n".join(texts)
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"


def choice_mrkdwn(title: str, template: str | None = None) -> str:
    """The line that replaces the buttons once one was clicked (``template`` has ``{choice}``)."""
    choice = escape(title[:1000])
    if template and "{choice}" in template:
        return to_mrkdwn(template).replace("{choice}", choice)
    return f"✅ {choice}"


def mark_choice(blocks: Sequence[dict[str, Any]], line: str) -> list[dict[str, Any]]:
    """The message's blocks with its button rows replaced by a context line showing the choice."""
    out: list[dict[str, Any]] = []
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": line[:3000]}]}
    for block in blocks:
        if block.get("type") == "actions" and str(block.get("block_id", "")).startswith(
            BUTTONS_BLOCK
        ):
            if context not in out:
                out.append(context)
            continue
        out.append(block)
    return out if context in out else [*out, context]
