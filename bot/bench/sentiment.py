"""Sentiment benchmark: the project's model beside VADER, in one run (`make bench-sentiment`).

Each system runs in its own child process pinned to one core, so its peak memory (max
RSS) and its latency (one message per call) are its own. Latency is CPU time of the
calling thread (the machine is shared, so wall-clock includes waiting for the core);
wall-clock percentiles are reported beside it. Metrics: macro recall on
TweetEval sentiment val, ironic-class F1 on TweetEval irony val, 3-class macro F1 on the
VADER gold sets (mean rating +-0.5). Writes ``.state/bench/sentiment.json``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.sentiment import data

OUT = data.REPO_ROOT / ".state" / "bench" / "sentiment.json"
LATENCY_MESSAGES = 1000
VADER_GOLD = ("tweets", "amazonReviewSnippets")
PUBLISHED = {
    "tweeteval_sentiment_macro_recall (official test split)": {
        "SVM": 0.629,
        "FastText": 0.629,
        "BiLSTM": 0.583,
        "RoBERTa-retrained": 0.728,
    },
    "tweeteval_irony_f1 (official test split)": {
        "SVM": 0.617,
        "FastText": 0.631,
        "RoBERTa-retrained": 0.617,
    },
    "vader_tweets_f1 (VADER paper)": {"VADER": 0.96},
}
Reading = tuple[list[int], list[int] | None, list[float] | None]
TARGETS = {"sentiment_macro_recall": 0.70, "irony_f1": 0.63, "latency_p99_ms": 5.0}


def _vader_reader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()

    def read(texts: Sequence[str]) -> Reading:
        compound = [analyser.polarity_scores(t)["compound"] for t in texts]
        return [0 if c <= -0.05 else 2 if c >= 0.05 else 1 for c in compound], None, None

    return read


def _own_reader() -> Any:
    from bot.sentiment import default_analyser

    analyser = default_analyser()
    index = {"negative": 0, "neutral": 1, "positive": 2}

    def read(texts: Sequence[str]) -> Reading:
        results = asyncio.run(analyser.analyse(texts))
        labels = [index[r.label] for r in results]
        return labels, [int(r.irony) for r in results], [r.irony_probability for r in results]

    return read


def _run_system(name: str, queue: Any) -> None:
    """Child process: every prediction, latencies and peak memory of one system."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    read = _vader_reader() if name == "vader" else _own_reader()
    sets = {
        "sentiment": data.tweeteval("sentiment", "val")[0],
        "irony": data.tweeteval("irony", "val")[0],
        **{g: data.vader_gold(g)[0] for g in VADER_GOLD},
    }
    predictions = {key: read(texts) for key, texts in sets.items()}
    texts = sets["sentiment"][:LATENCY_MESSAGES]
    read(texts[:20])  # warm-up: lazy loading is not per-message latency
    wall, cpu = [], []
    for text in texts:
        started, started_cpu = time.perf_counter(), time.thread_time()
        read([text])
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    queue.put(
        {
            "predictions": predictions,
            "latency_p50_ms": _percentile(cpu, 50),
            "latency_p99_ms": _percentile(cpu, 99),
            "wall_latency_p50_ms": _percentile(wall, 50),
            "wall_latency_p99_ms": _percentile(wall, 99),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q / 100 * (len(ordered) - 1))]


def _in_child(name: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run_system, args=(name, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def _metrics(run: dict[str, Any]) -> dict[str, float | None]:
    from sklearn.metrics import f1_score, recall_score

    predictions = run["predictions"]
    _, gold = data.tweeteval("sentiment", "val")
    out: dict[str, float | None] = {
        "sentiment_macro_recall": recall_score(gold, predictions["sentiment"][0], average="macro")
    }
    irony_gold = data.tweeteval("irony", "val")[1]
    _, irony, irony_p = predictions["irony"]
    out["irony_f1"] = None if irony is None else f1_score(irony_gold, irony)
    if irony_p is None:
        out["irony_f1_classifier_only"] = None
    else:  # the tweet-trained classifier alone, at its natural 0.5, without the gate
        out["irony_f1_classifier_only"] = f1_score(irony_gold, [p >= 0.5 for p in irony_p])
    for name in VADER_GOLD:
        out[f"vader_{name}_macro_f1"] = f1_score(
            data.vader_gold(name)[1], predictions[name][0], average="macro"
        )
    for key in (
        "latency_p50_ms",
        "latency_p99_ms",
        "wall_latency_p50_ms",
        "wall_latency_p99_ms",
        "peak_rss_mb",
    ):
        out[key] = float(run[key])
    return {k: None if v is None else round(float(v), 4) for k, v in out.items()}


def _table(ours: dict[str, float | None], vader: dict[str, float | None]) -> str:
    rows = [f"{'metric':34} {'ours':>9} {'VADER':>9} {'ours/VADER':>11} {'target':>8}"]
    for key, value in ours.items():
        ref = vader[key]
        ratio = f"{value / ref:.2f}x" if value is not None and ref else "-"
        target = TARGETS.get(key)
        rows.append(
            f"{key:34} {_cell(value):>9} {_cell(ref):>9} {ratio:>11} "
            f"{'' if target is None else target:>8}"
        )
    return "\n".join(rows)


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    """Runs both systems, prints the table and writes the JSON report."""
    started = time.perf_counter()
    ours, vader = _metrics(_in_child("ours")), _metrics(_in_child("vader"))
    irony_gold = data.tweeteval("irony", "val")[1]
    always_ironic = 2 * sum(irony_gold) / (len(irony_gold) + sum(irony_gold))
    print(_table(ours, vader))
    print(f"(irony: F1 of flagging every tweet ironic would be {always_ironic:.3f})")
    met = {
        "sentiment_macro_recall": (ours["sentiment_macro_recall"] or 0) >= 0.70,
        "irony_f1": (ours["irony_f1"] or 0) >= 0.63,
        "latency_p99_ms": (ours["latency_p99_ms"] or 1e9) <= 5.0,
    }
    print("targets met:", ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in met.items()))
    report = {
        "ours": ours,
        "vader": vader,
        "ratio_vs_vader": {
            k: round(v / ref, 4) if v is not None and (ref := vader[k]) else None
            for k, v in ours.items()
        },
        "targets": TARGETS,
        "targets_met": met,
        "irony_f1_if_all_ironic": round(always_ironic, 4),
        "published": PUBLISHED,
        "seconds": round(time.perf_counter() - started, 1),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {Path(OUT).relative_to(data.REPO_ROOT)}")


if __name__ == "__main__":
    main()
