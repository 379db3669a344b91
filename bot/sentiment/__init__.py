"""Sentiment and irony of customer messages behind one small async interface.

>>> import asyncio
>>> [s] = asyncio.run(analyse_texts(["Great, my internet died again. Thanks a lot."]))
>>> (s.label, s.irony)
('negative', True)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

Label = Literal["negative", "neutral", "positive"]
_LABELS: tuple[Label, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Sentiment:
    """One message's reading: ``score`` runs from -1 (negative) to 1 (positive)."""

    label: Label
    score: float
    irony: bool
    irony_probability: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI and the Rasa component emit this)."""
        return asdict(self)


class SentimentAnalyser(Protocol):
    """Anything that reads sentiment and irony of a batch of texts."""

    async def analyse(self, texts: Sequence[str]) -> list[Sentiment]:
        """One :class:`Sentiment` per text, in order."""
        ...


class LinearSentimentAnalyser:
    """The project's own model: hashed n-grams + VADER cues into two linear classifiers.

    Sarcasm (strong irony on a positive surface, about a negative situation) is not
    praise: the label becomes negative.
    """

    def __init__(self, model_path: Path | None = None) -> None:
        from bot.sentiment.model import MODEL_PATH

        self._path = model_path or MODEL_PATH

    async def analyse(self, texts: Sequence[str]) -> list[Sentiment]:
        """Runs the CPU-bound scoring inline for small batches, in a thread for big ones."""
        if len(texts) <= 8:
            return _analyse(texts, self._path)
        return await asyncio.to_thread(_analyse, texts, self._path)


def _analyse(texts: Sequence[str], path: Path) -> list[Sentiment]:
    """The synchronous core (also used by the Rasa component, which Rasa calls sync)."""
    from bot.sentiment import model

    if not texts:
        return []
    scores = model.score(texts, model.load(path))
    return [
        _combine(probs, float(irony_p), bool(irony), bool(sarcasm))
        for probs, irony_p, irony, sarcasm in zip(
            scores.probabilities,
            scores.irony_probability,
            scores.irony,
            scores.sarcasm,
            strict=True,
        )
    ]


def _combine(probabilities: Any, irony_probability: float, irony: bool, sarcasm: bool) -> Sentiment:
    """Final label: argmax, except a sarcastic positive surface reads as negative."""
    label = _LABELS[int(probabilities.argmax())]
    score = float(probabilities[2] - probabilities[0])
    if sarcasm and label == "positive":
        label, score = "negative", -abs(score)
    return Sentiment(label, round(score, 4), irony or sarcasm, round(irony_probability, 4))


@lru_cache(maxsize=1)
def default_analyser() -> LinearSentimentAnalyser:
    """The process-wide analyser (weights load lazily on the first call)."""
    return LinearSentimentAnalyser()


async def analyse_texts(texts: Sequence[str]) -> list[Sentiment]:
    """Analyses ``texts`` with :func:`default_analyser`."""
    return await default_analyser().analyse(texts)


__all__ = [
    "LinearSentimentAnalyser",
    "Sentiment",
    "SentimentAnalyser",
    "analyse_texts",
    "default_analyser",
]
