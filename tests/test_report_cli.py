"""`bot report`: a terminal summary always, and the report file in the chosen format."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.analytics.seed import bulk_insert, create_events_table, event_rows
from bot.analytics.sql_source import create_engine
from bot.analytics.synthetic import generate
from bot.cli import build_parser
from bot.delivery.store import SqliteDeliveryStore
from bot.followup.sqlite_store import SqliteCheckinStore
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import EscalationReason, NewTicket

MONDAY = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def store(tmp_path: Path) -> str:
    """40 conversations, one an hour from Monday 2026-11-02 00:00 UTC."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    create_events_table(engine)
    bulk_insert(engine, event_rows(generate(40, MONDAY, step=3600.0)))
    engine.dispose()
    return url


async def run(*argv: str) -> int:
    args = build_parser().parse_args(["report", *argv])
    return int(await args.handler(args))


async def test_the_summary_and_the_html_file(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"

    assert await run("--store", store, "--out", str(out)) == 0

    summary = capsys.readouterr().out
    assert "Conversations     40 (rest 12, slack 16, telegram 12)" in summary
    assert "escalation 40.0%" in summary
    assert f"Report written to {out}" in summary
    assert out.read_text().count("<svg") == 6


async def test_a_date_range_includes_the_whole_last_day(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"

    await run(
        "--store",
        store,
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-02",
        "--format",
        "json",
        "--out",
        str(out),
    )

    result = json.loads(out.read_text())
    assert result["counts"]["conversations"] == 24  # 00:00 .. 23:00 on Monday
    assert result["period"] == {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"}
    assert list(result["daily"]) == ["2026-11-02"]


async def test_csv_has_one_metric_per_row(store: str, tmp_path: Path) -> None:
    out = tmp_path / "report.csv"

    await run("--store", store, "--format", "csv", "--out", str(out), "--change-date", "2026-11-03")

    rows = dict(csv.reader(io.StringIO(out.read_text())))
    assert rows["metric"] == "value"
    assert rows["counts.conversations"] == "40"
    assert rows["rates.escalation"] == "0.4"
    assert rows["funnel.escalated"] == "16"
    assert rows["settings.change_date"] == "2026-11-03T00:00:00Z"
    assert "sentiment_shift.channel.slack.delta" in rows


@pytest.fixture
def bot_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bot's database for `bot retention` (never the developer's .state/bot.db)."""
    path = tmp_path / "bot.db"
    monkeypatch.setenv("BOT_SQLITE_PATH", str(path))
    monkeypatch.delenv("BOT_DATABASE_URL", raising=False)
    return path


async def test_retention_dry_run_then_delete(
    store: str, bot_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser()
    dry = parser.parse_args(["retention", "--days", "0", "--dry-run", "--store", store])
    real = parser.parse_args(["retention", "--days", "0", "--store", store])

    assert await dry.handler(dry) == 0
    assert await real.handler(real) == 0
    assert await run("--store", store, "--format", "json", "--out", "/dev/null") == 0

    out = capsys.readouterr().out
    assert "Would delete 40 conversations (416 events) of 36 senders" in out
    assert "Deleted 40 conversations (416 events) of 36 senders" in out
    assert "Conversations     0 (none)" in out


async def test_retention_prunes_closed_tickets_finished_check_ins_and_delivery_records(
    store: str, bot_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tickets = SqliteTicketStore(bot_database)
    closed = (await tickets.open(NewTicket("rest:old", "rest", EscalationReason.REQUESTED))).ticket
    await tickets.abandon(closed.id, "customer", "cancelled by customer")
    waiting = (await tickets.open(NewTicket("rest:new", "rest", EscalationReason.REQUESTED))).ticket
    checkins = SqliteCheckinStore(bot_database)
    now = time.time()
    done, _ = await checkins.schedule("rest:old", "billing", "utter_checkin", now - 5, now - 10)
    await checkins.mark_delivered(done.id, now - 4)
    pending, _ = await checkins.schedule("rest:new", "billing", "utter_checkin", now + 3600, now)
    deliveries = SqliteDeliveryStore(bot_database)
    await deliveries.first_time("telegram:update:1")
    await deliveries.record_failure("slack:C1", "rest:old", {"text": "hi"}, "HTTP 500")

    args = build_parser().parse_args(["retention", "--days", "0", "--store", store])
    assert await args.handler(args) == 0

    out = capsys.readouterr().out
    assert "1 handoff tickets, 1 check-ins, 2 delivery records" in out
    assert await tickets.get(closed.id) is None and await tickets.history(closed.id) == []
    assert await tickets.get(waiting.id) is not None  # open: kept for the agents
    assert await checkins.get(done.id) is None and await checkins.get(pending.id) is not None
    assert await deliveries.failures() == []
    assert await deliveries.first_time("telegram:update:1")  # forgotten: new again
    for each in (tickets, checkins, deliveries):
        await each.close()


def test_the_store_comes_from_the_environment_else_the_embedded_sqlite() -> None:
    from bot.analytics.sql_source import tracker_store_url

    production = {"BOT_TRACKER_STORE_URL": "postgresql://support@db:5432/rasa"}
    assert tracker_store_url(production) == "postgresql://support@db:5432/rasa"
    assert tracker_store_url({}) == "sqlite:///.state/tracker.db"
