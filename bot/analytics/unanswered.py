"""Unanswered questions: fallback and low-confidence customer messages, clustered by
meaning, ranked by how often they were asked, each with the closest FAQ entry."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.analytics.conversations import Conversation, UserTurn
from bot.analytics.redact import redact
from bot.faq.knowledge_base import KnowledgeBase

Vectors = npt.NDArray[np.float32]
LOW_CONFIDENCE = 0.4  # below this an FAQ/intent guess counts as unanswered
DISTANCE_THRESHOLD = 0.35  # cosine distance that still joins two clusters (average linkage)
MAX_DISTINCT_TEXTS = 5000  # agglomerative clustering is quadratic: keep the most frequent


class Encoder(Protocol):
    """Sentence embeddings: unit-length rows (``bot.encoders.minilm``)."""

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors: ...


@dataclass(frozen=True)
class Cluster:
    """Questions that mean the same thing, with the nearest existing FAQ entry."""

    count: int  # messages in the cluster
    examples: tuple[str, ...]  # distinct texts, most frequent first (redacted)
    nearest_entry: str | None
    nearest_topic: str | None
    similarity: float  # cosine similarity of the cluster to that entry (-1..1)


def is_unanswered(turn: UserTurn, low_confidence: float = LOW_CONFIDENCE) -> bool:
    """A fallback turn, or one whose intent confidence is below ``low_confidence``."""
    return turn.is_fallback or (turn.confidence is not None and turn.confidence < low_confidence)


async def unanswered_texts(
    conversations: AsyncIterable[Conversation], low_confidence: float = LOW_CONFIDENCE
) -> Counter[str]:
    """How often each (redacted, whitespace-normalised, lower-cased) question was asked."""
    counts: Counter[str] = Counter()
    async for conversation in conversations:
        for turn in conversation.turns:
            if is_unanswered(turn, low_confidence) and turn.text.strip():
                counts[" ".join(redact(turn.text).lower().split())] += 1
    return counts


def _labels(vectors: Vectors, threshold: float) -> npt.NDArray[np.int64]:
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, affinity="cosine", linkage="average"
    )
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


@dataclass(frozen=True)
class EntryIndex:
    """Every FAQ entry as the mean embedding of its question and examples (unit length)."""

    names: list[tuple[str, str]]  # (entry id, topic)
    centroids: Vectors

    @classmethod
    def build(cls, kb: KnowledgeBase, encoder: Encoder) -> EntryIndex:
        """Encodes the knowledge base (once per run: it is the slow part)."""
        entries = list(kb.entries)
        texts = [[e.question, *e.examples] for e in entries]
        flat = encoder.encode([t for group in texts for t in group])
        centroids, start = [], 0
        for group in texts:
            centroids.append(flat[start : start + len(group)].mean(axis=0))
            start += len(group)
        matrix = np.array(centroids, dtype=np.float32).reshape(len(entries), -1)
        return cls([(e.id, e.topic) for e in entries], _normalise(matrix))


def _normalise(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.clip(norms, 1e-12, None), dtype=np.float32)


def cluster_questions(
    counts: Counter[str],
    encoder: Encoder,
    index: EntryIndex,
    threshold: float = DISTANCE_THRESHOLD,
    examples: int = 8,
) -> list[Cluster]:
    """Clusters the questions; largest first, ties by their most frequent text."""
    texts = [t for t, _ in counts.most_common(MAX_DISTINCT_TEXTS)]
    if not texts:
        return []
    vectors = encoder.encode(texts)
    labels = _labels(vectors, threshold)
    names, centroids = index.names, index.centroids
    clusters: list[Cluster] = []
    for label in sorted(set(labels.tolist())):
        members = [i for i in range(len(texts)) if labels[i] == label]
        weights = np.array([counts[texts[i]] for i in members], dtype=np.float32)
        centre = _normalise((vectors[members] * weights[:, None]).sum(axis=0, keepdims=True))[0]
        entry, topic, similarity = None, None, -1.0
        if len(names):
            scores = centroids @ centre
            best = int(np.argmax(scores))
            (entry, topic), similarity = names[best], float(scores[best])
        ranked = sorted(members, key=lambda i: (-counts[texts[i]], texts[i]))
        clusters.append(
            Cluster(
                count=int(weights.sum()),
                examples=tuple(texts[i] for i in ranked[:examples]),
                nearest_entry=entry,
                nearest_topic=topic,
                similarity=round(similarity, 4),
            )
        )
    return sorted(clusters, key=lambda c: (-c.count, c.examples[0]))


def total_messages(clusters: Iterable[Cluster]) -> int:
    """All messages across clusters."""
    return sum(c.count for c in clusters)
