"""Unanswered questions become reviewed FAQ suggestions: clustered, ranked, matched to entries."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from bot.analytics.conversations import conversations
from bot.analytics.events import Period, from_rasa_dict
from bot.analytics.seed import bulk_insert, create_events_table, event_rows
from bot.analytics.source import MemoryEventSource
from bot.analytics.sql_source import create_engine
from bot.analytics.suggestions import render_suggestions
from bot.analytics.synthetic import generate
from bot.analytics.unanswered import EntryIndex, cluster_questions, unanswered_texts
from bot.cli import build_parser
from bot.encoders.minilm import default_encoder
from bot.faq.knowledge_base import KnowledgeBase, load_knowledge_base, load_topic

MONDAY = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base([DATA])


@pytest.fixture(scope="module")
def index(kb: KnowledgeBase) -> EntryIndex:
    """The knowledge base encoded once for the module (encoding is the slow part)."""
    return EntryIndex.build(kb, default_encoder())


QUESTIONS = Counter(
    {
        "can i get a static ip address": 4,
        "how do i request a fixed ip": 2,
        "do you offer a discount for students": 3,
        "is there a student discount on broadband": 1,
        "forgot my password and the reset link doesnt work": 2,
        "password reset email never came": 1,
    }
)


async def test_fallback_and_low_confidence_messages_are_collected_redacted() -> None:
    events = [from_rasa_dict(s, e) for s, es in generate(30, MONDAY) for e in es]
    source = MemoryEventSource(events)

    counts = await unanswered_texts(conversations(source, Period()))

    # kind 3 asks two paraphrases per conversation, kind 5 one vague question
    assert counts == {
        "can i pause my contract while i'm abroad": 1,
        "how do i suspend my plan when travelling": 1,
        "do you offer a discount for students": 1,
        "is there a student discount on broadband": 1,
        "can i get a static ip address": 1,
        "how do i request a fixed ip": 1,
        "i cant get into my thing": 3,
    }


async def test_low_confidence_threshold_and_redaction() -> None:
    from bot.analytics.synthetic import ConversationBuilder

    b = ConversationBuilder("web-x", "rest", MONDAY).session()
    b.user("Email ME at jo@example.com about my bill", intent="faq", confidence=0.35)
    b.user("how do I pay", intent="faq", confidence=0.9)
    source = MemoryEventSource(from_rasa_dict(b.sender_id, e) for e in b.events)

    counts = await unanswered_texts(conversations(source, Period()))

    assert counts == {"email me at [email] about my bill": 1}


def test_paraphrases_cluster_together_ranked_by_frequency(index: EntryIndex) -> None:
    clusters = cluster_questions(QUESTIONS, default_encoder(), index)

    assert [c.count for c in clusters] == [6, 4, 3]
    assert clusters[0].examples == ("can i get a static ip address", "how do i request a fixed ip")
    assert set(clusters[1].examples) == {
        "do you offer a discount for students",
        "is there a student discount on broadband",
    }


def test_each_cluster_names_the_closest_faq_entry(index: EntryIndex) -> None:
    clusters = cluster_questions(QUESTIONS, default_encoder(), index)
    password = next(c for c in clusters if "password reset email never came" in c.examples)

    assert password.nearest_entry == "reset_password"
    assert password.nearest_topic == "account"
    assert password.similarity > 0.8
    assert all(-1.0 <= c.similarity <= 1.0 for c in clusters)


def test_suggestions_extend_close_entries_and_propose_new_ones(
    kb: KnowledgeBase, index: EntryIndex, tmp_path: Path
) -> None:
    clusters = cluster_questions(QUESTIONS, default_encoder(), index)
    text = render_suggestions(clusters, "2026-11-01 to 2026-11-30", {e.id for e in kb.entries})

    items = yaml.safe_load(text)["suggestions"]
    extend = [i for i in items if "add_examples_to" in i]
    new = [i["new_entry"] for i in items if "new_entry" in i]
    assert [i["add_examples_to"] for i in extend] == ["reset_password"]
    assert {n["id"] for n in new} == {"get_static_ip_address", "offer_discount_students"}
    assert all(n["answer"] == "TODO" for n in new)
    assert text.startswith("# Questions the bot could not answer, 2026-11-01 to 2026-11-30")
    # a new entry drops into a data/faq file as it is
    topic_file = tmp_path / "student.yml"
    topic_file.write_text(yaml.safe_dump({"faq": {"topic": "plans", "entries": new}}))
    assert [e.id for e in load_topic(topic_file).entries] == [n["id"] for n in new]


def test_no_unanswered_questions_give_an_empty_list(index: EntryIndex) -> None:
    text = render_suggestions(
        cluster_questions(Counter(), default_encoder(), index), "today", set()
    )

    assert yaml.safe_load(text) == {"suggestions": []}


async def test_the_command_writes_the_file_and_never_into_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    create_events_table(engine)
    bulk_insert(engine, event_rows(generate(30, MONDAY)))
    engine.dispose()
    out = tmp_path / "suggestions.yml"
    small = tmp_path / "data" / "faq"  # one topic keeps the encoding quick
    small.mkdir(parents=True)
    (small / "account.yml").write_text((DATA / "faq" / "account.yml").read_text())
    parser = build_parser()

    refused = parser.parse_args(["suggest", "--store", url, "--out", str(DATA / "faq" / "x.yml")])
    assert await refused.handler(refused) == 2
    assert not (DATA / "faq" / "x.yml").exists()

    args = parser.parse_args(
        ["suggest", "--store", url, "--out", str(out), "--data", str(small.parent)]
    )
    assert await args.handler(args) == 0
    assert yaml.safe_load(out.read_text())["suggestions"]
