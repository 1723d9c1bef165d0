"""The indicator pages (issue 15): `/indicators/` (a division's indicators, drill-down province -> street, filters
by platform and occupation, monthly sparklines, a CSV of the table) and `/indicators/pilots/` (pilots against
the rest). Thin: the figures come from `reports.selectors`, which takes every count through accounts.policy."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.algorithms.tabular import csv_writer
from xinye.common.labels import choice_label
from xinye.common.views import get_or_404, paginate
from xinye.people.models import Occupation
from xinye.places.models import Division

from . import selectors, services
from .indicators import HOURS, INDICATORS, MEAN, PERCENT, Indicator, indicator_get
from .sparkline import sparkline_svg


def _reader(request):
    scope = request_scope(request)
    if not policy.may_read_indicators(scope):
        raise Http404
    return scope


def _number(value) -> str:
    """A count as shown: grouped digits, or nothing for a hidden count."""
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def fixed(value: float, digits: int = 1) -> str:
    """`value` rounded (Django's number_format cuts the digits off) in the locale's format; never "-0.0"."""
    rounded = round(value, digits)
    return number_format(rounded if rounded else 0.0, digits)


def value_text(indicator: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    shown = fixed(value)
    if indicator.unit == PERCENT:
        return f"{shown}%"
    if indicator.unit == MEAN:
        return _("%(value)s of 5") % {"value": shown}
    return _("%(value)s hours") % {"value": shown}


def counts_text(f: selectors.Figure) -> str:
    """The counts behind a figure, in words of its unit."""
    if not f.counted:
        return _("not counted by occupation")
    if f.suppressed and f.denominator is None:
        return _("not shown")
    if f.denominator in (0, None):
        return _("nothing to count")
    unit = f.indicator.unit
    if unit == PERCENT:
        return _("%(numerator)s of %(denominator)s") % {
            "numerator": _number(f.numerator),
            "denominator": _number(f.denominator),
        }
    if unit == MEAN:
        return _("%(denominator)s rated") % {"denominator": _number(f.denominator)}
    if unit == HOURS and f.hours is not None:
        return _("%(hours)s hours by %(denominator)s volunteers") % {
            "hours": fixed(f.hours),
            "denominator": _number(f.denominator),
        }
    return _("%(denominator)s volunteers") % {"denominator": _number(f.denominator)}


def spark(indicator: Indicator, series: list) -> str:
    known = [(p, v) for p, v in series if v is not None]
    if not known:
        return ""
    points = "，".join(f"{p:%Y-%m} {value_text(indicator, v)}" for p, v in series if v is not None)
    return sparkline_svg([v for _p, v in series], label=_("Monthly trend: %(points)s") % {"points": points})


def _decorate(f: selectors.Figure, base: dict | None = None) -> dict:
    """A figure as the page shows it; with `base` (the page's filters, for a division in the viewer's own area)
    its counts link to the records behind them: those counted, and those not."""
    links = {}
    if base is not None and f.counted and f.denominator:
        links["all"] = records_link(f.division, f.indicator, base, "all")
        if f.indicator.numerator_counts:
            links["counted"] = records_link(f.division, f.indicator, base, "counted")
            if f.numerator != f.denominator:
                links["missing"] = records_link(f.division, f.indicator, base, "missing")
    return {
        "f": f,
        "value": value_text(f.indicator, f.value) if f.counted else "—",
        "counts": counts_text(f),
        "spark": spark(f.indicator, f.series),
        "links": links,
    }


def _filters(request, code: str) -> dict:
    """The page's filters, each checked against its choices (an unknown value is ignored, not an error)."""
    platforms = selectors.platform_choices(code)
    try:
        platform = int(request.GET.get("platform", ""))
    except ValueError:
        platform = None
    if platform not in {pk for pk, _n in platforms}:
        platform = None
    occupation = request.GET.get("occupation", "")
    if occupation not in Occupation.values:
        occupation = ""
    chosen = indicator_get(request.GET.get("indicator", "")) or INDICATORS[0]
    return {"platform": platform, "occupation": occupation, "chosen": chosen, "platforms": platforms}


def indicator_board(*, request, scope, code: str) -> dict:
    """What the indicators page (and a home page) shows of a division: its figures with trends, the chosen
    indicator by the divisions below with a shaded map, each count a link to its records where the viewer may
    list them. Raises Division.DoesNotExist as `selectors.board`."""
    flt = _filters(request, code)
    data = selectors.board(
        scope=scope, code=code, platform=flt["platform"], occupation=flt["occupation"], chosen=flt["chosen"]
    )
    base = {
        "platform": flt["platform"] or "",
        "occupation": flt["occupation"],
        "indicator": flt["chosen"].code,
    }
    inside = data["access"] == policy.INSIDE
    rows = []
    for r in data["rows"]:
        link = urlencode({"division": r["division"].code, **base}) if r["drill"] else ""
        rows.append({**r, **_decorate(r["figure"], base if r["listable"] else None), "link": link})
    map_data = _shaded_map(code, flt["chosen"], rows)
    return {
        **data,
        "data": data,
        "base": base,
        "map_data": map_data,
        "legend": map_data["shade"] if map_data else None,
        "figures": [_decorate(f, base if inside else None) for f in data["figures"]],
        "rows": rows,
        "filters": flt,
        "occupations": Occupation.choices,
        "indicators": INDICATORS,
        "outside": data["access"] == policy.OUTSIDE,
    }


@login_required
def indicator_index(request):
    scope = _reader(request)
    code = request.GET.get("division", selectors.default_division(scope)).strip()
    board = get_or_404(indicator_board, request=request, scope=scope, code=code)
    if request.GET.get("format") == "csv":
        return _csv(board["data"], board["filters"])
    base = board["base"]
    return render(
        request,
        "reports/indicators.html",
        {
            **board,
            "definitions": [_definition(i) for i in INDICATORS],
            "csv_query": urlencode({"division": code, **base, "format": "csv"}),
            "crumb_links": [(c, n, urlencode({"division": c, **base})) for c, n in board["crumbs"]],
        },
    )


@login_required
def indicator_records(request):
    """The list behind a figure: the people, business units or demands counted (or not) in it, in the viewer's
    own area only (`selectors.figure_records`)."""
    scope = _reader(request)
    code = request.GET.get("division", selectors.default_division(scope)).strip()
    flt = _filters(request, code)
    if "indicator" not in request.GET:  # no figure asked for: the figures to choose from
        return redirect("indicator_index")
    indicator = indicator_get(request.GET.get("indicator", ""))
    if indicator is None:
        raise Http404
    part = request.GET.get("part", "counted")
    kind, qs, counts = get_or_404(
        selectors.figure_records,
        scope=scope,
        code=code,
        indicator=indicator,
        platform=flt["platform"],
        occupation=flt["occupation"],
        part=part,
    )
    if kind == "people":
        qs = qs.select_related("work_community")
    elif kind == "demands":
        qs = qs.select_related("category", "community")
    else:
        qs = qs.select_related("company", "division")
    division = Division.objects.filter(code=code).first() if code else None
    base = {"division": code, "indicator": indicator.code, "platform": flt["platform"] or "",
            "occupation": flt["occupation"]}  # fmt: skip
    parts = [
        (p, label, urlencode({**base, "part": p}), n)
        for p, label, n in (
            ("counted", _("Counted"), counts["counted"]),
            ("missing", _("Not counted"), counts["all"] - counts["counted"]),
            ("all", _("All"), counts["all"]),
        )
        if indicator.numerator_counts or p == "all"
    ]
    page = paginate(request, qs)
    policy.indicator_records_shown(scope, counts["records"], [item.pk for item in page.object_list])
    return render(
        request,
        "reports/indicator_records.html",
        {
            "indicator": indicator,
            "division": division,
            "kind": kind,
            "page": page,
            "part": part,
            "parts": parts,
            "back": urlencode(base),
            "platform_name": dict(flt["platforms"]).get(flt["platform"], ""),
            "occupation_name": dict(Occupation.choices).get(flt["occupation"], ""),
        },
    )


def _shaded_map(code: str, chosen: Indicator, rows: list[dict]) -> dict | None:
    """The divisions below `code` that have boundaries on record (districts, under a city), shaded by the chosen
    indicator as the viewer sees it (a figure not shown is not shaded), each a link one level down; None when
    fewer than two of them can be drawn."""
    from xinye.places.maps import choropleth
    from xinye.places.selectors import boundaries_geojson

    by_code = {r["division"].code: r for r in rows}
    if not by_code:
        return None
    geo = boundaries_geojson(code_prefix=code)
    geo["features"] = [f for f in geo["features"] if f["properties"]["code"] in by_code]
    if len(geo["features"]) < 2:
        return None
    values, drill = {}, {}
    for feature in geo["features"]:
        r = by_code[feature["properties"]["code"]]
        name = feature["properties"]["name"]
        if r["figure"].value is not None:
            values[name] = r["figure"].value / 100 if chosen.unit == PERCENT else r["figure"].value
        if r["link"]:
            drill[name] = reverse("indicator_index") + "?" + r["link"]
    shade = choropleth(values, unit=str(chosen.label), percent=chosen.unit == PERCENT, digits=1)
    return {"geo": geo, "points": [], "shade": shade, "drill": drill}


def records_link(code: str, indicator: Indicator, base: dict, part: str) -> str:
    """The address of the list behind a figure."""
    query = {**base, "division": code, "indicator": indicator.code, "part": part}
    return reverse("indicator_records") + "?" + urlencode(query)


def _definition(i: Indicator) -> dict:
    return {
        "code": i.code,
        "label": i.text("label"),
        "numerator": i.text("numerator"),
        "denominator": i.text("denominator"),
        "unit": i.unit_label,
        "source": i.text("source"),
        "explanation": i.text("explanation"),
    }


def _csv(data: dict, flt: dict) -> HttpResponse:
    """The page's figures and the chosen indicator by division, as the viewer sees them (hidden counts
    kept), through the inert writer."""
    buf = io.StringIO()
    w = csv_writer(buf, lineterminator="\n")
    w.writerow(["division", "name", "indicator", "label", "numerator", "denominator", "value", "unit", "as_of",
                "platform", "occupation", "unit_label", "platform_name", "occupation_label"])  # fmt: skip
    platform_name = dict(flt["platforms"]).get(flt["platform"], "")
    occupation_label = choice_label(Occupation, flt["occupation"])
    name = data["division"].name if data["division"] is not None else ""
    lines = [(data["code"], name, f) for f in data["figures"]]
    lines += [(r["division"].code, r["division"].name, r["figure"]) for r in data["rows"]]
    for code, division_name, f in lines:
        value = "" if f.value is None else f"{f.value:.4f}"
        w.writerow([code, division_name, f.indicator.code, f.indicator.text("label"),
                    "" if f.numerator is None else f.numerator, "" if f.denominator is None else f.denominator,
                    value, f.indicator.unit, data["as_of"].isoformat(), flt["platform"] or "",
                    flt["occupation"], f.indicator.unit_label, platform_name, occupation_label])  # fmt: skip
    response = HttpResponse(buf.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="indicators-{data["code"] or "all"}.csv"'
    return response


# ------------------------------------------------------------------------------------------------- pilots


class PilotForm(forms.Form):
    division = forms.CharField(
        label=gettext_lazy("Division code"),
        max_length=9,
        help_text=gettext_lazy("A province (2 digits), city (4), district (6) or street (9)."),
    )
    start_on = forms.DateField(label=gettext_lazy("Started on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def clean_division(self):
        code = self.cleaned_data["division"].strip()
        division = Division.objects.filter(code=code).first()
        if division is None or division.level not in services.PILOT_LEVELS:
            raise forms.ValidationError(gettext_lazy("Give the code of a province, city, district or street."))
        return division


class PilotEditForm(forms.Form):
    start_on = forms.DateField(label=gettext_lazy("Started on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


def _comparison_rows(scope, pilot, chosen, platform, occupation) -> dict:
    c = selectors.pilot_comparison(scope=scope, pilot=pilot, indicator=chosen, platform=platform, occupation=occupation)
    table = c["table"]
    cells = {}
    if table is not None:
        for key in ("pilot_before", "pilot_after", "rest_before", "rest_after"):
            t = table[key]
            f = selectors.Figure(
                indicator=chosen, division="", numerator=t["numerator"], denominator=t["denominator"],
                value=t["value"], suppressed=not t["visible"],
            )  # fmt: skip
            cells[key] = {"value": value_text(chosen, t["value"]), "counts": counts_text(f)}
        for key in ("pilot_change", "rest_change", "difference"):
            v = table[key]
            cells[key] = "—" if v is None else f"{'+' if round(v, 1) > 0 else ''}{fixed(v)}"
    return {
        **c,
        "cells": cells,
        "spark_pilot": spark(chosen, c["series"]["pilot"]),
        "spark_rest": spark(chosen, c["series"]["rest"]),
    }


@login_required
def pilot_index(request):
    scope = _reader(request)
    flt = _filters(request, "")
    chosen = flt["chosen"]
    form = None
    if policy.may_manage_pilots(scope):
        form = PilotForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.pilot_create(
                    scope=scope,
                    division=form.cleaned_data["division"],
                    start_on=form.cleaned_data["start_on"],
                    note=form.cleaned_data["note"],
                    user=request.user,
                )
            except services.PilotError as exc:
                form.add_error("division", _(str(exc)))
            else:
                messages.success(request, _("The pilot is set."))
                return redirect("pilot_index")
    elif request.method == "POST":
        raise Http404
    pilots = [
        _comparison_rows(scope, p, chosen, flt["platform"], flt["occupation"])
        for p in selectors.pilot_list(scope=scope)
    ]
    unit = {PERCENT: _("percentage points"), MEAN: pgettext("a score", "points"), HOURS: _("hours")}[chosen.unit]
    return render(
        request,
        "reports/pilots.html",
        {
            "pilots": pilots,
            "form": form,
            "filters": flt,
            "chosen": chosen,
            "definition": _definition(chosen),
            "indicators": INDICATORS,
            "occupations": Occupation.choices,
            "difference_unit": unit,
            "may_manage": policy.may_manage_pilots(scope),
        },
    )


@login_required
def pilot_edit(request, pk: int):
    scope = _reader(request)
    if not policy.may_manage_pilots(scope):
        raise Http404
    pilot = get_or_404(selectors.pilot_get, scope=scope, pk=pk)
    form = PilotEditForm(request.POST or None, initial={"start_on": pilot.start_on, "note": pilot.note})
    if request.method == "POST" and form.is_valid():
        services.pilot_update(
            scope=scope, pilot=pilot, start_on=form.cleaned_data["start_on"], note=form.cleaned_data["note"]
        )
        messages.success(request, _("The pilot is saved."))
        return redirect("pilot_index")
    return render(request, "reports/pilot_edit.html", {"pilot": pilot, "form": form})


@login_required
@require_POST
def pilot_delete(request, pk: int):
    scope = _reader(request)
    if not policy.may_manage_pilots(scope):
        raise Http404
    pilot = get_or_404(selectors.pilot_get, scope=scope, pk=pk)
    services.pilot_delete(scope=scope, pilot=pilot)
    messages.success(request, _("The pilot is removed."))
    return redirect("pilot_index")
