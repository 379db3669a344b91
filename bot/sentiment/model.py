"""The shipped linear models: weight arrays in one compressed ``.npz``, loaded on first use."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.sentiment import features

Array = npt.NDArray[Any]
MODEL_PATH = Path(__file__).parent / "model" / "sentiment.npz"
FORMAT_VERSION = 3


@dataclass(frozen=True)
class Weights:
    """Everything inference needs; written by :mod:`bot.sentiment.train`."""

    idf_words: Array  # (2**WORD_BITS,)
    idf_chars: Array  # (2**CHAR_BITS,)
    sentiment_coef: Array  # (n_features, 3): negative, neutral, positive
    sentiment_intercept: Array  # (3,)
    irony_coef: Array  # (n_features,)
    irony_intercept: float
    irony_threshold: float  # the irony flag: classifier probability at or above this
    sarcasm_threshold: float  # an ironic positive reads negative only from this probability
    contrast_threshold: float  # P(negative) of the text without its positive words

    def save(self, path: Path) -> None:
        """Writes a compressed npz (float16 weights; deterministic bytes for given weights)."""
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "word_bits": np.array(features.WORD_BITS),
            "char_bits": np.array(features.CHAR_BITS),
            "idf_words": self.idf_words.astype(np.float16),
            "idf_chars": self.idf_chars.astype(np.float16),
            "sentiment_coef": self.sentiment_coef.astype(np.float16),
            "sentiment_intercept": self.sentiment_intercept.astype(np.float32),
            "irony_coef": self.irony_coef.astype(np.float16),
            "irony_intercept": np.array(self.irony_intercept, dtype=np.float32),
            "irony_threshold": np.array(self.irony_threshold, dtype=np.float32),
            "sarcasm_threshold": np.array(self.sarcasm_threshold, dtype=np.float32),
            "contrast_threshold": np.array(self.contrast_threshold, dtype=np.float32),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # Like np.savez_compressed, but C order and fixed timestamps: retraining is byte-identical.
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)  # type: ignore[no-untyped-call]
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue(), compresslevel=9)

    @classmethod
    def load(cls, path: Path) -> Weights:
        """Reads a file written by :meth:`save`; refuses other formats or feature sizes."""
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `make train-sentiment`")
        with np.load(path, allow_pickle=False) as z:
            found = (int(z["format_version"]), int(z["word_bits"]), int(z["char_bits"]))
            expected = (FORMAT_VERSION, features.WORD_BITS, features.CHAR_BITS)
            if found != expected:
                raise ValueError(f"{path} has format {found}, expected {expected}; retrain")
            return cls(
                idf_words=z["idf_words"].astype(np.float64),
                idf_chars=z["idf_chars"].astype(np.float64),
                sentiment_coef=np.ascontiguousarray(z["sentiment_coef"], dtype=np.float64),
                sentiment_intercept=z["sentiment_intercept"].astype(np.float64),
                irony_coef=z["irony_coef"].astype(np.float64),
                irony_intercept=float(z["irony_intercept"]),
                irony_threshold=float(z["irony_threshold"]),
                sarcasm_threshold=float(z["sarcasm_threshold"]),
                contrast_threshold=float(z["contrast_threshold"]),
            )


@dataclass(frozen=True)
class Scores:
    """Model outputs for a batch: class probabilities, irony probability and the decision."""

    probabilities: Array  # (n, 3): negative, neutral, positive
    irony_probability: Array  # (n,) the irony classifier
    irony: Array  # (n,) bool: the classifier at or above its threshold
    sarcasm: Array  # (n,) bool: strongly ironic AND a negative situation (the label flips)


def softmax(logits: Array) -> Array:
    """Row-wise softmax."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


@lru_cache(maxsize=4)
def load(path: Path = MODEL_PATH) -> Weights:
    """The weights at ``path``, read once per process."""
    return Weights.load(path)


def _sentiment(texts: Sequence[str], weights: Weights) -> tuple[Array, Array]:
    # The design matrix's products, computed block by block on raw arrays: the same sums
    # as ``features.matrix(...) @ coef`` without building sparse matrices per message.
    words, chars = features.hashed(texts)
    word_values, word_rows = features.weighted_data(words, weights.idf_words)
    char_values, char_rows = features.weighted_data(chars, weights.idf_chars)
    dense = features.cues(texts)
    rows = np.concatenate([word_rows, char_rows])
    values = np.concatenate([word_values, char_values])
    columns = np.concatenate([words.indices, chars.indices + words.shape[1]])
    offset = words.shape[1] + chars.shape[1]

    def dot(coef: Array) -> Array:
        coef = coef.reshape(coef.shape[0], -1)
        sparse_part = np.stack(
            [
                np.bincount(rows, weights=values * coef[columns, k], minlength=len(texts))
                for k in range(coef.shape[1])
            ],
            axis=1,
        )
        return np.asarray(sparse_part + dense @ coef[offset:])

    probabilities = softmax(dot(weights.sentiment_coef) + weights.sentiment_intercept)
    irony_logit = dot(weights.irony_coef).ravel() + weights.irony_intercept
    return probabilities, 1 / (1 + np.exp(-irony_logit))


def score(texts: Sequence[str], weights: Weights) -> Scores:
    """Scores a batch (CPU-bound, synchronous).

    ``irony`` is the classifier's decision. ``sarcasm`` (a positive reading that is really
    negative) needs more: a probability at or above ``sarcasm_threshold`` and a negative
    situation (a negative or trouble word, and the text still reading negative once its
    positive words are removed), so sincere praise ("thanks, that fixed it!") is not flipped.
    """
    probabilities, irony_p = _sentiment(texts, weights)
    sarcasm = irony_p >= weights.sarcasm_threshold
    candidates = list(np.flatnonzero(sarcasm & (probabilities.argmax(axis=1) == 2)))
    sarcasm[:] = False
    if candidates:
        masked, _ = _sentiment([features.without_positive(texts[i]) for i in candidates], weights)
        cue = np.array([features.negative_cue(texts[i]) for i in candidates])
        sarcasm[candidates] = cue & (masked[:, 0] >= weights.contrast_threshold)
    return Scores(probabilities, irony_p, irony_p >= weights.irony_threshold, sarcasm)
