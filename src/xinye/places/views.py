from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.utils.translation import gettext as _

from xinye.accounts.scope import request_scope
from xinye.common.views import get_or_404, paginate
from xinye.people.models import Person
from xinye.people.selectors import person_q

from . import selectors
from .maps import choropleth
from .models import Division, Level


@login_required
def division_index(request):
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()[:100]
    level = request.GET.get("level", "")
    level = level if level in Level.values else ""
    if q or level:
        divisions = selectors.division_list(search=q) if q else Division.objects.order_by("code")
        if level:
            divisions = divisions.filter(level=level)
    else:
        divisions = selectors.division_roots_for(scope)
    page = paginate(request, divisions)
    return render(
        request,
        "places/division_list.html",
        {"divisions": page, "page": page, "q": q, "level": level, "levels": Level.choices, "division": None},
    )


@login_required
def division_detail(request, code: str):
    scope = request_scope(request)
    division = get_or_404(selectors.division_get, code=code)
    children = list(selectors.division_list(parent=division))
    # workers per child, within the actor's scope
    counts = {}
    if children:
        length = len(children[0].code)
        from django.db.models.functions import Substr

        rows = (
            Person.objects.filter(person_q(scope), work_community__code__startswith=division.code)
            .annotate(prefix=Substr("work_community__code", 1, length))
            .values("prefix")
            .annotate(n=Count("id"))
        )
        counts = {r["prefix"]: r["n"] for r in rows}
    for c in children:
        c.worker_count = counts.get(c.code, 0)
    map_data = None
    if division.level in (Level.CITY, Level.COUNTY, Level.PROVINCE):
        map_data = selectors.boundaries_geojson(code_prefix=division.code)
        if not map_data["features"]:
            map_data = None
    legend = None
    if map_data:  # districts shaded by their workers, where the subdivisions are the districts drawn
        by_code = {c.code: c.worker_count for c in children}
        shown = {f["properties"]["name"]: by_code[f["properties"]["code"]] for f in map_data["features"]
                 if f["properties"]["code"] in by_code}  # fmt: skip
        if len(shown) > 1:
            legend = choropleth(shown, unit=_("Workers (in your scope)"))
    points = []
    if division.level in (Level.CITY, Level.COUNTY, Level.STREET):
        from .models import Division

        points = [
            {"value": [d.lon, d.lat], "name": d.name}
            for d in Division.objects.filter(
                level=Level.COMMUNITY, code__startswith=division.code, lat__isnull=False
            ).only("lon", "lat", "name")
        ]
    return render(
        request,
        "places/division_detail.html",
        {
            "division": division,
            "children": children,
            "ancestors": selectors.division_ancestors(division),
            "map_data": {"geo": map_data, "points": points, "shade": legend} if map_data else None,
            "legend": legend,
            "total_workers": sum(counts.values()),
        },
    )
