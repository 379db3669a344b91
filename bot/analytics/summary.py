"""The terminal summary and the CSV export of a KPI result."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from bot.analytics.html_report import minutes, number, percent


def render_summary(result: dict[str, Any]) -> str:
    """A dozen lines for the terminal."""
    counts, rates, handoff = result["counts"], result["rates"], result["handoff"]
    csat = result["csat"].get("overall", {}).get("all", {})
    period = result["period"]
    channels = ", ".join(f"{k} {v['conversations']}" for k, v in result["by_channel"].items())
    ranked = sorted(result["by_topic"].items(), key=lambda kv: -kv[1]["conversations"])[:5]
    topics = ", ".join(f"{k} {v['conversations']}" for k, v in ranked)
    pct = {name: percent(value) for name, value in rates.items()}
    lines = [
        f"Period            {period['since'] or 'start'} .. {period['until'] or 'now'}",
        f"Conversations     {counts.get('conversations', 0)} ({channels or 'none'})",
        f"Customer messages {counts.get('user_turns', 0)}",
        f"Top topics        {topics or 'none'}",
        f"Containment       {pct['containment']}   escalation {pct['escalation']}"
        f"   fallback {pct['fallback']}",
        f"Resolution        confirmed {pct['resolution_confirmed']}   assumed "
        f"{pct['resolution_assumed']}   reopen {pct['reopen']}",
        f"CSAT              {number(csat.get('average'))} average from "
        f"{csat.get('count', 0)} answers, "
        f"{result.get('csat_comments', {}).get('count', 0)} with a comment",
        f"Handoff           {handoff['tickets']} tickets, "
        f"{handoff['never_claimed']} never claimed; "
        f"claim {minutes(handoff['time_to_claim']['median'])} median, handling "
        f"{minutes(handoff['handling_time']['median'])} median",
    ]
    return "\n".join(lines)


def flat_rows(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a nested result as ``(dotted.path, value)``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flat_rows(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and isinstance(value[0], list):
        for name, inner in value:
            yield from flat_rows(inner, f"{path}.{name}")
    else:
        yield path, value


def render_csv(result: dict[str, Any]) -> str:
    """The result as two columns, ``metric,value`` (one row per number)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "value"])
    for path, value in flat_rows(result):
        writer.writerow([path, "" if value is None else value])
    return buffer.getvalue()
