"""Light markdown, the format of every text the bot writes: parsed once, rendered per channel.

Supported: paragraphs, ``- `` bullets, ``1. `` numbered items, ``**bold**``, ``_italic_``,
`` `code` `` and ``[text](url)`` links. Anything else is plain text, so a customer's
``*`` or ``_`` is never taken for formatting by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SpanKind = Literal["text", "bold", "italic", "code", "link"]
BlockKind = Literal["paragraph", "bullet", "numbered"]

_INLINE = re.compile(
    r"\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|(?<![\w_])_(?P<italic>[^_\n]+?)_(?![\w_])"
    r"|`(?P<code>[^`\n]+)`"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>https?://[^)\s]+|mailto:[^)\s]+|tel:[^)\s]+)\)"
)
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")


@dataclass(frozen=True)
class Span:
    """A run of inline text with one style."""

    kind: SpanKind
    text: str
    url: str | None = None


@dataclass(frozen=True)
class Block:
    """A paragraph, a bullet item or a numbered item."""

    kind: BlockKind
    spans: tuple[Span, ...]
    number: int | None = None


def parse(text: str) -> list[Block]:
    """Splits ``text`` into blocks of styled spans."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", parse_inline("\n".join(paragraph))))
            paragraph.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        if bullet := _BULLET.match(line):
            flush()
            blocks.append(Block("bullet", parse_inline(bullet.group(1).strip())))
        elif numbered := _NUMBERED.match(line):
            flush()
            blocks.append(
                Block("numbered", parse_inline(numbered.group(2).strip()), int(numbered.group(1)))
            )
        elif line.strip():
            paragraph.append(line.strip())
        else:
            flush()
    flush()
    return blocks


def parse_inline(text: str) -> tuple[Span, ...]:
    """Inline styles of one block."""
    spans: list[Span] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            spans.append(Span("text", text[position : match.start()]))
        if match.group("bold") is not None:
            spans.append(Span("bold", match.group("bold")))
        elif match.group("italic") is not None:
            spans.append(Span("italic", match.group("italic")))
        elif match.group("code") is not None:
            spans.append(Span("code", match.group("code")))
        else:
            spans.append(Span("link", match.group("label"), match.group("url")))
        position = match.end()
    if position < len(text):
        spans.append(Span("text", text[position:]))
    return tuple(spans)


def plain_text(blocks: list[Block]) -> str:
    """The text without markup (links as ``label (url)``)."""
    lines = []
    for block in blocks:
        body = "".join(f"{s.text} ({s.url})" if s.kind == "link" else s.text for s in block.spans)
        prefix = (
            "- "
            if block.kind == "bullet"
            else f"{block.number}. "
            if block.kind == "numbered"
            else ""
        )
        lines.append(prefix + body)
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Splits markdown ``text`` into parts of at most ``limit`` characters.

    Cuts between lines (paragraphs, list items) first, then between sentences, then
    between words; never inside a styled span unless that span alone exceeds the limit.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    current = ""
    for joiner, unit in _units(text.strip(), limit):
        if current and len(current) + len(joiner) + len(unit) <= limit:
            current += joiner + unit
            continue
        if current:
            parts.append(current.rstrip())
        current = unit
    if current.strip():
        parts.append(current.rstrip())
    return parts


def _units(text: str, limit: int) -> list[tuple[str, str]]:
    """(joiner, piece) pairs, each piece at most ``limit`` long."""
    units: list[tuple[str, str]] = []
    for index, line in enumerate(text.split("\n")):
        lead = "\n" if index else ""
        if len(line) <= limit:
            units.append((lead, line))
            continue
        for number, piece in enumerate(_pieces(line, limit)):
            units.append((lead if number == 0 else " ", piece))
    return units


def _pieces(line: str, limit: int) -> list[str]:
    """Sentences of a long line (words, then characters, for over-long sentences)."""
    protected = [m.span() for m in _INLINE.finditer(line)]

    def free(position: int) -> bool:
        return not any(start < position < end for start, end in protected)

    sentences = _cut(line, [m.start() for m in _SENTENCE_END.finditer(line) if free(m.start())])
    pieces: list[str] = []
    for sentence in sentences:
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        for word in sentence.split(" "):
            pieces.extend(word[i : i + limit] for i in range(0, len(word), limit))
    return pieces


def _cut(line: str, positions: list[int]) -> list[str]:
    pieces, start = [], 0
    for position in positions:
        pieces.append(line[start:position].strip())
        start = position
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]
