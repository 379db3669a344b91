"""Trains the shipped sentiment + irony weights: ``python -m bot.sentiment.train``.

Sentiment: SemEval 2013-2016 tweets minus TweetEval's validation split, plus the project's
own support examples (``data.support_examples``: tweets are not support messages). Irony:
TweetEval irony train plus the support examples as sincere rows. Hyper-parameters, class
offsets and thresholds are chosen by cross-validation on these training sets only; nothing
here reads a validation or test split. Seeded and single-threaded, so the written file is
byte-identical across runs on the same stack and the same ``data/``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot.sentiment import data, features
from bot.sentiment.model import MODEL_PATH, Array, Weights

SEED = 0
SENTIMENT_ALPHA = 1e-5  # SGD L2 strength, by 3-fold CV macro-recall on the training pool
SENTIMENT_EPOCHS = 30
NB_SMOOTHING = 1.0  # add-one counts for the naive-Bayes ratios
IRONY_C = 3.0  # logistic regression, by 5-fold CV F1 (ironic class) on irony train
# The irony flag: the threshold with the best out-of-fold F1 on the irony tweets (5 folds).
IRONY_GRID = np.round(np.arange(0.2, 0.8, 0.025), 3)
# Sarcasm flips a positive reading to negative, so it must be rarer than irony: the lowest
# threshold (of the irony threshold .. 0.9) that flips at most MAX_FLIPPED of the positive
# readings of a sample of the sentiment training pool (nearly all of them sincere).
MAX_FLIPPED = 0.05
FLIP_SAMPLE = 3000
CONTRAST_THRESHOLD = 0.4  # P(negative) once positive words are removed
OFFSET_GRID = np.round(np.arange(-2.0, 2.01, 0.05), 2)


def idf(counts: sp.csr_matrix) -> Array:
    """Smoothed idf over hashed buckets (sklearn's ``smooth_idf`` formula)."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.asarray(np.log((1 + counts.shape[0]) / (1 + df)) + 1, dtype=np.float32)


def _design(texts: Sequence[str], idf_words: Array, idf_chars: Array) -> sp.csr_matrix:
    return features.matrix(texts, idf_words, idf_chars)


def _sgd(class_weight: dict[int, float] | str) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(
        loss="log_loss",
        alpha=SENTIMENT_ALPHA,
        class_weight=class_weight,
        max_iter=SENTIMENT_EPOCHS,
        tol=None,
        average=True,
        random_state=SEED,
    )


def nb_ratios(x: sp.csr_matrix, y: Array, n_sparse: int) -> Array:
    """Naive-Bayes log-count ratios, ``(n_features, 3)``: per class against the rest, over
    binarised n-gram presence (smoothing ``NB_SMOOTHING``), as magnitudes; 1 for the cues.

    Scaling a column by its ratio (NB-SVM, Wang and Manning 2012) gives the n-grams that
    separate a class a weaker L2 penalty in that class's model.
    """
    present = x[:, :n_sparse].copy()
    present.data = np.ones_like(present.data)
    ratios = np.ones((x.shape[1], 3))
    for k in range(3):
        p = NB_SMOOTHING + np.asarray(present[y == k].sum(axis=0)).ravel()
        q = NB_SMOOTHING + np.asarray(present[y != k].sum(axis=0)).ravel()
        ratios[:n_sparse, k] = np.abs(np.log((p / p.sum()) / (q / q.sum())))
    return ratios


def _fit_sentiment(
    x: sp.csr_matrix, y: Array, support: sp.csr_matrix, labels: Array
) -> tuple[Array, Array]:
    """The average of two linear models over the same columns, as one ``(coef, intercept)``
    (``coef`` is ``(n_features, 3)``; averaging the weights averages the margins, so
    inference costs what one model costs):

    - SGD logistic regression, one-vs-rest, balanced class weights;
    - the same on NB-scaled columns (:func:`nb_ratios`), one binary model per class, its
      scaling folded into its weights.
    """
    from sklearn.utils.class_weight import compute_class_weight

    xs = sp.vstack([x, support], format="csr")
    ys = np.concatenate([y, labels])
    plain = _sgd("balanced")
    plain.fit(xs, ys)
    # sklearn's multi-class SGD weighs a class's own rows by its balanced weight, the rest by 1.
    balanced = compute_class_weight("balanced", classes=np.arange(3), y=ys)
    ratios = nb_ratios(xs, ys, 2**features.WORD_BITS + 2**features.CHAR_BITS)
    coef, intercept = np.zeros((x.shape[1], 3)), np.zeros(3)
    for k in range(3):
        model = _sgd({1: float(balanced[k]), 0: 1.0})
        model.fit(xs @ sp.diags(ratios[:, k]), (ys == k).astype(int))
        coef[:, k] = ratios[:, k] * model.coef_.ravel()
        intercept[k] = model.intercept_[0]
    return (coef + plain.coef_.T) / 2, (intercept + plain.intercept_) / 2


def class_offsets(x: sp.csr_matrix, y: Array, support: sp.csr_matrix, labels: Array) -> Array:
    """Offsets for the negative and positive margins maximising out-of-fold macro recall
    on the tweets (the support rows are in every training fold)."""
    from sklearn.metrics import recall_score
    from sklearn.model_selection import StratifiedKFold

    margins = np.zeros((len(y), 3))
    for train, test in StratifiedKFold(3, shuffle=True, random_state=SEED).split(x, y):
        coef, intercept = _fit_sentiment(x[train], y[train], support, labels)
        margins[test] = x[test] @ coef + intercept
    best = (-1.0, 0.0, 0.0)
    for neg in OFFSET_GRID:
        for pos in OFFSET_GRID:
            predicted = (margins + np.array([neg, 0.0, pos])).argmax(axis=1)
            best = max(best, (recall_score(y, predicted, average="macro"), neg, pos))
    print(f"  out-of-fold macro recall with offsets {best[1:]}: {best[0]:.4f}")
    return np.array([best[1], 0.0, best[2]])


def _irony_model() -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=IRONY_C, max_iter=3000, class_weight="balanced")


def irony_threshold(x: sp.csr_matrix, y: Array, is_tweet: Array) -> float:
    """The threshold with the best out-of-fold F1 of the ironic class on the tweets."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(y))
    strata = y * 2 + is_tweet
    for train, test in StratifiedKFold(5, shuffle=True, random_state=SEED).split(x, strata):
        model = _irony_model()
        model.fit(x[train], y[train])  # type: ignore[attr-defined]
        scores[test] = model.predict_proba(x[test])[:, 1]  # type: ignore[attr-defined]
    tweets = is_tweet.astype(bool)
    f1, threshold = max((f1_score(y[tweets], scores[tweets] >= t), float(t)) for t in IRONY_GRID)
    sincere, sarcastic = ~tweets & (y == 0), ~tweets & (y == 1)
    print(
        f"  irony threshold {threshold}: out-of-fold F1 {f1:.4f} on tweets; flags"
        f" {np.mean(scores[sincere] >= threshold):.3f} of sincere support rows,"
        f" {np.mean(scores[sarcastic] >= threshold):.3f} of sarcastic ones"
    )
    return threshold


def sarcasm_threshold(weights: Weights, texts: Sequence[str]) -> float:
    """The lowest threshold that flips at most ``MAX_FLIPPED`` of the positive readings."""
    from bot.sentiment.model import score

    rng = np.random.default_rng(SEED)
    sample = [texts[i] for i in rng.choice(len(texts), size=FLIP_SAMPLE, replace=False)]
    for threshold in np.round(np.arange(weights.irony_threshold, 0.901, 0.05), 3):
        trial = replace(weights, sarcasm_threshold=float(threshold))
        scores = score(sample, trial)
        positive = scores.probabilities.argmax(axis=1) == 2
        flipped = float(np.mean(scores.sarcasm[positive])) if positive.any() else 0.0
        if flipped <= MAX_FLIPPED:
            print(f"  sarcasm threshold {threshold}: flips {flipped:.3f} of positive readings")
            return float(threshold)
    return 0.9


def train(out: str = str(MODEL_PATH), tune_offsets: bool = True) -> Weights:
    """Fits both models and writes them to ``out``."""
    started = time.perf_counter()
    texts, labels = data.semeval_train()
    words, chars = features.hashed(texts)
    idf_words, idf_chars = idf(words), idf(chars)
    x = _design(texts, idf_words, idf_chars)
    y = np.array(labels)
    support_texts, support_labels = data.support_examples()
    support, support_y = _design(support_texts, idf_words, idf_chars), np.array(support_labels)
    print(
        f"sentiment: {x.shape[0]} tweets + {len(support_texts)} support rows, {x.shape[1]} features"
    )
    offsets = class_offsets(x, y, support, support_y) if tune_offsets else np.zeros(3)
    sentiment_coef, sentiment_intercept = _fit_sentiment(x, y, support, support_y)

    irony_texts, irony_labels = data.tweeteval("irony", "train")
    sincere, sarcasm = data.support_sincere(), data.support_sarcasm()
    xi = _design([*irony_texts, *sincere, *sarcasm], idf_words, idf_chars)
    yi = np.array([*irony_labels, *[0] * len(sincere), *[1] * len(sarcasm)])
    is_tweet = np.array([1] * len(irony_texts) + [0] * (len(sincere) + len(sarcasm)))
    print(
        f"irony: {len(irony_texts)} tweets + {len(sincere)} sincere"
        f" and {len(sarcasm)} sarcastic support rows"
    )
    threshold = irony_threshold(xi, yi, is_tweet)
    irony = _irony_model()
    irony.fit(xi, yi)  # type: ignore[attr-defined]

    weights = Weights(
        idf_words=idf_words,
        idf_chars=idf_chars,
        sentiment_coef=sentiment_coef.astype(np.float32),
        sentiment_intercept=sentiment_intercept + offsets,
        irony_coef=irony.coef_[0].astype(np.float32),  # type: ignore[attr-defined]
        irony_intercept=float(irony.intercept_[0]),  # type: ignore[attr-defined]
        irony_threshold=threshold,
        sarcasm_threshold=threshold,
        contrast_threshold=CONTRAST_THRESHOLD,
    )
    # Thresholds are searched on the weights as shipped (float16), as inference reads them.
    weights.save(Path(out))
    weights = Weights.load(Path(out))
    weights = replace(weights, sarcasm_threshold=sarcasm_threshold(weights, texts))
    weights.save(Path(out))
    print(f"wrote {out} in {time.perf_counter() - started:.0f}s")
    return weights


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(MODEL_PATH), help="where to write the weights")
    parser.add_argument("--no-offsets", action="store_true", help="skip the CV offset search")
    args = parser.parse_args()
    train(args.out, tune_offsets=not args.no_offsets)


if __name__ == "__main__":
    main()
