"""Answering every question of a message (up to three), in order, in one turn.

A message splits into pieces (:mod:`bot.faq.segments`); each piece is read by the trained
model (:mod:`bot.faq.parser`). The FAQ entries the model is sure of, one per piece, are
the questions to answer. A single-question message is never parsed again: only messages
that split are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.faq.corrections import correction
from bot.faq.knowledge_base import FaqEntry, KnowledgeBase
from bot.faq.parser import Parser
from bot.faq.segments import MAX_QUESTIONS, clauses, question_segments

#: The confidence a piece's FAQ entry needs (the FallbackClassifier's threshold in config.yml).
MIN_CONFIDENCE = 0.5
#: The confidence the wanted part of a correction needs: the customer has just said what
#: they do not mean, so the best remaining reading is taken at a lower bar.
MIN_CORRECTED_CONFIDENCE = 0.3


@dataclass(frozen=True)
class Corrected:
    """A correction's reading: the entry the customer does not mean, the one they do."""

    negated: FaqEntry | None
    wanted: FaqEntry | None


def selected_entry(
    parse_data: Mapping[str, Any], knowledge_base: KnowledgeBase, min_confidence: float
) -> FaqEntry | None:
    """The FAQ entry the parse data is sure of, if any."""
    intent = parse_data.get("intent") or {}
    if intent.get("name") != "faq" or float(intent.get("confidence") or 0) < min_confidence:
        return None
    selected = ((parse_data.get("response_selector") or {}).get("faq") or {}).get("response")
    key = str((selected or {}).get("intent_response_key") or "")
    if float((selected or {}).get("confidence") or 0) < min_confidence:
        return None
    return knowledge_base.entry(key)


async def questions_in(
    text: str,
    parser: Parser,
    knowledge_base: KnowledgeBase,
    *,
    excluded: frozenset[str] = frozenset(),
    min_confidence: float = MIN_CONFIDENCE,
    contexts: Sequence[str] = (),
) -> list[FaqEntry]:
    """The FAQ entries asked about in ``text``, in order, without repeats, at most
    :data:`MAX_QUESTIONS`; [] when the message does not split into several pieces.
    ``excluded`` holds entry keys (``faq/<id>``) that must not be answered (human-only); a
    follow-up or step counts only when it belongs to one of ``contexts`` (entries answered
    earlier in the conversation)."""
    pieces = question_segments(text)
    if len(pieces) < 2:
        return []
    parsed = await asyncio.gather(*(parser.parse(piece) for piece in pieces))
    found: list[FaqEntry] = []
    for parse_data in parsed:
        entry = selected_entry(parse_data, knowledge_base, min_confidence)
        if entry is None or entry.intent_response_key in excluded or entry in found:
            continue
        if entry.parent is not None and entry.parent not in contexts:
            continue  # "can I do it in the app?" means nothing without its answer
        found.append(entry)
        if len(found) == MAX_QUESTIONS:
            break
    return found


async def corrected(
    text: str,
    parser: Parser,
    knowledge_base: KnowledgeBase,
    *,
    excluded: frozenset[str] = frozenset(),
    min_confidence: float = MIN_CORRECTED_CONFIDENCE,
) -> Corrected | None:
    """The reading of a correction ("not X, Y"), or None when ``text`` corrects nothing."""
    found = correction(text)
    if found is None:
        return None
    negated_data, wanted_data = await asyncio.gather(
        parser.parse(found.negated), parser.parse(found.wanted_text())
    )
    negated = selected_entry(negated_data, knowledge_base, 0.0)
    selector = (wanted_data.get("response_selector") or {}).get("faq") or {}
    for candidate in selector.get("ranking") or []:
        entry = knowledge_base.entry(str(candidate.get("intent_response_key") or ""))
        if entry is None or entry == negated or entry.intent_response_key in excluded:
            continue
        wanted = entry if float(candidate.get("confidence") or 0) >= min_confidence else None
        return Corrected(negated, wanted)
    return Corrected(negated, None)


async def topic_in_clauses(
    text: str,
    parser: Parser,
    knowledge_base: KnowledgeBase,
    *,
    excluded: frozenset[str] = frozenset(),
    min_confidence: float = MIN_CONFIDENCE,
) -> FaqEntry | None:
    """The FAQ entry one clause of an emotional or rambling message is surely about ("this
    is ridiculous, my wifi keeps dropping, I'm going to lose my job" -> wifi_dropping): the
    most confident clause's entry; None when no clause is clear (or the text has one)."""
    pieces = clauses(text)
    if not pieces:
        return None
    best: tuple[float, FaqEntry] | None = None
    for parse_data in await asyncio.gather(*(parser.parse(piece) for piece in pieces)):
        entry = selected_entry(parse_data, knowledge_base, min_confidence)
        if entry is None or entry.parent is not None or entry.intent_response_key in excluded:
            continue
        confidence = float((parse_data.get("intent") or {}).get("confidence") or 0.0)
        if best is None or confidence > best[0]:
            best = (confidence, entry)
    return best[1] if best else None
