"""NLU benchmark on BANKING77: the project's ``config.yml`` pipeline vs Rasa's default.

Meant to run in the background (the stock pipeline trains for tens of minutes)::

    make bench-nlu > .state/bench-nlu.log 2>&1 &

Each (pipeline, split) is trained with Rasa's own ``train_nlu`` and parsed one message at a
time through ``Agent.parse_message`` in a child process (so ``ru_maxrss`` is its own peak).
Results are cached in ``.state/bench/nlu/cache/<sha256>.json`` keyed by data, config and code,
so reruns only pay for what changed. Splits: ``full`` (full train -> full test) and ``oos-<seed>``
(a seeded 25% of intents held out of training; their test sentences are out-of-scope).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("BANKING77_DIR", REPO / ".." / "shared" / "datasets" / "banking77"))
STATE = REPO / ".state" / "bench" / "nlu"
BENCH_VERSION = "1"  # bump when the measuring code changes in a way that alters results
FALLBACK = "nlu_fallback"
OOS = "<oos>"
REFERENCE = {"BERT-large (fine-tuned)": 93.66, "USE+ConveRT": 93.36}

# Rasa 3.6's default pipeline, as rasa/engine/recipes/config_files/default_config.yml has it.
STOCK_PIPELINE: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
    {"name": "EntitySynonymMapper"},
    {"name": "ResponseSelector", "epochs": 100, "constrain_similarities": True},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def read_split(name: str) -> list[tuple[str, str]]:
    """``(text, intent)`` rows of ``train`` or ``test``."""
    with (DATA / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return [(row["text"].strip(), row["category"]) for row in csv.DictReader(handle)]


def held_out_intents(intents: list[str], seed: int, share: float = 0.25) -> set[str]:
    """The fixed, seeded share of intents treated as out-of-scope."""
    rng = np.random.default_rng(seed)
    count = round(share * len(intents))
    return {intents[i] for i in rng.choice(len(intents), size=count, replace=False)}


def make_split(split: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Training rows and test rows (gold ``OOS`` for held-out intents) of a split."""
    train, test = read_split("train"), read_split("test")
    if split == "full":
        return train, test
    held = held_out_intents(sorted({i for _, i in train}), int(split.split("-")[1]))
    return [r for r in train if r[1] not in held], [(t, OOS if i in held else i) for t, i in test]


def project_pipeline() -> list[dict[str, Any]]:
    """The ``pipeline:`` list of the project's ``config.yml``."""
    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    return list(config["pipeline"])


def code_version(pipeline: str) -> str:
    """What, besides data and config, changes a pipeline's results."""
    import rasa

    parts = [BENCH_VERSION, rasa.__version__]
    if pipeline == "project":
        for path in [*sorted((REPO / "bot" / "nlu").glob("*.py")), REPO / "bot/encoders/minilm.py"]:
            parts.append(hashlib.sha256(path.read_bytes()).hexdigest())
    return "|".join(parts)


def cache_key(pipeline: str, steps: list[dict[str, Any]], split: str) -> str:
    digest = hashlib.sha256()
    for name in ("train.csv", "test.csv"):
        digest.update(hashlib.sha256((DATA / name).read_bytes()).digest())
    digest.update(json.dumps(steps, sort_keys=True).encode())
    digest.update(f"{split}|{code_version(pipeline)}".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- child: train and parse
def run_child(spec_path: Path, out_path: Path) -> None:
    """Trains one pipeline on one split and parses its test set (runs in its own process)."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)  # no per-parse debug lines in the timing
    configure_structlog(logging.WARNING)
    spec = json.loads(spec_path.read_text())
    train, test = make_split(spec["split"])
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        root = Path(tmp)
        os.environ["RASA_CACHE_DIRECTORY"] = str(root / "cache")  # no warm cache
        os.chdir(root)
        config = {"recipe": "default.v1", "language": "en", "pipeline": spec["steps"]}
        (root / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        data = TrainingData([Message.build(text=t, intent=i) for t, i in train])
        (root / "nlu.yml").write_text(data.nlu_as_yaml(), encoding="utf-8")
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        model = train_nlu(str(root / "config.yml"), str(root / "nlu.yml"), str(root / "out"))
        train_seconds = time.perf_counter() - start
        train_cpu_seconds = _cpu_seconds() - cpu_start
        agent = Agent.load(str(model))
        predictions, latencies = asyncio.run(_parse_all(agent, [t for t, _ in test]))
    result = {
        "split": spec["split"],
        "train_seconds": train_seconds,
        "train_cpu_seconds": train_cpu_seconds,
        "train_examples": len(train),
        "latencies_ms": latencies,
        "predictions": predictions,
        "gold": [i for _, i in test],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    out_path.write_text(json.dumps(result))


def _cpu_seconds() -> float:
    """User plus system CPU time of this process and its finished children (less sensitive
    than wall time to other jobs sharing the machine)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _parse_all(agent: Any, texts: list[str]) -> tuple[list[list[Any]], list[float]]:
    await agent.parse_message("warm up")  # first call loads lazily; not timed
    predictions, latencies = [], []
    for text in texts:
        start = time.perf_counter()
        parsed = await agent.parse_message(text)
        latencies.append((time.perf_counter() - start) * 1000)
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        top = ranking[0] if ranking else {"name": None, "confidence": 0.0}
        predictions.append([parsed["intent"]["name"], top["name"], float(top["confidence"] or 0.0)])
    return predictions, latencies


# ---------------------------------------------------------------- parent: cache and report
def run_split(pipeline: str, steps: list[dict[str, Any]], split: str) -> dict[str, Any]:
    """One (pipeline, split) result, from the cache or from a fresh child process."""
    path = STATE / "cache" / f"{cache_key(pipeline, steps, split)}.json"
    if path.exists():
        print(f"[{pipeline} {split}] cached: {path.name}", flush=True)
        return dict(json.loads(path.read_text()))
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"[{pipeline} {split}] training and parsing in a child process ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        spec, out = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec.write_text(json.dumps({"split": split, "steps": steps}))
        cmd = [sys.executable, "-m", "bot.bench.nlu", "--child", str(spec), str(out)]
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
        subprocess.run(cmd, check=True, cwd=REPO, env=env)
        result = json.loads(out.read_text())
    result.update(pipeline=pipeline, steps=steps)
    path.write_text(json.dumps(result))
    return dict(result)


def metrics(result: dict[str, Any]) -> dict[str, float]:
    """Accuracy / macro-F1 on in-scope sentences, OOS recall, timings of one split."""
    from sklearn.metrics import f1_score

    gold = result["gold"]
    final = [p[0] for p in result["predictions"]]
    raw = [p[1] for p in result["predictions"]]
    inscope = [k for k, g in enumerate(gold) if g != OOS]
    oos = [k for k, g in enumerate(gold) if g == OOS]
    labels = sorted({gold[k] for k in inscope})
    lat = np.array(result["latencies_ms"])
    out = {
        "accuracy": 100 * float(np.mean([final[k] == gold[k] for k in inscope])),
        "accuracy_no_fallback": 100 * float(np.mean([raw[k] == gold[k] for k in inscope])),
        "macro_f1": 100
        * float(
            f1_score(
                [gold[k] for k in inscope],
                [final[k] for k in inscope],
                labels=labels,
                average="macro",
                zero_division=0,
            )
        ),
        "inscope_fallback_rate": 100 * float(np.mean([final[k] == FALLBACK for k in inscope])),
        "train_seconds": float(result["train_seconds"]),
        "train_cpu_seconds": float(result.get("train_cpu_seconds", float("nan"))),
        "parse_p50_ms": float(np.percentile(lat, 50)),
        "parse_p99_ms": float(np.percentile(lat, 99)),
        "peak_rss_mb": float(result["peak_rss_mb"]),
    }
    if oos:
        out["oos_recall"] = 100 * float(np.mean([final[k] == FALLBACK for k in oos]))
    return out


def summarise(per_split: dict[str, dict[str, float]]) -> dict[str, float]:
    """Full-split figures plus OOS figures averaged over the seeds that ran."""
    full = per_split.get("full", {})
    oos = [m for s, m in per_split.items() if s.startswith("oos-")]
    summary = {f"full_{k}": v for k, v in full.items()}
    for key in ("accuracy", "accuracy_no_fallback", "macro_f1", "oos_recall", "train_seconds"):
        if oos:
            name = key if key.startswith("oos_") else f"oos_{key}"
            summary[name] = float(np.mean([m[key] for m in oos]))
    if oos:
        summary["oos_inscope_drop"] = summary["oos_accuracy_no_fallback"] - summary["oos_accuracy"]
        summary["oos_seeds"] = len(oos)
    return summary


ROWS = [
    ("full_accuracy", "accuracy, full test split (%)"),
    ("full_accuracy_no_fallback", "  same, fallback off (%)"),
    ("full_macro_f1", "macro-F1, full test split (%)"),
    ("oos_accuracy", "in-scope accuracy, OOS protocol (%)"),
    ("oos_accuracy_no_fallback", "  same, fallback off (%)"),
    ("oos_inscope_drop", "  in-scope drop from fallback (pts)"),
    ("oos_macro_f1", "in-scope macro-F1, OOS protocol (%)"),
    ("oos_recall", "OOS recall at configured threshold (%)"),
    ("oos_seeds", "OOS seeds averaged"),
    ("full_train_seconds", "training wall time, full (s)"),
    ("full_train_cpu_seconds", "training CPU time, full (s)"),
    ("full_parse_p50_ms", "parse latency p50 (ms)"),
    ("full_parse_p99_ms", "parse latency p99 (ms)"),
    ("full_peak_rss_mb", "peak memory (MB)"),
]


def print_table(summaries: dict[str, dict[str, float]]) -> None:
    names = list(summaries)
    print("\n" + f"{'BANKING77':42}" + "".join(f"{n:>12}" for n in names), end="")
    print(f"{'project/stock':>15}" if len(names) == 2 else "")
    for key, label in ROWS:
        values = [summaries[n].get(key) for n in names]
        cells = "".join(f"{v:>12.2f}" if v is not None else f"{'-':>12}" for v in values)
        ratio = ""
        if len(values) == 2 and None not in values and values[1]:
            ratio = f"{values[0] / values[1]:>15.3f}"  # type: ignore[operator]
        print(f"{label:42}{cells}{ratio}")
    print(
        "reference (Casanueva et al. 2020, full data): "
        + ", ".join(f"{k} {v}" for k, v in REFERENCE.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["project", "stock"])
    parser.add_argument("--seeds", type=int, default=3, help="OOS seeds for the project pipeline")
    parser.add_argument("--stock-seeds", type=int, default=1, help="OOS seeds for the stock one")
    parser.add_argument("--child", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(Path(args.child[0]), Path(args.child[1]))
        return
    if not DATA.exists():
        sys.exit(f"BANKING77 not found at {DATA} (expected ../shared next to the repo)")
    plans = {
        "project": (project_pipeline(), args.seeds),
        "stock": (STOCK_PIPELINE, args.stock_seeds),
    }
    if args.only:
        plans = {args.only: plans[args.only]}
    summaries, details = {}, {}
    for name, (steps, seeds) in plans.items():
        per_split = {}
        for split in ["full"] + [f"oos-{s}" for s in range(seeds)]:
            per_split[split] = metrics(run_split(name, steps, split))
        summaries[name], details[name] = summarise(per_split), per_split
        if name == "stock" and seeds < args.seeds:
            print(f"note: stock pipeline OOS figures use {seeds} seed(s) (it trains for long)")
    print_table(summaries)
    STATE.mkdir(parents=True, exist_ok=True)
    out = {
        "summary": summaries,
        "per_split": details,
        "reference": REFERENCE,
        "pipelines": {n: p[0] for n, p in plans.items()},
    }
    (STATE / "results.json").write_text(json.dumps(out, indent=2))
    print(f"\nwrote {STATE / 'results.json'}")


if __name__ == "__main__":
    main()
