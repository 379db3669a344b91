"""Follow-up rules: CSAT once per conversation with expiry and an optional comment, check-in
declarations (and their validation), scheduling, and the worker that survives restarts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.analytics.events import from_rasa_dict
from bot.analytics.html_report import render_html
from bot.analytics.outcomes import KpiSettings
from bot.analytics.reporting import build_report
from bot.analytics.source import MemoryEventSource
from bot.analytics.summary import render_csv, render_summary
from bot.analytics.synthetic import ConversationBuilder
from bot.cli import main
from bot.faq.knowledge_base import load_knowledge_base
from bot.faq.yaml_source import ContentError
from bot.followup.checkins import (
    CheckinRule,
    delay_of,
    load_checkin_rules,
    parse_delay,
    validate_checkins,
)
from bot.followup.csat import (
    CSAT_EXPIRY_SECONDS,
    MAX_COMMENT_CHARS,
    CsatState,
    comment,
    comment_metadata,
    csat_answer_state,
    may_ask_csat,
    rating,
)
from bot.followup.service import FollowupServices
from bot.followup.sqlite_store import SqliteCheckinStore
from bot.followup.store import CheckinState
from bot.followup.worker import CheckinWorker
from bot.signals.component import MessageSignals

PROJECT = Path(__file__).resolve().parents[1]
NOW = 1_750_000_000.0
Events = list[dict[str, Any]]


def user(text: str = "hello") -> dict[str, Any]:
    return {"event": "user", "text": text}


def slot(name: str, value: Any, **metadata: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"event": "slot", "name": name, "value": value}
    if metadata:
        event["metadata"] = metadata
    return event


def asked(at: float) -> dict[str, Any]:
    return slot("csat_asked_at", at)


def rated(score: int, at: float) -> dict[str, Any]:
    return slot("csat_score", score, resolved_by="bot", ticket_id=None, asked_at=at)


def new_session(*carried: dict[str, Any]) -> Events:
    """What Rasa logs when a session starts: the carried-over slots come before any message."""
    started = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"}]
    return [*started, *carried]


# -- CSAT --------------------------------------------------------------------------------------


def test_csat_is_asked_at_most_once_per_conversation() -> None:
    first: Events = [user(), asked(NOW)]
    assert may_ask_csat([user()])
    assert not may_ask_csat(first)
    # the next session carries the slots over, but it is a new conversation
    later = [*first, rated(5, NOW), *new_session(asked(NOW), rated(5, NOW)), user("hi again")]
    assert may_ask_csat(later)
    assert not may_ask_csat([*later, asked(NOW + 7200)])


def test_a_rating_is_taken_once_per_request_and_only_while_fresh() -> None:
    events: Events = [user(), asked(NOW)]
    assert csat_answer_state([user()], NOW) is CsatState.NOT_ASKED
    assert csat_answer_state(events, NOW + 60) is CsatState.OK
    assert csat_answer_state(events, NOW + CSAT_EXPIRY_SECONDS + 1) is CsatState.EXPIRED
    assert csat_answer_state([*events, rated(4, NOW)], NOW + 60) is CsatState.ALREADY
    # a click on yesterday's buttons after a new question today answers today's question
    again = [
        *events,
        rated(4, NOW),
        *new_session(asked(NOW), rated(4, NOW)),
        user(),
        asked(NOW + 9),
    ]
    assert csat_answer_state(again, NOW + 60) is CsatState.OK


def test_only_scores_from_one_to_five_count() -> None:
    assert [rating(v) for v in ("5", 1, 3.0, "0", 6, "great", None)] == [
        5,
        1,
        3,
        None,
        None,
        None,
        None,
    ]


def test_the_next_free_text_is_the_comment() -> None:
    assert comment("  The agent was lovely, thanks  ", "thanks") == "The agent was lovely, thanks"
    assert (
        comment("it took three days to get a reply", "faq") == "it took three days to get a reply"
    )
    assert comment("x" * 5000, "nlu_fallback") == "x" * MAX_COMMENT_CHARS


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/csat_no_comment", "csat_no_comment"),
        ('/csat{"csat_score": 2}', "csat"),
        ("no thanks", "deny"),
        ("thanks!", "thanks"),
        ("bye", "goodbye"),
        ("talk to a human", "human_handoff"),
        ("EXTERNAL: followup_checkin", "followup_checkin"),
        ("   ", "nlu_fallback"),
    ],
)
def test_buttons_a_short_no_and_requests_for_a_person_are_not_comments(
    text: str, intent: str
) -> None:
    assert comment(text, intent) is None


def test_a_comment_is_linked_to_the_rating_it_adds_to() -> None:
    events = [
        user(),
        asked(NOW),
        slot("csat_score", 2, resolved_by="agent", ticket_id="7", asked_at=NOW),
    ]
    assert comment_metadata(events) == {
        "resolved_by": "agent",
        "ticket_id": "7",
        "asked_at": NOW,
        "csat_score": 2,
    }


# -- check-in declarations ---------------------------------------------------------------------


def test_delays_read_like_designers_write_them() -> None:
    assert [parse_delay(v) for v in (90, "90s", "30m", "24h", "2d", "1.5h")] == [
        90,
        90,
        1800,
        86400,
        172800,
        5400,
    ]
    for bad in ("soon", "-5m", "0", "24 hours", True):
        with pytest.raises(ValueError):
            parse_delay(bad)


def test_the_shipped_declaration_checks_in_a_day_after_an_outage() -> None:
    [rule] = load_checkin_rules(PROJECT / "data" / "followup.yml")
    assert (rule.topic, rule.delay_seconds, rule.response) == (
        "outages",
        86400,
        "utter_checkin_outages",
    )
    assert rule.applies_to("outages", "outage_eta") and not rule.applies_to("billing", "pay_bill")
    assert delay_of(rule, {"BOT_CHECKIN_DELAY_SECONDS": "5"}) == 5
    assert delay_of(rule, {}) == 86400


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's content to break."""
    for name in ("data", "domain.yml"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    (tmp_path / "tests").mkdir()
    return tmp_path


BROKEN = """version: "3.1"
followup:
  checkins:
    - topic: outages
      after: 24h
      response: utter_checkin_outages
    - topic: outagez
      after: 1h
      response: utter_checkin_outages
    - topic: billing
      after: tomorrow
      response: utter_checkin_outages
    - topic: plans
      after: 2d
      response: utter_missing
      entries: [pay_bill]
    - topic: outages
      after: 1h
      response: utter_checkin_outages
    - topic: account
      after: 1h
      respone: utter_checkin_outages
"""


def test_every_problem_in_the_declarations_names_file_line_and_entry(project: Path) -> None:
    (project / "data" / "followup.yml").write_text(BROKEN)
    problems = validate_checkins(project, load_knowledge_base([project / "data"]))
    where = {(p.path.name, p.line) for p in problems}
    assert where <= {("followup.yml", n) for n in (7, 10, 13, 17, 20)}
    messages = [p.message for p in problems]
    assert any(
        m.startswith("check-in 'outagez': no FAQ topic 'outagez' (known: ") for m in messages
    )
    assert any(
        "check-in 3 (topic 'billing'): 'after': 'tomorrow' is not a delay" in m for m in messages
    )
    assert any(
        "check-in 'plans': 'pay_bill' is not an entry of the topic 'plans'" in m for m in messages
    )
    assert any("the response 'utter_missing' is not in domain.yml" in m for m in messages)
    assert any("check-in 'outages' is declared twice (first at line 4)" in m for m in messages)
    assert any("check-in 6 (topic 'account'): unknown setting 'respone'" in m for m in messages)
    assert any("check-in 6 (topic 'account'): 'response' is missing" in m for m in messages)
    with pytest.raises(ContentError, match=r"followup.yml:10: check-in 3"):
        load_checkin_rules(project / "data" / "followup.yml")


def test_bot_validate_reports_a_broken_declaration(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--project", str(project)]) == 0
    (project / "data" / "followup.yml").write_text(BROKEN)
    assert main(["validate", "--project", str(project)]) == 1
    out = capsys.readouterr().out
    assert f"error: {project / 'data' / 'followup.yml'}:7: check-in 'outagez'" in out


# -- scheduling, cancelling, claiming ------------------------------------------------------------


@pytest.fixture
def services(tmp_path: Path) -> FollowupServices:
    rules = [
        CheckinRule("outages", 3600, "utter_checkin_outages"),
        CheckinRule("billing", 60, "utter_checkin_billing", entries=frozenset({"refund"})),
    ]
    return FollowupServices(SqliteCheckinStore(tmp_path / "bot.db"), rules)


async def test_an_answer_on_a_declared_topic_schedules_one_rasa_reminder(
    services: FollowupServices,
) -> None:
    [reminder] = await services.schedule("slack:D1", "outages", "outage_eta", NOW)
    assert reminder["event"] == "reminder" and reminder["intent"] == "followup_checkin"
    assert reminder["date_time"] == "2025-06-15T16:06:40+00:00"  # NOW + 1 h, UTC
    assert reminder["kill_on_user_msg"] is False
    [entity] = reminder["entities"]
    assert entity["entity"] == "checkin_id"
    assert reminder["name"] == f"followup_checkin_{entity['value']}"
    assert await services.schedule("slack:D1", "outages", "check_outage", NOW + 5) == []
    assert await services.schedule("slack:D1", "billing", "pay_bill", NOW) == []  # not declared
    assert len(await services.schedule("slack:D1", "billing", "refund", NOW)) == 1
    assert len(await services.schedule("slack:D2", "outages", "outage_eta", NOW)) == 1


async def test_confirming_the_topic_is_solved_cancels_its_check_in(
    services: FollowupServices,
) -> None:
    [reminder] = await services.schedule("telegram:5", "outages", "outage_eta", NOW)
    assert await services.cancel("telegram:5", "billing") == []
    assert await services.cancel("telegram:5", "outages") == [
        {"event": "cancel_reminder", "name": reminder["name"], "timestamp": None}
    ]
    checkin_id = int(reminder["entities"][0]["value"])
    assert await services.claim("telegram:5", checkin_id, NOW + 3600) is None


async def test_a_due_check_in_is_said_once_and_only_in_its_own_conversation(
    services: FollowupServices,
) -> None:
    [reminder] = await services.schedule("telegram:6", "outages", "outage_eta", NOW)
    checkin_id = int(reminder["entities"][0]["value"])
    assert await services.claim("telegram:66", checkin_id, NOW + 3600) is None
    said = await services.claim("telegram:6", checkin_id, NOW + 3600)
    assert said is not None and said.response == "utter_checkin_outages"
    assert await services.claim("telegram:6", checkin_id, NOW + 3601) is None
    assert await services.claim("telegram:6", 999_999, NOW) is None


# -- the worker ----------------------------------------------------------------------------------


class FakeRasa:
    """Records what the worker asks of Rasa's conversation API; can be down."""

    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []
        self.triggered: list[tuple[str, str, dict[str, Any]]] = []
        self.down = False

    async def append_events(self, conversation_id: str, events: Any) -> None:
        if self.down:
            raise ConnectionError("Rasa is restarting")
        self.appended.append((conversation_id, list(events)))

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if self.down:
            raise ConnectionError("Rasa is restarting")
        self.triggered.append((conversation_id, intent, entities or {}))
        return []

    async def is_up(self) -> bool:
        return not self.down


async def test_after_a_restart_future_check_ins_are_rearmed_and_overdue_ones_triggered(
    tmp_path: Path,
) -> None:
    store, rasa = SqliteCheckinStore(tmp_path / "bot.db"), FakeRasa()
    future, _ = await store.schedule("slack:D1", "outages", "utter_a", NOW + 600, NOW)
    overdue, _ = await store.schedule("telegram:2", "outages", "utter_a", NOW - 120, NOW - 9)
    just_due, _ = await store.schedule("rest:3", "outages", "utter_a", NOW - 10, NOW - 9)
    worker = CheckinWorker(store, rasa, grace=60)
    await worker.tick(NOW)
    assert [(c, [e["name"] for e in events]) for c, events in rasa.appended] == [
        ("slack:D1", [future.reminder_name])
    ]
    assert rasa.triggered == [("telegram:2", "followup_checkin", {"checkin_id": str(overdue.id)})]
    await worker.tick(NOW + 60)  # re-armed once; the just-due one is Rasa's for a minute
    assert len(rasa.appended) == 1
    assert [t[0] for t in rasa.triggered] == ["telegram:2", "rest:3"]
    assert (await store.get(just_due.id)).state is CheckinState.PENDING  # type: ignore[union-attr]


async def test_an_undelivered_check_in_is_retried_with_pauses_then_given_up(
    tmp_path: Path,
) -> None:
    store, rasa = SqliteCheckinStore(tmp_path / "bot.db"), FakeRasa()
    checkin, _ = await store.schedule("rest:paused", "outages", "utter_a", NOW - 100, NOW - 200)
    worker = CheckinWorker(store, rasa, grace=10, max_attempts=3)
    now = NOW
    for _ in range(12):
        await worker.tick(now)
        now += 120
    assert len(rasa.triggered) == 3  # a paused conversation never claims it: three tries
    given_up = await store.get(checkin.id)
    assert given_up is not None and given_up.state is CheckinState.FAILED


async def test_a_worker_that_starts_before_rasa_rearms_once_rasa_answers(tmp_path: Path) -> None:
    store, rasa = SqliteCheckinStore(tmp_path / "bot.db"), FakeRasa()
    await store.schedule("slack:D1", "outages", "utter_a", NOW + 600, NOW)
    worker = CheckinWorker(store, rasa, grace=60)
    rasa.down = True
    await worker.tick(NOW)
    assert not worker.armed
    rasa.down = False
    await worker.tick(NOW + 15)
    assert worker.armed and len(rasa.appended) == 1


async def test_a_rasa_restart_between_passes_rearms_at_once_and_delivers_what_fell_due(
    tmp_path: Path,
) -> None:
    store, rasa = SqliteCheckinStore(tmp_path / "bot.db"), FakeRasa()
    future, _ = await store.schedule("slack:D1", "outages", "utter_a", NOW + 600, NOW)
    falls_due, _ = await store.schedule("telegram:2", "outages", "utter_a", NOW + 20, NOW)
    worker = CheckinWorker(store, rasa, grace=60)
    await worker.tick(NOW)
    await worker.watch(NOW + 2)  # up and armed: nothing to do
    assert len(rasa.appended) == 2 and rasa.triggered == []

    rasa.down = True  # Rasa restarts, losing its reminders
    await worker.watch(NOW + 4)
    await worker.tick(NOW + 15)  # a pass while it is down: no attempt is used up
    assert (await store.get(falls_due.id)).attempts == 0  # type: ignore[union-attr]
    rasa.down = False
    await worker.watch(NOW + 30)
    assert [events[0]["name"] for _, events in rasa.appended[2:]] == [future.reminder_name]
    assert rasa.triggered == [
        ("telegram:2", "followup_checkin", {"checkin_id": str(falls_due.id)})
    ]  # ten seconds late, not after the grace period
    await worker.watch(NOW + 32)
    assert len(rasa.appended) == 3 and len(rasa.triggered) == 1


async def test_a_delivered_check_in_is_left_alone(tmp_path: Path) -> None:
    store, rasa = SqliteCheckinStore(tmp_path / "bot.db"), FakeRasa()
    checkin, _ = await store.schedule("rest:4", "outages", "utter_a", NOW - 500, NOW - 600)
    assert await store.mark_delivered(checkin.id, NOW - 499)
    await CheckinWorker(store, rasa, grace=60).tick(NOW)
    assert rasa.appended == [] and rasa.triggered == []


# -- the report shows comments ---------------------------------------------------------------------


async def test_the_report_shows_csat_comments_with_personal_data_redacted() -> None:
    builder = ConversationBuilder("telegram:42", "telegram", NOW).session()
    builder.user("is there an outage in my area", topic="outages", faq="check_outage")
    builder.slot("csat_score", 2, after=9.0, resolved_by="bot", asked_at=NOW)
    builder.slot("csat_comment", "Took ages. Call me on 07700 900123", after=20.0)
    quiet = ConversationBuilder("slack:D1", "slack", NOW + 500).session()
    quiet.user("how do I pay my bill", topic="billing", faq="pay_bill")
    quiet.slot("csat_score", 5, after=9.0, resolved_by="bot", asked_at=NOW + 500)
    source = MemoryEventSource(
        from_rasa_dict(b.sender_id, e) for b in (builder, quiet) for e in b.events
    )
    result = (await build_report(source, settings=KpiSettings(as_of=NOW + 86_400))).result
    [[conversation_id, shown]] = result["csat_comments"]["latest"]
    assert result["csat_comments"]["count"] == 1
    assert conversation_id.startswith("telegram:42@")
    assert shown["score"] == 2 and shown["topic"] == "outages" and shown["channel"] == "telegram"
    assert shown["text"] == "Took ages. Call me on [phone]"
    assert "2 answers, 1 with a comment" in render_summary(result)
    assert "Took ages. Call me on [phone]" in render_html(result)
    assert f"csat_comments.latest.{conversation_id}.text,Took ages" in render_csv(result)


async def test_a_check_in_alone_is_not_a_customer_conversation() -> None:
    later = ConversationBuilder("telegram:42", "telegram", NOW + 86_400).session()
    later.user("EXTERNAL: followup_checkin", intent="followup_checkin")
    later.events[-1]["metadata"] = {"is_external": True}
    later.bot("Is everything working again now?")
    source = MemoryEventSource(from_rasa_dict(later.sender_id, e) for e in later.events)
    result = (await build_report(source, settings=KpiSettings(as_of=NOW + 2 * 86_400))).result
    assert result["counts"]["conversations"] == 0


# -- sarcasm: an unhappy customer, more urgent ---------------------------------------------------


@pytest.fixture
def signals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MessageSignals:
    monkeypatch.chdir(PROJECT)
    storage, resource = LocalModelStorage(tmp_path), Resource("signals")
    config = MessageSignals.get_default_config()
    context = ExecutionContext(GraphSchema({}), "x")
    MessageSignals.create(config, storage, resource, context).train(TrainingData())
    return MessageSignals.load(config, storage, resource, context)


def parsed(text: str, intent: str, score: float, irony: bool) -> Message:
    sentiment = {"label": "negative" if score < 0 else "positive", "score": score, "irony": irony}
    return Message(data={"text": text, "intent": {"name": intent}, "sentiment": sentiment})


def test_sarcastic_thanks_is_a_complaint_and_more_urgent(signals: MessageSignals) -> None:
    sarcastic, plain, grateful = signals.process(
        [
            parsed("Great, my internet died again. Thanks a lot.", "thanks", -0.69, True),
            parsed("my internet died again", "thanks", -0.69, False),
            parsed("Great, thanks a lot!", "thanks", 0.8, False),
        ]
    )
    assert sarcastic.get("intent")["name"] == "mood_unhappy"
    assert sarcastic.get("topic") == "complaint"
    assert plain.get("intent")["name"] == grateful.get("intent")["name"] == "thanks"
    assert sarcastic.get("urgency") == pytest.approx(plain.get("urgency") + 0.1)


def test_a_short_thanks_or_yes_is_never_taken_for_sarcasm(signals: MessageSignals) -> None:
    """The tweet-trained model reads a bare "thanks" as negative and ironic; the bot must
    still say "You're welcome", not apologise."""
    thanks, yes, ok = signals.process(
        [
            parsed("thanks", "thanks", -0.98, True),
            parsed("yes", "affirm", -0.97, True),
            parsed("ok great, thanks", "thanks", -0.99, True),
        ]
    )
    assert [m.get("intent")["name"] for m in (thanks, yes, ok)] == ["thanks", "affirm", "thanks"]
