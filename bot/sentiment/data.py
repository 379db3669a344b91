"""Readers for the shared sentiment and irony data sets, read in place under ``../shared``."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
LABELS = ("negative", "neutral", "positive")


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: tweets hold U+2028
    return lines[:-1] if lines and lines[-1] == "" else lines


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the shared data sets live in ../shared")
    return path


def semeval_train() -> tuple[list[str], list[int]]:
    """SemEval 2013-2016 tweets minus those in TweetEval's validation split (0/1/2 labels)."""
    root = _require(DATASETS / "semeval2013_2016")
    texts = _lines(root / "text.txt")
    labels = _lines(root / "labels.txt")
    held_out = _lines(root / "in_tweeteval_val.txt")
    if not len(texts) == len(labels) == len(held_out):
        raise ValueError(f"{root}: text, labels and in_tweeteval_val are not aligned")
    keep = [i for i, flag in enumerate(held_out) if flag.strip() != "1"]
    return [texts[i] for i in keep], [int(labels[i]) for i in keep]


def tweeteval(task: str, split: str) -> tuple[list[str], list[int]]:
    """TweetEval ``task`` (sentiment, irony) ``split`` (train, val)."""
    root = _require(DATASETS / "tweeteval" / task)
    texts = _lines(_require(root / f"{split}_text.txt"))
    labels = [int(x) for x in _lines(root / f"{split}_labels.txt")]
    if len(texts) != len(labels):
        raise ValueError(f"{root}/{split}: text and labels are not aligned")
    return [t.strip() for t in texts], labels


def vader_gold(name: str) -> tuple[list[str], list[int]]:
    """VADER gold set ``name`` (tweets, amazonReviewSnippets); mean rating +-0.5 -> 0/1/2."""
    path = _require(DATASETS / "vader" / f"{name}_GroundTruth.txt")
    texts: list[str] = []
    labels: list[int] = []
    for line in _lines(path):
        parts = line.split("\t", 2)
        if len(parts) < 3:
            continue
        rating = float(parts[1])
        texts.append(parts[2].strip())
        labels.append(0 if rating < -0.5 else 2 if rating > 0.5 else 1)
    return texts, labels
