"""`bot report`: a terminal summary always, and the report file in the chosen format."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.analytics.seed import bulk_insert, create_events_table, event_rows
from bot.analytics.sql_source import create_engine
from bot.analytics.synthetic import generate
from bot.cli import build_parser

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


async def test_retention_dry_run_then_delete(
    store: str, capsys: pytest.CaptureFixture[str]
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


def test_the_store_comes_from_the_environment_else_the_embedded_sqlite() -> None:
    from bot.analytics.sql_source import tracker_store_url

    production = {"BOT_TRACKER_STORE_URL": "postgresql://support@db:5432/rasa"}
    assert tracker_store_url(production) == "postgresql://support@db:5432/rasa"
    assert tracker_store_url({}) == "sqlite:///.state/tracker.db"
