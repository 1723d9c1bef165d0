"""A sparkline drawn on the server: an inline SVG of a few monthly values, no script, no style attribute (the
Content-Security-Policy allows neither; app.css colours `svg.spark`).

The line is scaled to its own minimum and maximum (a flat series is drawn in the middle); a missing value (a
month without a snapshot, or a figure the viewer may not see) breaks the line. The text alternative lists
every point ("2026-01 41.0%, 2026-02 43.5%"), so a screen reader reads the trend, not a picture.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 120
HEIGHT = 32
PAD = 3


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    out: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for x, y in points:
        if y is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append((x, y))
    if current:
        out.append(current)
    return out


def coordinates(values: Sequence[float | None]) -> list[tuple[float, float | None]]:
    """(x, y) in the SVG's box for each value (y None where the value is missing); x spaced evenly, y upwards."""
    known = [v for v in values if v is not None]
    if not known:
        return [(0.0, None) for _ in values]
    lo, hi = min(known), max(known)
    n = len(values)
    out: list[tuple[float, float | None]] = []
    for i, v in enumerate(values):
        x = PAD + (WIDTH - 2 * PAD) * (i / (n - 1) if n > 1 else 0.5)
        if v is None:
            out.append((round(x, 2), None))
            continue
        t = (v - lo) / (hi - lo) if hi > lo else 0.5
        out.append((round(x, 2), round(HEIGHT - PAD - t * (HEIGHT - 2 * PAD), 2)))
    return out


def sparkline_svg(values: Sequence[float | None], *, label: str) -> SafeString:
    """An inline SVG (role img, `label` as its accessible name and title); "" when no value is known."""
    pts = coordinates(values)
    segments = _segments(pts)
    if not segments:
        return mark_safe("")  # noqa: S308 (a constant)
    lines = format_html_join(
        "",
        '<polyline points="{}"/>',
        ((" ".join(f"{x:g},{y:g}" for x, y in seg),) for seg in segments),
    )
    last_x, last_y = segments[-1][-1]
    return format_html(
        '<svg class="spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}" '
        'focusable="false"><title>{}</title>{}<circle cx="{}" cy="{}" r="2"/></svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        label,
        label,
        lines,
        f"{last_x:g}",
        f"{last_y:g}",
    )
