"""Station pages: the finder (a phone page, no login) and the registry (operators and organizers)."""

from __future__ import annotations

import functools
import gzip
import io
import json
import math
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from xinye.accounts.scope import request_scope
from xinye.algorithms import geo
from xinye.algorithms.errors import InputError, XinyeError
from xinye.algorithms.tabular import csv_writer
from xinye.common import ratelimit
from xinye.common.concurrency import Conflict, conflict_in_form, save_versioned
from xinye.common.input_errors import localized_errors
from xinye.common.jobs import job_submit
from xinye.common.uploads import uploaded_path
from xinye.common.views import get_or_404, paginate
from xinye.people.models import Occupation
from xinye.places.maps import choropleth
from xinye.places.models import Division, Level
from xinye.places.selectors import boundaries_geojson

from . import coverage, navigation, planning, registry, selectors
from .forms import StationForm
from .models import Amenity, PlacementRun, Station, StationStatus
from .services import is_open

STANDARD = ["water", "microwave", "charging", "toilet", "seats", "air_conditioning"]


def _city(request) -> str:
    city = request.GET.get("city", "4403")
    return city if city.isdigit() and len(city) <= 12 else "4403"


@ratelimit.limit("finder", rate="finder", anonymous_only=True)
def finder_map(request):
    """The district outlines under the finder's map (GeoJSON), fetched when a rider opens the map: public and
    the same for everyone, so browsers and proxies may keep it for a day."""
    response = JsonResponse(boundaries_geojson(code_prefix=_city(request)))
    patch_cache_control(response, public=True, max_age=86_400)
    return response


@ratelimit.limit("finder", rate="finder", anonymous_only=True)
def finder(request):
    city = _city(request)
    street = request.GET.get("street", "")
    community = request.GET.get("community", "")
    wanted = [a for a in request.GET.getlist("amenity") if a in Amenity.values]
    open_now = request.GET.get("open_now") == "1"
    lat = lon = None
    error = ""
    try:
        if request.GET.get("lat") and request.GET.get("lon"):
            lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
    except ValueError:
        lat = lon = None
        error = "location"
    place = None
    if lat is None and community:
        place = Division.objects.filter(code=community, level=Level.COMMUNITY, lat__isnull=False).first()
        if place:
            lat, lon = place.lat, place.lon
    results = (
        selectors.station_nearest(lat=lat, lon=lon, amenities=wanted, open_now=open_now, limit=8)
        if lat is not None
        else []
    )
    labels = dict(Amenity.choices)
    region = Division.objects.filter(code=city).values_list("name", flat=True).first() or ""
    origin_name = place.name if place else _("My location")
    for r in results:
        r["amenity_labels"] = [labels.get(a, a) for a in r["station"].amenities]
        r.update(directions(r["station"], origin=(lat, lon), origin_name=origin_name, region=region))
    points = [{"value": [r["station"].lon, r["station"].lat], "name": r["station"].name} for r in results]
    show_map = request.GET.get("map") == "1"
    # the outlines come with the map's scripts, when the rider asks for the map (finder_map), unless asked already
    geo = boundaries_geojson(code_prefix=city) if results and show_map else None
    return render(
        request,
        "stations/finder.html",
        {
            "streets": Division.objects.filter(level=Level.STREET, code__startswith=city).select_related("parent"),
            "street": street,
            "community": community,
            "city": city,
            "communities": Division.objects.filter(level=Level.COMMUNITY, parent__code=street) if street else [],
            "amenities": [(a, label) for a, label in Amenity.choices],
            "wanted": wanted,
            "open_now": open_now,
            "results": results,
            "searched": lat is not None,
            "error": error,
            # the map (ECharts, about 1 MB) is loaded only when the rider asks for it (issue 16, item 8)
            "show_map": show_map,
            "map_kb": map_script_kb(),
            "map": {"geo": geo, "points": points, "me": [lon, lat] if lat is not None else None},
        },
    )


MAP_SCRIPTS = ("vendor/echarts/echarts.min.js", "xinye/charts.js")


@functools.cache
def map_script_kb() -> int:
    """What the finder's map costs a rider: its scripts gzip-compressed, in KB rounded to tens (0: not found)."""
    total = 0
    for name in MAP_SCRIPTS:
        path = finders.find(name)
        if path:
            total += len(gzip.compress(Path(path).read_bytes()))
    return int(round(total / 10_000) * 10)


MAP_APPS = {"amap": _lazy("Amap"), "baidu": _lazy("Baidu Maps"), "tencent": _lazy("Tencent Maps")}


def directions(station: Station, *, origin: tuple[float, float], origin_name: str = "", region: str = "") -> dict:
    """The finder's "getting there" for one station, with each map app's name in the user's language."""
    d = navigation.station_directions(
        station,
        origin=origin,
        origin_name=origin_name,
        region=region,
        source=settings.XINYE_MAP_APP_SOURCE,
        tencent_key=settings.XINYE_TENCENT_MAP_KEY,
    )
    d["routes"] = [{"app": app, "label": MAP_APPS[app], "url": url} for app, url in d["routes"]]
    return d


# ---------------------------------------------------------------- the registry (operators, organizers)


def _manager_scope(request):
    scope = request_scope(request)
    if not registry.may_manage(scope):
        raise Http404
    return scope


def _editable(scope):
    return Station.objects.filter(registry.editable_q(scope)).select_related("division")


def _filtered(request, scope):
    qs = _editable(scope)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(operator_name__contains=q) | Q(division__name__contains=q))
    if request.GET.get("status"):
        qs = qs.filter(status=request.GET["status"])
    return qs.order_by("name", "pk"), q


@login_required
def station_index(request):
    """The stations the user may edit: search, add, import, export."""
    scope = _manager_scope(request)
    qs, q = _filtered(request, scope)
    page = paginate(request, qs)
    labels = dict(Amenity.choices)
    for s in page.object_list:
        s.amenity_labels = [labels.get(a, a) for a in s.amenities]
    return render(
        request,
        "stations/station_list.html",
        {
            "page": page,
            "q": q,
            "status": request.GET.get("status", ""),
            "statuses": StationStatus.choices,
            "count": qs.count(),
            "query": request.GET.urlencode(),
            "may_plan": registry.may_plan(scope),
        },
    )


def _station_form_page(request, station):
    scope = _manager_scope(request)
    form = StationForm(request.POST or None, instance=station, scope=scope)
    conflict = None
    if request.method == "POST" and form.is_valid():
        s = form.save(commit=False)
        if not registry.may_edit(scope, s):
            form.add_error(None, _("This station would be outside what you may edit (your own stations or area)."))
        else:
            s._change_reason = "edited" if s.pk else "created"
            try:
                save_versioned(s, expected_version=form.cleaned_data.get("version"))
            except Conflict as exc:  # someone saved it meanwhile: show their change, keep what was typed
                conflict = conflict_in_form(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("station_detail", pk=s.pk)
    return render(request, "stations/station_form.html", {"form": form, "station": station, "conflict": conflict})


@login_required
def station_new(request):
    return _station_form_page(request, Station())


@login_required
def station_edit(request, pk: int):
    scope = _manager_scope(request)
    return _station_form_page(request, get_or_404(_editable(scope).get, pk=pk))


@login_required
def station_detail(request, pk: int):
    scope = _manager_scope(request)
    s = get_or_404(_editable(scope).get, pk=pk)
    labels = dict(Amenity.choices)
    gcj = geo.from_wgs84(s.lat, s.lon, "gcj02")
    bd = geo.from_wgs84(s.lat, s.lon, "bd09")
    return render(
        request,
        "stations/station_detail.html",
        {
            "s": s,
            "amenity_labels": [labels.get(a, a) for a in s.amenities],
            "open_now": is_open(s.opening_hours, timezone.localtime()),
            "coords": [("WGS-84", s.lat, s.lon), ("GCJ-02", *gcj), ("BD-09", *bd)],
            "history": s.history.select_related("history_user").order_by("-history_date")[:30],
        },
    )


_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


@login_required
def station_export(request, fmt: str):
    """The stations the user may edit (with the list's filters) as CSV, .xlsx or GeoJSON."""
    scope = _manager_scope(request)
    qs, _q = _filtered(request, scope)
    crs = request.GET.get("crs", "wgs84")
    if crs not in geo.CRS_CHOICES:
        raise Http404
    if fmt == "csv":
        body = registry.export_csv(qs.iterator(), crs)
    elif fmt == "xlsx":
        body = registry.export_xlsx(qs.iterator(), crs)
    elif fmt == "geojson":
        body = registry.export_geojson(qs.iterator())
    else:
        raise Http404
    response = HttpResponse(body, content_type=_CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="stations.{fmt}"'
    return response


@login_required
def station_template(request):
    _manager_scope(request)
    response = HttpResponse(registry.export_xlsx([], example=True), content_type=_CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = 'attachment; filename="stations-template.xlsx"'
    return response


@login_required
def hours_preview(request):
    """The opening hours typed on the station form, read out in the page's language (the same reading the
    finder shows), or the form's error for a value that does not parse: JSON for hours-preview.js."""
    _manager_scope(request)
    from django.utils.translation import get_language

    from .hours import humanize
    from .services import opening_hours_check

    value = request.GET.get("value", "").strip()[:500]
    if not value:
        return JsonResponse({"ok": True, "text": ""})
    try:
        opening_hours_check(value)
    except XinyeError:
        error = _("“%(value)s” is not valid opening hours. Examples: 24/7 or Mo-Fr 08:00-20:00; PH off") % {
            "value": value
        }
        return JsonResponse({"ok": False, "error": error})
    return JsonResponse({"ok": True, "text": humanize(value, get_language() or "en")})


@login_required
def station_import(request):
    """Upload a CSV, .xlsx or GeoJSON file of stations: a dry run shows what would change; nothing is
    written unless every row is valid."""
    scope = _manager_scope(request)
    context = {"error": "", "result": None, "crs_choices": geo.CRS_CHOICES}
    if request.method == "POST":
        upload = request.FILES.get("file")
        dry_run = request.POST.get("dry_run") == "1"
        suffix = Path(upload.name).suffix.lower() if upload else ""
        if upload is None:
            context["error"] = _("Choose a file.")
        elif suffix not in (".csv", ".xlsx", ".geojson", ".json"):
            context["error"] = _("Use a .csv, .xlsx or .geojson file.")
        elif upload.size > 20 * 1024 * 1024:
            context["error"] = _("The file is larger than 20 MB.")
        else:
            with uploaded_path(upload) as path:
                try:
                    token = "" if dry_run else request.POST.get("seen", "")
                    context["result"] = registry.station_import(
                        path=path,
                        scope=scope,
                        user=request.user,
                        crs=request.POST.get("crs", "wgs84"),
                        dry_run=dry_run,
                        name=upload.name,
                        seen=registry.unsign_seen(token) if token else None,
                    )
                except InputError as exc:
                    # in the page's language: where each problem is, and what (xinye.common.input_errors)
                    shown = localized_errors(exc)
                    context["error"] = shown["summary"]
                    context["errors"] = shown["errors"]
                except XinyeError as exc:
                    context["error"] = str(exc)
        status = 400 if context["error"] else 200
        return render(request, "stations/station_import.html", context, status=status)
    return render(request, "stations/station_import.html", context)


# ---------------------------------------------------------------- coverage and placement (planners)


def _planner_division(request, scope):
    """The division asked for (`division`), which must be inside the user's area; with the divisions the
    user may choose from (their own and the districts under them)."""
    if not registry.may_plan(scope):
        raise Http404
    roots = (
        list(Division.objects.filter(level=Level.CITY).order_by("code"))
        if scope.is_admin
        else list(Division.objects.filter(code__in=scope.division_prefixes).order_by("code"))
    )
    choices = []
    for r in roots:
        choices.append(r)
        if r.level in (Level.PROVINCE, Level.CITY):
            choices += list(Division.objects.filter(parent=r, level=Level.COUNTY).order_by("code"))
    code = request.GET.get("division") or request.POST.get("division") or (roots[0].code if roots else "")
    if not (scope.is_admin or any(code.startswith(p) for p in scope.division_prefixes)):
        raise Http404
    division = get_or_404(Division.objects.get, code=code)
    return division, choices


def _coverage_params(request) -> dict:
    try:
        minutes = float(request.GET.get("minutes", 15))
    except ValueError:
        minutes = 15.0
    minutes = min(max(minutes, 1.0), 120.0) if math.isfinite(minutes) else 15.0
    mode = request.GET.get("mode", "ebike")
    at = request.GET.get("at", "any")
    amenity = request.GET.get("amenity", "")
    return {
        "minutes": minutes,
        "mode": mode if mode in coverage.SPEEDS_KMH else "ebike",
        "at": at if at in ("any", "now", "night") else "any",
        "amenity": amenity if amenity in Amenity.values else "",
    }


@login_required
def station_coverage(request):
    """Coverage of a division's workers by stations, with the uncovered cells on the map."""
    scope = request_scope(request)
    division, choices = _planner_division(request, scope)
    params = _coverage_params(request)
    report = coverage.coverage_report(division_code=division.code, **params)
    names = dict(
        Division.objects.filter(code__in=[r["key"] for r in report["by_district"]]).values_list("code", "name")
    )
    occupations = dict(Occupation.choices)
    amenities = dict(Amenity.choices)
    for r in report["by_district"]:
        r["label"] = names.get(r["key"], r["key"])
    for r in report["by_occupation"]:
        r["label"] = occupations.get(r["key"], r["key"])
    for r in report["by_amenity"]:
        r["label"] = amenities.get(r["key"], r["key"])
    if request.GET.get("format") == "geojson":
        response = HttpResponse(
            json.dumps(coverage.uncovered_geojson(report), ensure_ascii=False), content_type="application/geo+json"
        )
        response["Content-Disposition"] = f'attachment; filename="uncovered-{division.code}.geojson"'
        return response
    top = report["uncovered_cells"][:2000]
    uncovered_points = []
    for cell, n in top:
        lat, lon = geo.h3_center(cell)
        uncovered_points.append({"value": [round(lon, 5), round(lat, 5), n], "name": str(n)})
    city = division.code[:4]
    # districts shaded by the share of their workers within reach (only where they have workers)
    legend = choropleth(
        {r["label"]: r["share"] for r in report["by_district"] if r["workers"]},
        unit=_("Share of workers within reach of a station"),
        percent=True,
    )
    return render(
        request,
        "stations/coverage.html",
        {
            "division": division,
            "choices": choices,
            "p": params,
            "r": report,
            "amenities": Amenity.choices,
            "query": request.GET.urlencode(),
            "map": {
                "geo": boundaries_geojson(code_prefix=city),
                "stations": [
                    {"value": [round(lon, 5), round(lat, 5)], "name": n} for lat, lon, n in report["station_points"]
                ],
                "uncovered": uncovered_points,
                "shade": legend,
            },
            "legend": legend,
        },
    )


def _runs_in_scope(scope):
    runs = PlacementRun.objects.select_related("division", "created_by")
    if scope.is_admin:
        return runs
    q = Q(pk__in=[])
    for p in scope.division_prefixes:
        q |= Q(division__code__startswith=p)
    return runs.filter(q)


@login_required
def station_placement(request):
    """Choose k sites for new stations that reach the most workers no station reaches yet (a job)."""
    scope = request_scope(request)
    division, choices = _planner_division(request, scope)
    error, errors = "", []
    if request.method == "POST":
        try:
            k = int(request.POST.get("k", 10))
            minutes = float(request.POST.get("minutes", 15))
            if not (1 <= k <= 5000 and 1 <= minutes <= 120):
                raise ValueError
        except ValueError:
            k, minutes = 10, 15.0
            error = _("Choose between 1 and 5000 new stations and between 1 and 120 minutes.")
        mode = request.POST.get("mode") if request.POST.get("mode") in coverage.SPEEDS_KMH else "ebike"
        source = request.POST.get("source", PlacementRun.Source.COMMUNITIES)
        cands: list[dict] = []
        if not error and source == PlacementRun.Source.UPLOAD:
            upload = request.FILES.get("file")
            if upload is None or Path(upload.name).suffix.lower() != ".csv":
                error = _("Choose a .csv file of candidate sites (id, lat, lon, name).")
            elif upload.size > 20 * 1024 * 1024:
                error = _("The file is larger than 20 MB.")
            else:
                with uploaded_path(upload) as path:
                    try:
                        cands = planning.uploaded_candidates(path, crs=request.POST.get("crs", "wgs84"))
                    except InputError as exc:
                        # where each problem is and what, in the page's language (xinye.common.input_errors)
                        shown = localized_errors(exc, {str(path): upload.name})
                        error, errors = shown["summary"], shown["errors"]
                    except XinyeError as exc:
                        error = str(exc).replace(str(path), upload.name)
        elif source != PlacementRun.Source.UPLOAD:
            source = PlacementRun.Source.COMMUNITIES
        if not error:
            run = PlacementRun.objects.create(
                division=division,
                k=k,
                minutes=minutes,
                mode=mode,
                radius_m=coverage.radius_m(minutes, mode),
                source=source,
                candidates=cands,
                created_by=request.user,
            )
            j = job_submit(kind="station_placement", params={"run_id": run.pk}, user=request.user)
            return redirect("job_detail", pk=j.pk)
    return render(
        request,
        "stations/placement_form.html",
        {
            "division": division,
            "choices": choices,
            "error": error,
            "errors": errors,
            "runs": _runs_in_scope(scope)[:20],
            "sources": PlacementRun.Source.choices,
        },
        status=400 if error else 200,
    )


def _placement_csv(run) -> HttpResponse:
    buf = io.StringIO()
    w = csv_writer(buf, lineterminator="\n")
    w.writerow(["id", "name", "lat", "lon", "rank", "gain", "covered"])
    for p in run.result["picks"]:
        w.writerow([p["id"], p["name"], round(p["lat"], 7), round(p["lon"], 7), p["rank"], p["gain"], p["covered"]])
    response = HttpResponse(("\ufeff" + buf.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="placement-{run.pk}.csv"'
    return response


def _finished_run(request, pk: int):
    """A finished placement run the user may see (organizers of its area, administrators), else 404."""
    scope = request_scope(request)
    if not (scope.is_admin or scope.division_prefixes):
        raise Http404
    run = get_or_404(_runs_in_scope(scope).get, pk=pk)
    if run.result is None:
        raise Http404
    return run


@login_required
def station_placement_export(request, pk: int):
    """The sites a placement run chose, as CSV."""
    return _placement_csv(_finished_run(request, pk))


@login_required
def station_placement_detail(request, pk: int):
    run = _finished_run(request, pk)
    picks = run.result["picks"]
    if request.GET.get("format") == "csv":  # the older address of station_placement_export
        return _placement_csv(run)
    s = run.result["summary"]
    total = s["total_weight"] or 1
    for p in picks:
        p["share"] = p["covered"] / total
    city = run.division.code[:4]
    shortfall = planning.placement_shortfall(run)
    return render(
        request,
        "stations/placement.html",
        {
            "run": run,
            "s": s,
            "picks": picks,
            "shortfall": shortfall,
            "map": {
                "geo": boundaries_geojson(code_prefix=city),
                "stations": [{"value": [lon, lat]} for lat, lon in run.result["stations"]],
                "picks": [
                    {
                        "value": [round(p["lon"], 5), round(p["lat"], 5)],
                        "name": f"{p['rank']}. {p['name']}",
                        "rank": int(p["rank"]),
                    }
                    for p in picks
                ],
            },
        },
    )
