"""Charts drawn on the server as SVG for the monthly report's PDF (issue 15, item 4): a line chart of a monthly
series and a horizontal bar chart of divisions. No script, no style attribute, no external resource (fonts
come from the document's stylesheet); every text is escaped. They draw what the .xlsx's native charts draw,
from the same numbers.

A missing value (a month without a snapshot, a figure the reader may not see) breaks the line, and a bar that
is missing is drawn as "—" with no bar, never as zero. The y axis of a line starts at 0 and ends at a round
number above the largest value (100 for a percentage that reaches it), so two charts of shares read alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

LINE = "#c0392b"
BAR = "#2c6fbb"
AXIS = "#888888"
GRID = "#dddddd"
TEXT = "#222222"
FONT = 11


def nice_top(largest: float, *, cap: float | None = None) -> float:
    """A round upper end of an axis at or above `largest` (1, 2, 2.5 or 5 times a power of ten); `cap` (100 for a
    share) is taken when the round number would pass it."""
    if largest <= 0:
        return cap or 1.0
    power = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 2.5, 5, 10):
        top = step * power
        if top >= largest - 1e-9:
            break
    if cap is not None and top > cap >= largest:
        top = cap
    return float(top)


def _num(v: float) -> str:
    """A value as drawn next to a point or bar: one decimal at most ("80", "33.3")."""
    return f"{v:.1f}".rstrip("0").rstrip(".") if abs(v - round(v)) > 1e-9 else f"{round(v):d}"


def _tick(v: float) -> str:
    """An axis tick: as many decimals as it has (0.025, 12.5, 100)."""
    return f"{round(v, 6):g}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label={quoteattr(title)} font-size="{FONT}" fill="{TEXT}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def line_chart_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    suffix: str = "",
    cap: float | None = None,
    width: int = 340,
    height: int = 190,
) -> str:
    """A line chart: `labels` (months, "2026-03") along x, `values` (None: a gap) up y from 0, each known point
    marked and the last one labelled with its value and `suffix` ("%")."""
    left, right, top, bottom = 48, 30, 20, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for v in values if v is not None]
    hi = nice_top(max(known, default=0.0), cap=cap)
    n = len(values)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / hi)

    body = []
    for k in range(5):  # gridlines and y labels at 0, 1/4 ... the top
        v = hi * k / 4
        yy = y(v)
        body.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end">{escape(_tick(v))}</text>')
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{AXIS}"/>')
    every = max(1, math.ceil(n / 6))  # at most about six month labels
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            # the first and last labels lean inwards, so neither runs off the picture
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            body.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}">{escape(str(label))}</text>'
            )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            segment.append(f"{x(i):.1f},{y(v):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            body.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for i, v in enumerate(values):
        if v is not None:
            body.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{LINE}"/>')
    last = max((i for i, v in enumerate(values) if v is not None), default=None)
    if last is not None:
        v = values[last]
        anchor = "end" if n > 1 and last >= (n - 1) / 2 else "start"
        dx = -4 if anchor == "end" else 4
        body.append(
            f'<text x="{x(last) + dx:.1f}" y="{y(v) - 6:.1f}" text-anchor="{anchor}" fill="{LINE}">'
            f"{escape(_num(v) + suffix)}</text>"
        )
    return _svg(width, height, title, body)


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    suffix: str = "",
    cap: float | None = None,
    missing: str | Sequence[str] = "—",
    width: int = 340,
    bar: int = 16,
) -> str:
    """Horizontal bars, one per label (a division's name) from 0, each with its value and `suffix`; a missing
    value gets no bar and `missing` (one text, or one per label: "not shown" apart from "nothing counted")."""
    notes = [missing] * len(labels) if isinstance(missing, str) else list(missing)
    name_w, right, top, gap = 96, 44, 6, 6
    height = top * 2 + len(labels) * (bar + gap)
    plot_w = width - name_w - right
    hi = nice_top(max((v for v in values if v is not None), default=0.0), cap=cap)
    body = [f'<line x1="{name_w}" y1="{top}" x2="{name_w}" y2="{height - top}" stroke="{AXIS}"/>']
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        yy = top + i * (bar + gap) + gap / 2
        name = str(label)
        short = name if len(name) <= 7 else name[:6] + "…"
        body.append(f'<text x="{name_w - 4}" y="{yy + bar - 4:.1f}" text-anchor="end">{escape(short)}</text>')
        if v is None:
            body.append(f'<text x="{name_w + 4}" y="{yy + bar - 4:.1f}">{escape(notes[i])}</text>')
            continue
        w = plot_w * max(v, 0.0) / hi
        body.append(f'<rect x="{name_w}" y="{yy:.1f}" width="{w:.1f}" height="{bar}" fill="{BAR}"/>')
        body.append(f'<text x="{name_w + w + 4:.1f}" y="{yy + bar - 4:.1f}">{escape(_num(v) + suffix)}</text>')
    return _svg(width, height, title, body)
