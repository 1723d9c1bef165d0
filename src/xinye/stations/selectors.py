"""Reads of service stations. Stations are public places (the finder needs no login), but management
lists are scoped: organizers see their divisions, operators their own stations."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from xinye.accounts.scope import Scope
from xinye.places.selectors import division_q

from .models import Station


def station_q(scope: Scope) -> Q:
    if scope.is_admin:
        return Q()
    q = division_q(scope, "division")
    if scope.operator_names:
        q |= Q(operator_name__in=scope.operator_names)
    if scope.staff_company_ids:
        q |= Q(operator_company_id__in=scope.staff_company_ids)
    return q


def station_list(*, scope: Scope, search: str = "") -> QuerySet[Station]:
    qs = Station.objects.filter(station_q(scope))
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(operator_name__contains=search))
    return qs.select_related("division").order_by("name")


def station_counts(*, scope: Scope) -> dict[str, int]:
    qs = Station.objects.filter(station_q(scope))
    return {"stations": qs.count(), "open_24h": qs.filter(opening_hours="24/7").count()}
