"""The HTML report is one self-contained file whose charts render in a real browser."""

from __future__ import annotations

import asyncio
import re
from asyncio.subprocess import PIPE
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.analytics.events import from_rasa_dict
from bot.analytics.html_report import render_html
from bot.analytics.outcomes import KpiSettings
from bot.analytics.reporting import build_report
from bot.analytics.source import MemoryEventSource
from bot.analytics.synthetic import generate

MONDAY = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()
CHROMIUM = "/usr/bin/chromium"
CHARTS = {
    "conversations-per-day",
    "escalation-rate",
    "funnel",
    "csat-distribution",
    "sentiment-by-topic",
    "sentiment-by-channel",
}


async def three_days() -> dict[str, Any]:
    """90 conversations, one every 48 minutes, from Monday to Wednesday."""
    source = MemoryEventSource(
        from_rasa_dict(s, e) for s, es in generate(90, MONDAY, step=2880.0) for e in es
    )
    settings = KpiSettings(as_of=MONDAY + 30 * 86400, change_date=MONDAY + 86400)
    return (await build_report(source, settings=settings)).result


def marks(html: str, chart: str) -> list[tuple[str, str]]:
    """``(data-label, data-value)`` of every mark in one chart."""
    match = re.search(rf'<svg[^>]*data-chart="{chart}".*?</svg>', html, flags=re.S)
    assert match, f"chart {chart} is missing"
    return re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', match.group())


async def test_the_charts_carry_the_report_numbers() -> None:
    html = render_html(await three_days())

    assert marks(html, "conversations-per-day") == [
        ("2026-11-02", "30"),
        ("2026-11-03", "30"),
        ("2026-11-04", "30"),
    ]
    assert marks(html, "funnel") == [
        ("conversations", "90"),
        ("with fallback", "18"),
        ("escalated", "36"),
        ("claimed", "18"),
        ("resolved by agent", "18"),
    ]
    assert marks(html, "csat-distribution") == [
        ("1", "0"),
        ("2", "9"),
        ("3", "0"),
        ("4", "9"),
        ("5", "9"),
    ]
    assert ("technical", "-0.25") in marks(html, "sentiment-by-topic")


async def test_the_file_needs_no_network_and_no_scripts() -> None:
    html = render_html(await three_days())

    assert "<script" not in html
    assert re.findall(r"https?://[^\"']+", html) == ["http://www.w3.org/2000/svg"] * html.count(
        "<svg"
    )
    assert "<link" not in html


def test_an_empty_report_still_renders_every_chart() -> None:
    from bot.analytics.kpis import KpiAccumulator

    html = render_html(KpiAccumulator(KpiSettings(as_of=MONDAY)).result())

    assert {c for c in CHARTS if f'data-chart="{c}"' in html} == CHARTS
    assert marks(html, "funnel")[0] == ("conversations", "0")
    assert html.count("no data") == len(CHARTS) - 1  # every chart but the funnel


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make .state/chromium.ok` (installs Debian's chromium)"
        )
    return CHROMIUM


async def test_headless_chromium_renders_the_charts(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(await three_days()), encoding="utf-8")
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=2000",
        "--dump-dom",
        page.as_uri(),
    ]

    process = await asyncio.create_subprocess_exec(*command, stdout=PIPE, stderr=PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0
    dom = out.decode()

    charts = re.findall(r'<svg[^>]*data-chart="([^"]+)"', dom)
    assert set(charts) == CHARTS
    # 3 days twice, 5 funnel stages, 5 CSAT scores, 6 topics, 3 channels
    assert len(re.findall(r"<(?:rect|circle)[^>]*data-value=", dom)) == 3 + 3 + 5 + 5 + 6 + 3
