"""Clarification when the model is unsure: "Did you mean ...?" with the top FAQ candidates."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.faq.knowledge_base import KnowledgeBase
from bot.latest_turn import events_before_latest_message

CLARIFY_ACTION = "action_clarify"


@dataclass(frozen=True)
class Suggestion:
    """A FAQ entry the customer may have meant."""

    entry_id: str
    question: str
    confidence: float

    @property
    def payload(self) -> str:
        """The button payload that answers this entry."""
        return "/choose_faq" + json.dumps({"faq_id": self.entry_id}, separators=(",", ":"))


def suggestions(
    parse_data: Mapping[str, Any],
    knowledge_base: KnowledgeBase,
    limit: int = 3,
    min_confidence: float = 0.02,
) -> list[Suggestion]:
    """The top FAQ candidates from the response selector's ranking, best first."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    found: list[Suggestion] = []
    for candidate in selector.get("ranking") or []:
        key = str(candidate.get("intent_response_key") or "")
        confidence = float(candidate.get("confidence") or 0.0)
        entry = knowledge_base.entry(key)
        if entry is None or entry.parent is not None or confidence < min_confidence:
            continue  # follow-ups and next steps are never offered on their own
        if all(s.entry_id != entry.id for s in found):
            found.append(Suggestion(entry.id, entry.question, confidence))
        if len(found) == limit:
            break
    return found


def clarification_already_tried(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the bot's last action before the latest user message was a clarification."""
    for event in events_before_latest_message(events):
        name = event.get("name")
        if event.get("event") != "action" or name in {"action_listen", "utter_clarify_none"}:
            continue
        return bool(name == CLARIFY_ACTION)
    return False
