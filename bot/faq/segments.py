"""Several questions in one message: where a customer's message splits into questions.

"Is there a minimum term, and can I keep the hub if I leave?" holds two questions; a long
story that ends in "... so how do I get a refund?" holds one, at the end. The split is on
sentence boundaries, then on a conjunction or comma that is followed by a new question
(a question word or an auxiliary verb): "... and can I ...", "..., also how ...". Pieces
too short to be a question on their own stay with their neighbour.
"""

from __future__ import annotations

import re

#: At most this many questions are answered from one message.
MAX_QUESTIONS = 3
#: A piece shorter than this many words is not a question of its own.
MIN_WORDS = 3
_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")
_QUESTION_START = (
    r"(?:how|what|what's|whats|when|where|why|who|which|can|could|do|does|did|is|are|"
    r"will|would|should|shall|may|has|have|am|i\s+(?:also\s+)?(?:want|need|would\s+like)\s+to)"
)
_JOIN = re.compile(
    rf"(?:,\s*|\s+)(?:and\s+(?:also\s+)?|also\s+|plus\s+|then\s+)?(?=(?:{_QUESTION_START})\b)",
    re.IGNORECASE,
)
#: A lead-in that names a topic rather than asking ("back to paying, can I ...").
_LEAD_IN = re.compile(
    r"^(?:ok(?:ay)?,?\s+|so,?\s+)?(?:(?:going|go|coming|getting)\s+)?(?:back\s+to|about|regarding|re)\b",
    re.IGNORECASE,
)
_JOINED_BY_WORD = re.compile(r"(?:,\s*(?:and|also|plus|then)?|\s+(?:and|also|plus|then))\s*$", re.I)


def question_segments(text: str) -> list[str]:
    """The message's pieces that may each be a question, in order (the whole text when
    it does not split)."""
    pieces: list[str] = []
    for sentence in _SENTENCE.split(text.strip()):
        pieces += _split_sentence(sentence.strip())
    merged: list[str] = []
    lead_in = ""
    for raw in (p for p in pieces if p):
        piece = f"{lead_in.rstrip(' ,.;')}, {raw}" if lead_in else raw
        lead_in = ""
        if _LEAD_IN.match(piece) and "?" not in piece:
            lead_in = piece  # it belongs to the question after it
        elif merged and len(piece.split()) < MIN_WORDS:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if lead_in:
        merged.append(lead_in)
    if len(merged) > 1 and len(merged[0].split()) < MIN_WORDS:
        merged[1] = f"{merged[0]} {merged[1]}"
        merged.pop(0)
    return merged or [text.strip()]


def _split_sentence(sentence: str) -> list[str]:
    """A sentence split before each joined question ("..., and can I ...")."""
    starts = [0]
    for match in _JOIN.finditer(sentence):
        before = sentence[: match.start()]
        joined = bool(match.group(0).strip()) or _JOINED_BY_WORD.search(before)
        if match.start() > 0 and joined and len(before[starts[-1] :].split()) >= MIN_WORDS:
            starts.append(match.end())
    ends = [*starts[1:], len(sentence)]
    pieces = []
    for start, end in zip(starts, ends, strict=True):
        piece = sentence[start:end].strip(" ,;")
        piece = _JOINED_BY_WORD.sub("", piece).strip(" ,;")
        pieces.append(piece)
    return pieces


#: Where a sentence splits into clauses: commas, semicolons, dashes, "and"/"but"/"so".
_CLAUSE = re.compile(r"\s*(?:[,;:]|\s-\s|\band\b|\bbut\b|\bso\b|\bbecause\b)\s*", re.IGNORECASE)


def clauses(text: str) -> list[str]:
    """The clauses of at least :data:`MIN_WORDS` words of a message that has several ("I'm
    at my wits' end, I work from home and the wifi keeps dropping" -> its clauses); [] for
    a message of one clause."""
    pieces = [
        c.strip(" .!?")
        for sentence in _SENTENCE.split(text.strip())
        for c in _CLAUSE.split(sentence)
    ]
    if len([p for p in pieces if p]) < 2:
        return []
    return [c for c in pieces if len(c.split()) >= MIN_WORDS]
