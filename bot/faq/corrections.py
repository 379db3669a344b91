"""Negations and corrections: "not my Wi-Fi password, the one for My Lumen".

A message that says what the customer does NOT mean and then what they do is split into the
negated part and the wanted part. The wanted part is read on its own, with "the one" /
"that one" standing for the negated part's noun ("the password for My Lumen"), and the
entry the negated part names is never the answer (bot.faq.multi).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT = r"(?:not|isn'?t|is\s+not|wasn'?t|was\s+not|'?s\s+not|aren'?t|are\s+not)"
_IT_IS = r"(?:it'?s|it\s+is|its|that'?s|this\s+is|i\s+mean|i'?m\s+asking\s+about)"
_PATTERNS = (
    # "not X, Y" / "it isn't X, it's Y" / "no, not X but Y"
    re.compile(
        rf"^(?:no[,.!]*\s+)?(?:(?:it|this|that|the\s+problem)\s*)?{_NOT}\s+(?:about\s+)?"
        rf"(?P<neg>[^,.;!?]+?)\s*(?:[,.;!?]+\s*(?:but\s+)?|\s+but\s+)(?:{_IT_IS}\s+)?"
        rf"(?P<pos>.+)$",
        re.IGNORECASE,
    ),
    # "I don't want to A, I want to B"
    re.compile(
        r"^i\s+(?:don'?t|do\s+not)\s+(?:want|need|mean)\s+(?:to\s+)?(?P<neg>[^,.;]+?)"
        r"\s*[,.;]+\s*(?:but\s+)?(?P<pos>(?:i|i'?d)\s+.+)$",
        re.IGNORECASE,
    ),
    # "I need the password for My Lumen, not the Wi-Fi one"
    re.compile(
        r"^(?P<pos>.+?)\s*[,;]\s*(?:but\s+)?not\s+(?P<neg>(?:the|my|that|this|a|an)\s+[^,.;!?]+)"
        r"[.!?]*$",
        re.IGNORECASE,
    ),
)
_ONE = re.compile(r"\b(?:the|that|this)\s+(?:other\s+)?one\b", re.IGNORECASE)
_FILLER = re.compile(r"^(?:my|the|a|an|about|your)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Correction:
    """What the customer does not mean, and what they do."""

    negated: str
    wanted: str

    def wanted_text(self) -> str:
        """The wanted part, "the one" replaced by the negated part's noun."""
        noun = _head_noun(self.negated)
        wanted = self.wanted.strip()
        return _ONE.sub(f"the {noun}", wanted) if noun else wanted


def correction(text: str) -> Correction | None:
    """The correction ``text`` makes, or None when it makes none."""
    stripped = text.strip()
    for pattern in _PATTERNS:
        match = pattern.match(stripped)
        if match and len(match.group("pos").split()) >= 1 and match.group("neg").strip():
            return Correction(match.group("neg").strip(), match.group("pos").strip(" .!"))
    return None


def _head_noun(phrase: str) -> str:
    words = [w for w in re.findall(r"[\w'-]+", phrase) if w.lower() not in {"one", "ones"}]
    while words and _FILLER.match(words[0] + " "):
        words.pop(0)
    return words[-1] if words else ""
