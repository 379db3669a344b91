"""The report as one self-contained HTML file: inline CSS and SVG, no scripts, no links."""

from __future__ import annotations

from html import escape
from typing import Any

from bot.analytics.svg import bar_chart, diverging_bars, line_chart

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.2rem .7rem;border-bottom:1px solid #eee;
text-align:right}th:first-child,td:first-child{text-align:left}.kpis{display:flex;flex-wrap:wrap;gap:1rem}
.kpi{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.kpi b{display:block;font-size:1.4rem}svg{max-width:100%;height:auto}
"""


def percent(value: float | None) -> str:
    """A rate as a percentage, or ``n/a``."""
    return "n/a" if value is None else f"{value:.1%}"


def number(value: float | None, unit: str = "") -> str:
    """A number with at most two decimals, or ``n/a``."""
    if value is None:
        return "n/a"
    return (f"{value:,.0f}" if value == int(value) else f"{value:,.2f}") + unit


def minutes(seconds: float | None) -> str:
    """A duration in minutes."""
    return "n/a" if seconds is None else f"{seconds / 60:.1f} min"


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def _kpi_cards(result: dict[str, Any]) -> str:
    rates, counts = result["rates"], result["counts"]
    cards = [
        ("Conversations", number(counts.get("conversations", 0))),
        ("Containment", percent(rates["containment"])),
        ("Escalation rate", percent(rates["escalation"])),
        ("Fallback rate", percent(rates["fallback"])),
        ("Resolved (confirmed)", percent(rates["resolution_confirmed"])),
        ("Resolved (assumed)", percent(rates["resolution_assumed"])),
        ("Reopen rate", percent(rates["reopen"])),
        ("CSAT average", number(result["csat"].get("overall", {}).get("all", {}).get("average"))),
    ]
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi">{escape(label)}<b>{escape(value)}</b></div>'
            for label, value in cards
        )
        + "</div>"
    )


def _csat_tables(csat: dict[str, Any]) -> str:
    out = []
    for group in ("topic", "channel", "resolved_by"):
        rows = [
            [
                key,
                str(s["count"]),
                number(s["average"]),
                *(str(s["distribution"][k]) for k in "12345"),
            ]
            for key, s in csat.get(group, {}).items()
        ]
        out.append(
            _table([group.replace("_", " "), "responses", "average", "1", "2", "3", "4", "5"], rows)
        )
    return "".join(out)


def _sentiment_means(result: dict[str, Any], series: str) -> list[tuple[str, float]]:
    bars = []
    for key, buckets in result["sentiment"].get(series, {}).items():
        count = sum(b["count"] for b in buckets.values())
        total = sum(b["mean"] * b["count"] for b in buckets.values())
        if count:
            bars.append((key, total / count))
    return bars


def _sentiment_weeks(result: dict[str, Any]) -> str:
    tables = {g: result["sentiment"].get(f"{g}/week", {}) for g in ("topic", "channel")}
    weeks = sorted({w for table in tables.values() for buckets in table.values() for w in buckets})
    rows = [
        [f"{group} {key}", *(number(buckets[w]["mean"]) if w in buckets else "" for w in weeks)]
        for group, table in tables.items()
        for key, buckets in table.items()
    ]
    return _table(["mean sentiment", *weeks], rows) if rows else ""


def _handoff(handoff: dict[str, Any]) -> str:
    rows = [
        [
            name.replace("_", " "),
            str(d["count"]),
            minutes(d["mean"]),
            minutes(d["median"]),
            minutes(d["p90"]),
        ]
        for name, d in handoff.items()
        if isinstance(d, dict) and "median" in d
    ]
    states = ", ".join(f"{k}: {v}" for k, v in handoff["never_claimed_by_state"].items()) or "none"
    return (
        f"<p>{handoff['tickets']} tickets; never claimed: {handoff['never_claimed']}"
        f" ({escape(states)}).</p>" + _table(["measure", "tickets", "mean", "median", "p90"], rows)
    )


def _shift(result: dict[str, Any]) -> str:
    shift = result["sentiment_shift"]
    if not shift:
        return ""
    rows = [
        [
            f"{group} {key}",
            number(v["before"]["mean"]),
            number(v["after"]["mean"]),
            number(v["delta"]),
        ]
        for group, table in shift.items()
        for key, v in table.items()
    ]
    change = result["settings"]["change_date"]
    return f"<h2>Sentiment before / after {escape(change)}</h2>" + _table(
        ["", "before", "after", "change"], rows
    )


def _csat_comments(comments: dict[str, Any]) -> str:
    latest = comments.get("latest") or []
    if not latest:
        return ""
    rows = [
        [str(c["at"]), c["channel"], c["topic"], str(c["score"]), c["resolved_by"], c["text"]]
        for _, c in latest
    ]
    return f"<h3>Comments ({comments.get('count', len(latest))}, newest first)</h3>" + _table(
        ["when", "channel", "topic", "rating", "resolved by", "comment"], rows
    )


def render_html(result: dict[str, Any], title: str = "Support bot report") -> str:
    """The whole report page for a KPI result (:meth:`KpiAccumulator.result`)."""
    period = result["period"]
    daily = result["daily"]
    overall = result["csat"].get("overall", {}).get("all", {"distribution": {}})
    sections = [
        f"<h1>{escape(title)}</h1><p>Period: {escape(str(period['since'] or 'start'))} to "
        f"{escape(str(period['until'] or 'now'))}. Personal data is redacted.</p>",
        _kpi_cards(result),
        "<h2>Conversations per day</h2>",
        line_chart(
            "conversations-per-day",
            "Conversations per day",
            [(d, v["conversations"]) for d, v in daily.items()],
        ),
        "<h2>Escalation rate per day</h2>",
        line_chart(
            "escalation-rate",
            "Escalation rate per day",
            [(d, v["escalation_rate"]) for d, v in daily.items()],
            percent=True,
        ),
        "<h2>From bot to human</h2>",
        bar_chart(
            "funnel",
            "Funnel from bot to human",
            [(s.replace("_", " "), n) for s, n in result["funnel"]],
            horizontal=True,
        ),
        "<h2>CSAT</h2>",
        bar_chart(
            "csat-distribution",
            "CSAT distribution",
            [(k, v) for k, v in overall["distribution"].items()],
        ),
        _csat_tables(result["csat"]),
        _csat_comments(result.get("csat_comments") or {}),
        "<h2>Sentiment by topic</h2>",
        diverging_bars(
            "sentiment-by-topic", "Mean sentiment by topic", _sentiment_means(result, "topic/day")
        ),
        "<h2>Sentiment by channel</h2>",
        diverging_bars(
            "sentiment-by-channel",
            "Mean sentiment by channel",
            _sentiment_means(result, "channel/day"),
        ),
        _sentiment_weeks(result),
        _shift(result),
        "<h2>Handoff</h2>",
        _handoff(result["handoff"]),
        "<h2>Channels and topics</h2>",
        _table(
            ["channel", "conversations", "customer messages"],
            [
                [k, str(v["conversations"]), str(v["messages"])]
                for k, v in result["by_channel"].items()
            ],
        ),
        _table(
            ["topic", "conversations", "customer messages"],
            [
                [k, str(v["conversations"]), str(v["messages"])]
                for k, v in result["by_topic"].items()
            ],
        ),
    ]
    body = "\n".join(sections)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
