"""Tiny inline-SVG charts: no scripts, no fonts to fetch, they render offline anywhere.

Every mark carries ``data-label`` and ``data-value`` so tests (and curious readers) can
check what a chart shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD, ROW = 640, 240, 40, 30
COLOURS = ("#2f6fb0", "#d9822b", "#3a9d5d", "#c23b3b", "#7a5cb8")


def el(tag: str, text: str | None = None, **attrs: object) -> str:
    """One SVG element; ``data_value`` becomes ``data-value``; floats get one decimal."""
    rendered = " ".join(
        f'{k.replace("_", "-")}="{escape(f"{v:.1f}" if isinstance(v, float) else str(v))}"'
        for k, v in attrs.items()
    )
    return f"<{tag} {rendered}>{text}</{tag}>" if text is not None else f"<{tag} {rendered}/>"


def _open(name: str, title: str, height: int = HEIGHT) -> list[str]:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" data-chart="{escape(name)}" '
        f'aria-label="{escape(title)}">'
    )
    return [
        head,
        f"<title>{escape(title)}</title>",
        el("rect", width=WIDTH, height=height, fill="#fff"),
    ]


def _fmt(value: float, percent: bool = False) -> str:
    if percent:
        return f"{value:.0%}"
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _close(parts: list[str], empty: bool, height: int = HEIGHT) -> str:
    if empty:
        parts.append(el("text", "no data", x=WIDTH / 2, y=height / 2, text_anchor="middle"))
    return "".join([*parts, "</svg>"])


def _label(x: float, y: float, text: str, anchor: str = "middle", size: int = 11) -> str:
    return el("text", escape(text), x=x, y=y, text_anchor=anchor, font_size=size)


def line_chart(
    name: str, title: str, points: Sequence[tuple[str, float | None]], percent: bool = False
) -> str:
    """A line over labelled points (``None`` values leave a gap)."""
    parts = _open(name, title)
    values = [v for _, v in points if v is not None]
    if not values:
        return _close(parts, empty=True)
    top = max(*values, 1e-9) if not percent else max(*values, 0.5)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / max(len(points) - 1, 1)
    parts.append(
        el("line", x1=PAD, y1=HEIGHT - PAD, x2=WIDTH - PAD, y2=HEIGHT - PAD, stroke="#999")
    )
    parts.append(_label(PAD - 4, PAD + 4, _fmt(top, percent), anchor="end", size=10))
    segments: list[list[str]] = [[]]
    for i, (label, value) in enumerate(points):
        if value is None:
            segments.append([])
            continue
        x, y = PAD + i * step, HEIGHT - PAD - inner_h * value / top
        segments[-1].append(f"{x:.1f},{y:.1f}")
        tip = el("title", f"{escape(label)}: {_fmt(value, percent)}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[0]}" '
            f'data-label="{escape(label)}" data-value="{value:g}">{tip}</circle>'
        )
    for segment in segments:
        if len(segment) > 1:
            line = " ".join(segment)
            parts.append(
                el("polyline", fill="none", stroke=COLOURS[0], stroke_width=2, points=line)
            )
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        parts.append(_label(PAD + i * step, HEIGHT - PAD + 16, points[i][0], size=10))
    return _close(parts, empty=False)


def bar_chart(
    name: str, title: str, bars: Sequence[tuple[str, float]], horizontal: bool = False
) -> str:
    """Bars from zero, vertical by default; horizontal suits long labels (a funnel)."""
    height = max(HEIGHT, ROW * len(bars) + 2 * PAD) if horizontal else HEIGHT
    parts = _open(name, title, height)
    if not bars:
        return _close(parts, empty=True, height=height)
    top = max(*(v for _, v in bars), 1e-9)
    for i, (label, value) in enumerate(bars):
        mark = {"fill": COLOURS[i % len(COLOURS)], "data_label": label, "data_value": f"{value:g}"}
        if horizontal:
            y, length = float(PAD + i * ROW), (WIDTH - 3 * PAD - 120) * value / top
            parts.append(_label(PAD + 116, y + 15, label, anchor="end", size=12))
            parts.append(el("rect", x=PAD + 120, y=y, width=float(length), height=22, **mark))
            parts.append(_label(PAD + 124 + length, y + 15, _fmt(value), anchor="start", size=12))
        else:
            slot = (WIDTH - 2 * PAD) / len(bars)
            x, length = PAD + i * slot + slot * 0.15, (HEIGHT - 2 * PAD) * value / top
            y = HEIGHT - PAD - length
            parts.append(
                el("rect", x=x, y=float(y), width=slot * 0.7, height=float(length), **mark)
            )
            parts.append(_label(x + slot * 0.35, y - 4, _fmt(value)))
            parts.append(_label(x + slot * 0.35, HEIGHT - PAD + 16, label))
    return _close(parts, empty=False, height=height)


def diverging_bars(name: str, title: str, bars: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars either side of zero, for scores in -1..1 (sentiment)."""
    height = max(HEIGHT, ROW * len(bars) + 2 * PAD)
    parts = _open(name, title, height)
    if not bars:
        return _close(parts, empty=True, height=height)
    middle, half = WIDTH / 2 + 60, WIDTH / 2 - PAD - 60
    parts.append(el("line", x1=middle, y1=PAD - 10, x2=middle, y2=height - PAD, stroke="#999"))
    for i, (label, value) in enumerate(bars):
        y, length = PAD + i * ROW, half * max(-1.0, min(1.0, value))
        colour = COLOURS[2] if value >= 0 else COLOURS[3]
        parts.append(_label(PAD, y + 15, label, anchor="start", size=12))
        parts.append(
            el(
                "rect",
                x=min(middle, middle + length),
                y=y,
                width=abs(length),
                height=22,
                fill=colour,
                data_label=label,
                data_value=f"{value:g}",
            )
        )
        parts.append(_label(WIDTH - PAD, y + 15, f"{value:+.2f}", anchor="end", size=12))
    return _close(parts, empty=False, height=height)
