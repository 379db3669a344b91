"""Readers for the shared sentiment and irony data sets, read in place under ``../shared``."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
LABELS = ("negative", "neutral", "positive")
# Sentiment of the project's own dialogue intents (data/nlu): 0 negative, 1 neutral, 2 positive.
# Intents not listed (out_of_scope: anything at all) are left out.
INTENT_SENTIMENT = {
    "mood_unhappy": 0,
    "insult": 0,
    "greet": 1,
    "goodbye": 1,
    "affirm": 1,
    "deny": 1,
    "bot_challenge": 1,
    "human_handoff": 1,
    "chitchat_how_are_you": 1,
    "chitchat_capabilities": 1,
    "thanks": 2,
}


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


def support_examples(root: Path = REPO_ROOT) -> tuple[list[str], list[int]]:
    """In-domain training rows from the project's own data: tweets are not support messages.

    FAQ question variants are neutral, except the upset ones (VADER compound below -0.2,
    repeated "!" or all capitals), which are left unlabelled; dialogue intents take their
    sentiment from :data:`INTENT_SENTIMENT`; the designers' sarcasm examples are negative.
    """
    from bot.sentiment.features import vader

    rows = [(text, 1) for text in _faq_examples(root)]
    rows = [
        (text, label)
        for text, label in rows
        if vader().polarity_scores(text)["compound"] > -0.2
        and text.count("!") < 2
        and not text.isupper()
    ]
    rows += [
        (text, INTENT_SENTIMENT[intent])
        for intent, text in _dialogue_examples(root)
        if intent in INTENT_SENTIMENT
    ]
    rows += [(text, 0) for text in support_sarcasm(root)]
    return [text for text, _ in rows], [label for _, label in rows]


def support_sincere(root: Path = REPO_ROOT) -> list[str]:
    """Every FAQ variant and calm dialogue example: non-ironic rows for the irony model.

    Complaints (mood_unhappy: "this is a joke"), insults and out-of-scope chatter are left out.
    """
    dialogue = _dialogue_examples(root)
    calm = [
        text
        for intent, text in dialogue
        if intent not in ("mood_unhappy", "insult", "out_of_scope")
    ]
    return _faq_examples(root) + calm


def _faq_examples(root: Path) -> list[str]:
    from bot.faq.service import knowledge_base

    return [t for entry in knowledge_base(str(root / "data")).entries for t in entry.examples]


def _dialogue_examples(root: Path) -> list[tuple[str, str]]:
    """``(intent, example)`` of every intent in ``data/nlu/*.yml``."""
    import yaml

    rows: list[tuple[str, str]] = []
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    rows.append((str(block.get("intent")), line.strip()[2:].strip()))
    return rows


def support_sarcasm(root: Path = REPO_ROOT) -> list[str]:
    """Sarcasm as customers write it (``sentiment: sarcasm:`` in data/signals.yml): ironic rows."""
    import yaml

    path = root / "data" / "signals.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return [str(t) for t in ((raw or {}).get("sentiment") or {}).get("sarcasm") or []]
