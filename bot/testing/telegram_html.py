"""Telegram's HTML parse mode, as strictly as the real server: what the customer would see."""

from __future__ import annotations

import html
import re

_ALLOWED = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+=\"[^\"<>]*\")*)\s*>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]"
)


class HtmlError(ValueError):
    """Text that Telegram rejects with "Bad Request: can't parse entities"."""


def visible_text(text: str) -> str:
    """The text a customer sees for ``text`` in HTML parse mode; raises :class:`HtmlError`."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if match.group(2):
            closing, tag, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if tag not in _ALLOWED:
                raise HtmlError(f"unsupported start tag {tag!r} at byte offset {match.start()}")
            if closing:
                if not stack or stack.pop() != tag:
                    raise HtmlError(f"unmatched end tag {tag!r} at byte offset {match.start()}")
            else:
                if tag == "a" and "href=" not in attributes:
                    raise HtmlError("a link without href")
                stack.append(tag)
        elif match.group(4):
            out.append(html.unescape(token))
        else:
            raise HtmlError(f"unescaped {token!r} at byte offset {match.start()}")
    out.append(text[position:])
    if stack:
        raise HtmlError(f"can't find end tag corresponding to start tag {stack[-1]!r}")
    return "".join(out)
