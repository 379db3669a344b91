"""Builds intent output and Rasa's ``response_selector`` structure from a full-label ranking."""

from __future__ import annotations

import hashlib
from typing import Any

from rasa.nlu.constants import (
    RESPONSE_SELECTOR_DEFAULT_INTENT,
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.constants import UTTER_PREFIX
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY

FULL_NAME_KEY = "full_name"


def base_intent(full_label: str) -> str:
    """``faq/opening_hours`` -> ``faq``; a plain intent stays as it is."""
    return full_label.split("/", 1)[0]


def label_id(full_label: str) -> int:
    """A stable numeric id for a label (Rasa's rankings carry one)."""
    return int.from_bytes(hashlib.sha256(full_label.encode()).digest()[:6], "big")


def intent_ranking(ranked: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """``intent_ranking`` entries: base intent name, full label and confidence."""
    return [
        {"name": base_intent(full), FULL_NAME_KEY: full, PREDICTED_CONFIDENCE_KEY: p}
        for full, p in ranked
    ]


def response_selector(
    ranked: list[tuple[str, float]],
    top_k: list[tuple[str, float]],
    retrieval_intents: list[str],
    responses: dict[str, list[dict[str, Any]]],
) -> dict[str, Any] | None:
    """Rasa ``ResponseSelector``-shaped output, or ``None`` when no retrieval label is in
    ``top_k`` (the shown ranking). ``ranked`` holds every label, best first."""
    shown = [full for full, _ in top_k if "/" in full]
    if not shown:
        return None
    output: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: list(retrieval_intents)}
    default_intent = base_intent(shown[0])
    length = len(top_k)
    for intent in retrieval_intents:
        candidates = [(f, p) for f, p in ranked if base_intent(f) == intent and "/" in f]
        if not candidates:
            continue
        best, confidence = candidates[0]
        template = f"{UTTER_PREFIX}{best}"
        prediction = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: responses.get(template) or [{"text": best}],
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: best,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: template,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {"id": label_id(f), PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: f}
                for f, p in candidates[:length]
            ],
        }
        output[intent] = prediction
        if intent == default_intent:
            output[RESPONSE_SELECTOR_DEFAULT_INTENT] = prediction
    return output
