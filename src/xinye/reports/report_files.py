"""The files of a division's monthly report (issue 15, item 4), from `selectors.MonthlyData`:

- an .xlsx (XlsxWriter, through `algorithms.tabular.ChartWorkbook`: every text cell inert) with a summary, the
  trend of every indicator over the last 12 snapshots with a native line chart each, the divisions one level
  below with a native bar chart each, the counts behind every figure as one long table, and the definitions;
- a PDF (WeasyPrint) with the same figures and the same charts drawn on the server as SVG (`charts`).

Both are written in Chinese whatever the interface's language: a report sent upward is an official document
(as the volunteer's certificate). The PDF fetches nothing: its stylesheet is read from disk, the charts are
inline SVG, and any other address raises (so no text in a division's name can make it load anything).
"""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from xinye.algorithms.tabular import ChartWorkbook

from . import charts
from .indicators import MEAN, PERCENT, Indicator
from .selectors import Figure, MonthlyData

#: the reports' language: official documents in Chinese
LANGUAGE = "zh-hans"
STYLESHEET = "xinye/report.css"


def _suffix(indicator: Indicator) -> str:
    return "%" if indicator.unit == PERCENT else ""


def _cap(indicator: Indicator) -> float | None:
    return {PERCENT: 100.0, MEAN: 5.0}.get(indicator.unit)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _title(data: MonthlyData) -> str:
    return _("%(division)s: indicators for %(month)s") % {
        "division": data.division.name,
        "month": f"{data.period:%Y-%m}",
    }


def _shown(count):
    """A count as the policy gave it: a number, or nothing (hidden)."""
    return "" if count is None else count


# ------------------------------------------------------------------------------------------------- .xlsx


def report_xlsx(data: MonthlyData) -> bytes:
    with translation.override(LANGUAGE):
        return _xlsx(data)


def _xlsx(data: MonthlyData) -> bytes:
    from .indicator_views import counts_text, value_text

    buf = io.BytesIO()
    book = ChartWorkbook(buf)
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#eeeeee", "border": 1, "text_wrap": True, "valign": "top"})
    big = book.add_format({"bold": True, "font_size": 14})
    one = book.add_format({"num_format": "0.0"})
    note = book.add_format({"italic": True, "font_color": "#555555"})
    indicators = [f.indicator for f in data.figures]
    labels = [i.text("label") for i in indicators]

    # the summary: the month's figure of every indicator
    s = book.add_sheet(_("Summary"))
    s.write(0, 0, _title(data), big)
    facts = [
        (_("Division"), data.division.name),
        (_("Division code"), data.division.code),
        (_("Month"), f"{data.period:%Y-%m}"),
        (_("Counted as of"), f"{data.as_of:%Y-%m-%d}"),
        (_("Made on"), f"{timezone.localtime():%Y-%m-%d %H:%M}"),
    ]
    for r, (k, v) in enumerate(facts, start=2):
        s.write(r, 0, k, bold)
        s.write(r, 1, v)
    row = len(facts) + 2
    if data.outside:
        s.write(row, 0, _outside_note(), note)
        row += 1
    row += 1
    s.write_row(row, 0, [_("Indicator"), _("Figure"), _("Value"), _("Change on the month before"), _("Numerator"),
                         _("Denominator"), _("Counts"), pgettext("of measure", "Unit"), _("Code")], head)  # fmt: skip
    for f, label in zip(data.figures, labels, strict=True):
        row += 1
        prev, now = data.previous(f), f.value
        change = (round(now - prev, 1) or 0.0) if now is not None and prev is not None else None
        s.write_row(row, 0, [label, value_text(f.indicator, f.value)])
        s.write(row, 2, _round(f.value), one)
        s.write(row, 3, change, one)
        s.write_row(row, 4, [_shown(f.numerator), _shown(f.denominator), counts_text(f), f.indicator.unit_label,
                             f.indicator.code])  # fmt: skip
    s.sheet.set_column(0, 0, 30)
    s.sheet.set_column(1, 6, 14)
    s.sheet.set_column(7, 7, 30)

    # the trend: months down, indicators across; a line chart per indicator under the table
    trend_name = _("Trend")
    t = book.add_sheet(trend_name)
    t.write(0, 0, _("Month"), head)
    t.write_row(0, 1, labels, head)
    for r, p in enumerate(data.periods, start=1):
        t.write(r, 0, f"{p:%Y-%m}")
        for c, f in enumerate(data.figures, start=1):
            t.write(r, c, _round(f.series[r - 1][1]), one)
    t.sheet.set_column(0, 0, 10)
    t.sheet.set_column(1, len(labels), 14)
    t.sheet.set_row(0, 45)
    t.sheet.freeze_panes(1, 1)
    last = len(data.periods)
    chart_row = last + 3
    for k, (f, label) in enumerate(zip(data.figures, labels, strict=True)):
        chart = book.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": label,
                "categories": [trend_name, 1, 0, last, 0],
                "values": [trend_name, 1, k + 1, last, k + 1],
                "marker": {"type": "circle", "size": 5},
                "data_labels": {"value": False},
            }
        )
        chart.set_title({"name": label, "name_font": {"size": 11}})
        chart.set_legend({"none": True})
        chart.set_y_axis(_axis(f.indicator))
        chart.show_blanks_as("gap")
        t.sheet.insert_chart(chart_row + (k // 2) * 16, 1 + (k % 2) * 7, chart, {"x_scale": 1.0, "y_scale": 1.0})

    # the divisions one level below: divisions down, indicators across; a bar chart per indicator
    if data.children:
        below_name = _("Divisions below")
        b = book.add_sheet(below_name)
        b.write_row(0, 0, [_("Division code"), _("Division")], head)
        b.write_row(0, 2, labels, head)
        for r, child in enumerate(data.children, start=1):
            b.write_row(r, 0, [child.code, child.name])
            for c, i in enumerate(indicators, start=2):
                b.write(r, c, _round(data.by_child[i.code][r - 1].value), one)
        b.sheet.set_column(0, 0, 12)
        b.sheet.set_column(1, 1, 18)
        b.sheet.set_column(2, len(labels) + 1, 14)
        b.sheet.set_row(0, 45)
        b.sheet.freeze_panes(1, 2)
        n = len(data.children)
        chart_row = n + 3
        for k, (i, label) in enumerate(zip(indicators, labels, strict=True)):
            chart = book.add_chart({"type": "bar"})
            chart.add_series(
                {
                    "name": label,
                    "categories": [below_name, 1, 1, n, 1],
                    "values": [below_name, 1, k + 2, n, k + 2],
                    "data_labels": {"value": True, "num_format": "0.0"},
                }
            )
            chart.set_title({"name": label, "name_font": {"size": 11}})
            chart.set_legend({"none": True})
            chart.set_x_axis(_axis(i))  # a bar chart's values run along x
            chart.set_y_axis({"reverse": True})  # the first division on top, as in the table
            chart.show_blanks_as("gap")
            height = max(1.0, 0.25 + 0.06 * n)
            t_row = chart_row + (k // 2) * int(16 * height)
            b.sheet.insert_chart(t_row, 1 + (k % 2) * 7, chart, {"y_scale": height})

    # the counts behind every figure: one long table
    d = book.add_sheet(_("Data"))
    d.write_row(0, 0, [_("Division code"), _("Division"), _("Code"), _("Indicator"), _("Month"), _("Numerator"),
                       _("Denominator"), _("Value"), _("Unit"), _("Small counts hidden")], head)  # fmt: skip
    row = 0
    month = f"{data.period:%Y-%m}"
    lines: list[tuple[str, str, Figure]] = [(data.division.code, data.division.name, f) for f in data.figures]
    for c, child in enumerate(data.children):
        lines += [(child.code, child.name, data.by_child[i.code][c]) for i in indicators]
    for code, name, f in lines:
        row += 1
        d.write_row(row, 0, [code, name, f.indicator.code, f.indicator.text("label"), month, _shown(f.numerator),
                             _shown(f.denominator)])  # fmt: skip
        d.write(row, 7, _round(f.value), one)
        d.write_row(row, 8, [f.indicator.unit_label, _("yes") if f.suppressed else ""])
    d.sheet.set_column(0, 0, 12)
    d.sheet.set_column(1, 1, 16)
    d.sheet.set_column(3, 3, 28)
    d.sheet.autofilter(0, 0, max(row, 1), 9)

    # what each indicator counts
    e = book.add_sheet(_("Definitions"))
    e.write_row(0, 0, [_("Code"), _("Indicator"), _("Counted:"), _("Out of:"), _("Unit:"), _("From:"),
                       _("Explanation")], head)  # fmt: skip
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for r, i in enumerate(indicators, start=1):
        e.write_row(r, 0, [i.code, i.text("label"), i.text("numerator"), i.text("denominator"), i.unit_label,
                           i.text("source"), i.text("explanation")], wrap)  # fmt: skip
    e.sheet.set_column(0, 0, 18)
    e.sheet.set_column(1, 5, 24)
    e.sheet.set_column(6, 6, 60)
    book.close()
    return buf.getvalue()


def _axis(indicator: Indicator) -> dict:
    axis: dict = {"min": 0, "num_format": "0", "name": indicator.unit_label, "name_font": {"size": 9}}
    cap = _cap(indicator)
    if cap is not None:
        axis["max"] = cap
    return axis


def _outside_note() -> str:
    return _(
        "This division takes in people outside your own area: a figure resting on a count from 0 to 4 is not "
        "shown, and neither are its counts."
    )


# --------------------------------------------------------------------------------------------------- PDF


def report_html(data: MonthlyData) -> str:
    """The report as the standalone Chinese document the PDF is made from."""
    with translation.override(LANGUAGE):
        return _html(data)


def _html(data: MonthlyData) -> str:
    from .indicator_views import counts_text, value_text

    months = [f"{p:%Y-%m}" for p in data.periods]
    rows, trends, bars = [], [], []
    for f in data.figures:
        i = f.indicator
        label = i.text("label")
        prev = data.previous(f)
        change = None
        if f.value is not None and prev is not None:
            change = round(f.value - prev, 1) or 0.0  # never "-0.0"
        rows.append(
            {
                "label": label,
                "value": value_text(i, f.value),
                "counts": counts_text(f),
                "change": "—" if change is None else f"{'+' if change > 0 else ''}{change:.1f}",
                "suppressed": f.suppressed,
            }
        )
        trends.append(
            {
                "label": label,
                "unit": i.unit_label,
                "svg": mark_safe(  # noqa: S308 (charts escapes every text it draws)
                    charts.line_chart_svg(
                        months, [f_v for _p, f_v in f.series], title=label, suffix=_suffix(i), cap=_cap(i)
                    )  # fmt: skip
                ),
            }
        )
        if data.children:
            bars.append(
                {
                    "label": label,
                    "unit": i.unit_label,
                    "svg": mark_safe(  # noqa: S308 (charts escapes every text it draws)
                        charts.bar_chart_svg(
                            [c.name for c in data.children],
                            [g.value for g in data.by_child[i.code]],
                            title=label,
                            suffix=_suffix(i),
                            cap=_cap(i),
                            missing=[_("not shown") if g.suppressed else "—" for g in data.by_child[i.code]],
                        )
                    ),
                }
            )
    definitions = [
        {"label": i.text("label"), "numerator": i.text("numerator"), "denominator": i.text("denominator")}
        for i in (f.indicator for f in data.figures)
    ]
    return render_to_string(
        "reports/monthly_report_pdf.html",
        {
            "data": data,
            "title": _title(data),
            "rows": rows,
            "trends": trends,
            "bars": bars,
            "definitions": definitions,
            "first_month": months[0] if months else "",
            "made_at": timezone.localtime(),
            "outside_note": _outside_note() if data.outside else "",
        },
    )


def _no_fetch(url, *args, **kwargs):
    raise ValueError(f"the report loads nothing from outside: {url}")


def report_pdf(data: MonthlyData) -> bytes:
    """The report as a PDF (WeasyPrint), A4."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    css = finders.find(STYLESHEET)
    if not css:
        raise FileNotFoundError(STYLESHEET)
    html = report_html(data)
    return HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf(stylesheets=[CSS(filename=css)])
