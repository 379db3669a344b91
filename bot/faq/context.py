"""The conversation so far, as the FAQ sees it: what was answered, and what comes next.

- A follow-up ("and from the app?", "how long does that take?") is read against the entries
  answered earlier in the conversation, the latest first: the model's ranking is
  re-ranked by them (:func:`follow_up_in_context`), so "is it free?" after the answer on
  changing plan gets that entry's follow-up, not the best match of the words alone.
- When an answer did not help ("still the same", "no", or the same question again), the
  entry's next step (``if_not_solved:``) comes next, and never the same answer twice
  (:func:`next_step`); after the last step, a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.faq.knowledge_base import FaqEntry, KnowledgeBase

#: The slot that holds the FAQ entry answered last (its history is the conversation's).
ANSWERED_SLOT = "faq_id"
#: The share of the model's belief that must go to follow-ups for a message to be read as one.
MIN_FOLLOW_UP_SHARE = 0.3
#: How many earlier answers a follow-up may refer to (the latest first).
CONTEXT_DEPTH = 3


def answered(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ids answered in this conversation, oldest first (``faq_id`` slot events)."""
    return [
        str(e["value"])
        for e in events
        if e.get("event") == "slot" and e.get("name") == ANSWERED_SLOT and e.get("value")
    ]


def root_of(entry_id: str, knowledge_base: KnowledgeBase) -> str:
    """The entry a follow-up or step belongs to (the entry itself otherwise)."""
    entry = knowledge_base.entry(entry_id)
    return entry.parent or entry.id if entry is not None else entry_id


def contexts(history: Sequence[str], knowledge_base: KnowledgeBase) -> list[str]:
    """The entries answered, latest first, without repeats."""
    roots: list[str] = []
    for entry_id in reversed(history):
        root = root_of(entry_id, knowledge_base)
        if root not in roots:
            roots.append(root)
    return roots[:CONTEXT_DEPTH]


def follow_up_in_context(
    parse_data: Mapping[str, Any], knowledge_base: KnowledgeBase, history: Sequence[str]
) -> FaqEntry | None:
    """The follow-up of an earlier answer the message asks, when it reads as a follow-up."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    candidates: list[tuple[FaqEntry, float]] = []
    for candidate in selector.get("ranking") or []:
        entry = knowledge_base.entry(str(candidate.get("intent_response_key") or ""))
        if entry is not None and entry in _follow_ups(entry, knowledge_base):
            candidates.append((entry, float(candidate.get("confidence") or 0.0)))
    if sum(confidence for _, confidence in candidates) < MIN_FOLLOW_UP_SHARE:
        return None
    for context in contexts(history, knowledge_base):
        for entry, _ in candidates:
            if entry.parent == context:
                return entry
    return None


def next_step(history: Sequence[str], knowledge_base: KnowledgeBase) -> FaqEntry | None:
    """What to try next for the latest answer's entry: its first ``if_not_solved`` step not
    given yet (a step naming an entry already answered counts as given); None when none is
    left."""
    if not history:
        return None
    root = knowledge_base.entry(root_of(history[-1], knowledge_base))
    if root is None:
        return None
    given = set(history) | {root_of(h, knowledge_base) for h in history} | set(root.covers)
    for step in root.next_steps:
        if step.id not in given and (step.refers_to is None or step.refers_to not in given):
            return step
    return None


#: Words that say an answer's advice was tried already ("I already restarted it twice").
_ALREADY_TRIED = re.compile(
    r"\b(?:already|tried|still|twice|again|did\s+that|done\s+that|did\s+not\s+(?:work|help)"
    r"|didn'?t\s+(?:work|help)|no\s+(?:luck|change|difference)|same\s+(?:problem|thing))\b",
    re.IGNORECASE,
)


def says_already_tried(text: str) -> bool:
    """Whether the customer says they tried the advice already (not a new question that
    happens to match the same entry, such as "do I have to pay for the postage?")."""
    return _ALREADY_TRIED.search(text) is not None


def repeats_latest(entry: FaqEntry, history: Sequence[str], knowledge_base: KnowledgeBase) -> bool:
    """Whether answering ``entry`` would repeat an answer already given for the latest
    entry: the entry itself, one of its steps, or an entry a given step named."""
    if not history:
        return False
    root = root_of(history[-1], knowledge_base)
    chain = [h for h in history if root_of(h, knowledge_base) == root]
    given = set(chain)
    for h in chain:
        step = knowledge_base.entry(h)
        if step is not None:
            given.update([step.refers_to] if step.refers_to else [], step.covers)
    root_entry = knowledge_base.entry(root)
    if root_entry is not None:
        given.update(root_entry.covers)
    return entry.id in given


def _follow_ups(entry: FaqEntry, knowledge_base: KnowledgeBase) -> tuple[FaqEntry, ...]:
    parent = knowledge_base.entry(entry.parent or "")
    return parent.follow_ups if parent is not None else ()
