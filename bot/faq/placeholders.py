"""Placeholder text ("TODO", "TBD", "...", lorem ipsum, empty) in content customers would
see. `bot suggest` writes ``answer: TODO`` for a new entry on purpose, so a suggestion
merged without its answer fails ``bot validate`` instead of reaching customers."""

from __future__ import annotations

import re

#: Whole values that are placeholders, compared stripped and lower-cased.
PLACEHOLDER_VALUES = frozenset(
    ["", "todo", "tbd", "tba", "fixme", "xxx", "...", "…", "?", "-", "n/a", "placeholder"]
)
#: Markers anywhere in a text: TODO/FIXME/TBD/XXX written as a marker, and lorem ipsum.
_CASED_MARKER = re.compile(r"\b(?:TODO|FIXME|TBD|XXX)\b|lorem\s+ipsum|\btodo:", re.IGNORECASE)
#: A line that is only an ellipsis, maybe in a list: "...", "2. ...", "- …".
_ELLIPSIS_LINE = re.compile(r"^\s*(?:[-*]|\d+[.)])?\s*(?:\.{3}|…)\s*$", re.MULTILINE)


def placeholder_in(text: str) -> str | None:
    """What makes ``text`` a placeholder (quoted for the designer), or None when it is real."""
    stripped = text.strip()
    if stripped.lower() in PLACEHOLDER_VALUES:
        return f'"{stripped}"' if stripped else "empty"
    if marker := _marker(text):
        return f'"{marker}"'
    if line := _ELLIPSIS_LINE.search(text):
        return f'the line "{line.group(0).strip()}"'
    return None


def _marker(text: str) -> str | None:
    for match in _CASED_MARKER.finditer(text):
        word = match.group(0)
        # "todo" in prose ("my todo list") is a word; TODO, FIXME, TBD, XXX in capitals and
        # "todo:" / lorem ipsum in any case are markers.
        if word.isupper() or word.lower().startswith(("lorem", "todo:")):
            return word
    return None
