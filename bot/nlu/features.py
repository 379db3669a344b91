"""Turns the sentence features Rasa's featurizers attached to messages into one matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message

#: One message's feature row: column indices and their values.
Row = tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]


@dataclass
class Block:
    """One featurizer's sentence features: its origin, width and (sparse only) idf weights."""

    origin: str
    dim: int
    idf: npt.NDArray[np.float32] | None  # None for dense blocks


def _sentence_features(message: Message, featurizers: list[str]) -> dict[str, object]:
    return {
        str(f.origin): f.features
        for f in message.features
        if f.attribute == TEXT
        and f.type == FEATURE_TYPE_SENTENCE
        and (not featurizers or f.origin in featurizers)
    }


class FeatureAssembler:
    """Concatenates per-featurizer blocks: sparse counts get sublinear tf-idf, every block
    is L2-normalised per row and scaled (``sparse_weight`` / ``dense_weight``)."""

    def __init__(self, blocks: list[Block], sparse_weight: float, dense_weight: float) -> None:
        self.blocks = blocks
        self.sparse_weight = sparse_weight
        self.dense_weight = dense_weight

    @classmethod
    def fit(
        cls,
        messages: list[Message],
        featurizers: list[str],
        sparse_weight: float,
        dense_weight: float,
    ) -> FeatureAssembler:
        """Learns block layout and idf weights from training messages."""
        found: dict[str, list[object]] = {}
        for message in messages:
            for origin, matrix in _sentence_features(message, featurizers).items():
                found.setdefault(origin, []).append(matrix)
        blocks = []
        for origin in sorted(found):
            rows = found[origin]
            if sp.issparse(rows[0]):
                counts = sp.vstack(rows).tocsr()
                df = np.bincount(counts.indices, minlength=counts.shape[1])
                idf = np.log((1 + len(messages)) / (1 + df)) + 1.0
                blocks.append(Block(origin, counts.shape[1], idf.astype(np.float32)))
            else:
                blocks.append(Block(origin, int(np.asarray(rows[0]).shape[-1]), None))
        return cls(blocks, sparse_weight, dense_weight)

    @property
    def dim(self) -> int:
        return sum(b.dim for b in self.blocks)

    def transform(self, messages: list[Message], featurizers: list[str]) -> sp.csr_matrix:
        """One row per message; a block a message lacks stays zero."""
        per_message = [_sentence_features(m, featurizers) for m in messages]
        parts = []
        for block in self.blocks:
            parts.append(self._block(block, [f.get(block.origin) for f in per_message]))
        if not parts:
            return sp.csr_matrix((len(messages), 0), dtype=np.float32)
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def rows(self, messages: list[Message], featurizers: list[str]) -> list[Row]:
        """Each message's row of :meth:`transform` as (columns, values), built without any
        sparse matrix: a parse scores one message, and scipy's constructors cost more than
        the arithmetic."""
        rows = []
        for message in messages:
            found = _sentence_features(message, featurizers)
            columns: list[npt.NDArray[np.int64]] = []
            values: list[npt.NDArray[np.float32]] = []
            offset = 0
            for block in self.blocks:
                part = found.get(block.origin)
                if part is not None:
                    cols, vals = self._one(block, part)
                    columns.append(cols + offset)
                    values.append(vals)
                offset += block.dim
            rows.append(
                (
                    np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64),
                    np.concatenate(values) if values else np.zeros(0, dtype=np.float32),
                )
            )
        return rows

    def _one(
        self, block: Block, part: object
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """One block of one message, scaled exactly as :meth:`_block` scales a row."""
        if block.idf is None:
            dense = np.asarray(part, dtype=np.float32).reshape(-1)[: block.dim]
            norm = float(np.linalg.norm(dense))
            scale = self.dense_weight / max(norm, 1e-12) if norm > 0 else 0.0
            return np.arange(dense.shape[0], dtype=np.int64), dense * np.float32(scale)
        coo = part.tocoo() if sp.issparse(part) else sp.coo_matrix(part)  # type: ignore[attr-defined]
        keep = coo.col < block.dim
        cols = coo.col[keep].astype(np.int64)
        data = np.log1p(coo.data[keep].astype(np.float32)) * block.idf[cols]
        norm = float(np.sqrt(np.sum(data.astype(np.float64) ** 2)))
        scale = self.sparse_weight / max(norm, 1e-12) if norm > 0 else 0.0
        return cols, (data * scale).astype(np.float32)

    def _block(self, block: Block, rows: list[object]) -> sp.csr_matrix:
        if block.idf is None:
            dense = np.zeros((len(rows), block.dim), dtype=np.float32)
            for i, row in enumerate(rows):
                if row is not None:
                    dense[i] = np.asarray(row, dtype=np.float32).reshape(-1)[: block.dim]
            norms = np.linalg.norm(dense, axis=1)
            scale = np.where(norms > 0, self.dense_weight / np.maximum(norms, 1e-12), 0.0)
            return sp.csr_matrix(dense * scale[:, None].astype(np.float32))
        empty = sp.csr_matrix((1, block.dim), dtype=np.float32)
        stacked = [sp.csr_matrix(r)[:, : block.dim] if r is not None else empty for r in rows]
        matrix = sp.vstack(stacked, format="csr", dtype=np.float32)
        # sublinear tf times idf, then each row scaled to length ``sparse_weight``
        matrix.data = np.log1p(matrix.data) * block.idf[matrix.indices]
        row_of = np.repeat(np.arange(len(rows)), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=matrix.data**2, minlength=len(rows)))
        scale = np.where(norms > 0, self.sparse_weight / np.maximum(norms, 1e-12), 0.0)
        matrix.data = (matrix.data * scale[row_of]).astype(np.float32)
        return matrix
