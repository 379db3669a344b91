"""Text features shared by training and inference: hashed n-grams plus lexicon cues.

Everything here is stateless (hashing, not a fitted vocabulary), so the shipped model is
only weight arrays; the same functions build the training matrix and the runtime vector.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

Array = npt.NDArray[Any]
WORD_BITS = 18
CHAR_BITS = 18
NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "nowhere",
        "neither",
        "nor",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "wasnt",
        "arent",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "havent",
        "hasnt",
        "hadnt",
        "aint",
    ]
)
# Situations customers (and tweets) complain about: the "negative situation" half of irony.
SITUATIONS = frozenset(
    [
        "again",
        "down",
        "died",
        "dead",
        "broke",
        "broken",
        "crash",
        "crashed",
        "crashes",
        "fail",
        "failed",
        "fails",
        "failing",
        "outage",
        "waiting",
        "wait",
        "hold",
        "hours",
        "days",
        "week",
        "weeks",
        "monday",
        "mondays",
        "homework",
        "exam",
        "exams",
        "traffic",
        "rain",
        "sick",
        "work",
        "stuck",
        "late",
        "delayed",
        "cancelled",
        "canceled",
        "lost",
        "overcharged",
        "charged",
        "disconnected",
        "slow",
        "lag",
        "lagging",
        "error",
        "bug",
        "bugs",
        "nothing",
        "nobody",
        "still",
        "forever",
        "another",
        "cut",
        "off",
    ]
)
INTERJECTIONS = frozenset(
    [
        "wow",
        "yay",
        "oh",
        "ah",
        "gee",
        "yeah",
        "sure",
        "great",
        "wonderful",
        "lovely",
        "fantastic",
        "awesome",
        "brilliant",
        "perfect",
        "nice",
        "thanks",
        "thank",
        "love",
    ]
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(r"[#@]?[\w']+|[^\w\s]", re.UNICODE)
_PUNCT_END = re.compile(r"^[.,!?;:]$")


@lru_cache(maxsize=1)
def vader() -> Any:
    """VADER's analyser, built once (its lexicon also marks positive and negative words)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _hashers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(
        analyzer=word_ngrams, n_features=2**WORD_BITS, alternate_sign=False, norm=None
    )
    chars = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        n_features=2**CHAR_BITS,
        alternate_sign=False,
        norm=None,
        lowercase=True,
    )
    return words, chars


def normalise(text: str) -> str:
    """Lower-cases, maps URLs to a token and shortens letters repeated 3+ times to 2."""
    text = _URL.sub(" URL ", text)
    return _ELONGATED.sub(r"\1\1", text).lower()


def tokens(text: str) -> list[str]:
    """Word, hashtag and punctuation/emoji tokens, with ``NEG_`` marking negation scope."""
    out: list[str] = []
    negated = False
    for tok in _TOKEN.findall(normalise(text)):
        if _PUNCT_END.match(tok):
            negated = False
            out.append(tok)
            continue
        out.append("NEG_" + tok if negated else tok)
        if tok.replace("'", "") in NEGATIONS or tok.endswith("n't"):
            negated = True
    return out


def word_ngrams(text: str) -> list[str]:
    """Unigrams and bigrams of :func:`tokens`."""
    toks = tokens(text)
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def dense(text: str) -> list[float]:
    """Lexicon and style cues (VADER scores, contrast, punctuation, capitals, emoji)."""
    analyser = vader()
    scores = analyser.polarity_scores(text)
    raw = text.split()
    low = _words(text)
    valences = [analyser.lexicon.get(w, 0.0) for w in low]
    max_pos = max([v for v in valences if v > 0], default=0.0) / 4
    max_neg = -min([v for v in valences if v < 0], default=0.0) / 4
    situations = [i for i, w in enumerate(low) if w in SITUATIONS]
    first_pos = next((i for i, v in enumerate(valences) if v > 0), None)
    caps = sum(1 for w in raw if len(w) > 1 and w.isupper())
    emoji = sum(1 for ch in text if ord(ch) > 0x2600)
    return [
        scores["compound"],
        scores["pos"],
        scores["neg"],
        scores["neu"],
        max_pos,
        max_neg,
        float(max_pos > 0 and (max_neg > 0 or bool(situations))),
        float(first_pos is not None and any(i > first_pos for i in situations)),
        min(len(situations), 3) / 3,
        min(text.count("!"), 3) / 3,
        min(text.count("?"), 3) / 3,
        float("..." in text or "…" in text),
        float(text.count('"') >= 2 or "“" in text),
        caps / max(len(raw), 1),
        float(bool(_ELONGATED.search(text))),
        min(text.count("#"), 3) / 3,
        float(bool(low) and low[0] in INTERJECTIONS),
        min(sum(1 for t in tokens(text) if t.startswith("NEG_")), 3) / 3,
        min(emoji, 3) / 3,
        min(len(raw), 40) / 40,
    ]


def _words(text: str) -> list[str]:
    return [re.sub(r"[^\w#']", "", w.lower()) for w in text.split()]


def negative_cue(text: str) -> bool:
    """A negative lexicon word or a trouble word ("down", "again", "waiting", ...)."""
    lexicon = vader().lexicon
    return any(lexicon.get(w, 0.0) < 0 or w in SITUATIONS for w in _words(text))


def without_positive(text: str) -> str:
    """``text`` minus its positive lexicon words: what is left is the situation."""
    lexicon = vader().lexicon
    kept = zip(text.split(), _words(text), strict=True)
    return " ".join(word for word, low in kept if lexicon.get(low, 0.0) <= 0)


def hashed(texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Raw hashed counts (words, chars); weighting is applied by :func:`weigh`."""
    words, chars = _hashers()
    normed = [normalise(t) for t in texts]
    return words.transform(list(texts)), chars.transform(normed)


def weighted_data(counts: sp.csr_matrix, idf: Array) -> tuple[Array, Array]:
    """Sublinear tf x idf of ``counts``' stored values, rows at unit length; and row ids."""
    lengths = np.diff(counts.indptr)
    rows = np.repeat(np.arange(counts.shape[0]), lengths)
    values = np.log1p(counts.data.astype(np.float64)) * idf[counts.indices]
    norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=counts.shape[0]))
    return values / np.clip(norms, 1e-9, None)[rows], rows


def weigh(counts: sp.csr_matrix, idf: Array) -> sp.csr_matrix:
    """:func:`weighted_data` as a matrix (float64, so products never upcast)."""
    values, _ = weighted_data(counts, idf)
    return sp.csr_matrix((values, counts.indices, counts.indptr), shape=counts.shape)


def cues(texts: Sequence[str]) -> Array:
    """The dense cue block, one row per text."""
    return np.array([dense(t) for t in texts], dtype=np.float64).reshape(len(texts), -1)


def matrix(texts: Sequence[str], idf_words: Array, idf_chars: Array) -> sp.csr_matrix:
    """The full design matrix (training): weighted words, weighted chars, dense cues."""
    words, chars = hashed(texts)
    blocks = [weigh(words, idf_words), weigh(chars, idf_chars), sp.csr_matrix(cues(texts))]
    return sp.hstack(blocks, format="csr")
