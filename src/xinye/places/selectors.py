"""Reads of divisions. Division codes and names are public reference data: every signed-in user may
browse them; counts shown next to them come from the other apps' scoped selectors."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from xinye.accounts.scope import Scope

from .models import Division, Level


def division_q(scope: Scope, field: str) -> Q:
    """A Q object limiting `field` (a path to a Division) to the organizer's division subtrees."""
    q = Q(pk__in=[])
    for prefix in scope.division_prefixes:
        q |= Q(**{f"{field}__code__startswith": prefix})
    return q


def division_list(*, parent: Division | None = None, search: str = "") -> QuerySet[Division]:
    qs = Division.objects.all()
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(code__startswith=search))
    elif parent is not None:
        qs = qs.filter(parent=parent)
    else:
        qs = qs.filter(parent__isnull=True)
    return qs.order_by("code")


def division_get(*, code: str) -> Division:
    return Division.objects.select_related("parent").get(code=code)


def division_roots_for(scope: Scope) -> QuerySet[Division]:
    """Where the division browser starts: the organizer's own divisions, or the top level."""
    if scope.division_prefixes and not scope.is_admin:
        return Division.objects.filter(code__in=scope.division_prefixes)
    return Division.objects.filter(parent__isnull=True)


def division_ancestors(division: Division) -> list[Division]:
    chain = []
    d = division.parent
    while d is not None:
        chain.append(d)
        d = d.parent
    return list(reversed(chain))


def county_boundaries(*, code_prefix: str) -> list[Division]:
    return list(Division.objects.filter(level=Level.COUNTY, code__startswith=code_prefix, boundary__isnull=False))


def boundaries_geojson(*, code_prefix: str) -> dict:
    """The district boundaries under `code_prefix` as a GeoJSON FeatureCollection (name and code per
    feature): the base layer of every map page."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": c.name, "code": c.code}, "geometry": c.boundary}
            for c in county_boundaries(code_prefix=code_prefix)
        ],
    }
