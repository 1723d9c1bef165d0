"""The overview page of volunteering for those who oversee an area (issue 14, item 7)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from xinye.accounts.navigation import oversees
from xinye.accounts.scope import request_scope
from xinye.places.selectors import boundaries_geojson

from .overview import overview


@login_required
def volunteering_overview(request):
    scope = request_scope(request)
    if not oversees(scope):
        raise PermissionDenied
    data = overview(scope=scope)
    prefix = scope.division_prefixes[0][:4] if scope.division_prefixes else ""
    if not prefix:  # an administrator: the city of the first activity's place
        first = data["map"]["activities"] or data["map"]["posts"]
        prefix = _city_of(first[0]["value"]) if first else ""
    map_data = {**data.pop("map"), "geo": boundaries_geojson(code_prefix=prefix) if prefix else None}
    return render(request, "volunteering/overview.html", {**data, "map": map_data})


def _city_of(lon_lat) -> str:
    """The 4-digit city code of the station nearest a point (the map shows that city's outlines)."""
    from xinye.stations.models import Station

    lon, lat = lon_lat
    station = (
        Station.objects.filter(
            division__isnull=False, lat__range=(lat - 0.2, lat + 0.2), lon__range=(lon - 0.2, lon + 0.2)
        )
        .select_related("division")
        .first()
    )
    return station.division.code[:4] if station else ""
