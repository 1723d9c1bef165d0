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


# ---------------------------------------------------------------- the finder (public)

EBIKE_KMH = 15.0
WALK_KMH = 4.5
_INDEX: dict = {}
#: the finder index's version, shared by every process through the cache: a new random token whenever a
#: station is saved or deleted (after the commit), so that each process rebuilds its index (issue 11)
VERSION_KEY = "xinye:stations:finder-version"
#: how often (seconds) a process asks the cache whether the stations changed: a change made in another process
#: reaches the finder within this time; one made in this process, at once
CHECK_EVERY = 2.0


def stations_changed(**_signal) -> None:
    """Stations were saved or deleted: this process rebuilds its index at the next request, and every other
    process once the change is committed (through the shared version)."""
    import uuid

    from django.core.cache import cache
    from django.db import transaction

    _INDEX.clear()
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, None))


def _shared_version() -> str:
    import uuid

    from django.core.cache import cache

    version = cache.get(VERSION_KEY)
    if version is None:  # the cache was emptied: start a version (the index is rebuilt once everywhere)
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def _open_stations():
    """(stations, index) of stations in service. Rebuilt when the shared version changes, which this process asks
    the cache at most every CHECK_EVERY seconds: no query at all on most requests."""
    import time

    from xinye.algorithms.geo import NearestIndex

    from .models import StationStatus

    now = time.monotonic()
    if _INDEX and now - _INDEX["checked"] < CHECK_EVERY:
        return _INDEX["rows"], _INDEX["index"]
    version = _shared_version()
    if _INDEX.get("key") != version:
        qs = Station.objects.filter(status=StationStatus.OPEN)
        rows = list(qs.select_related("division__parent__parent").order_by("pk"))
        _INDEX.update(key=version, rows=rows, index=NearestIndex([s.lat for s in rows], [s.lon for s in rows]))
    _INDEX["checked"] = now
    return _INDEX["rows"], _INDEX["index"]


def station_nearest(
    *, lat: float, lon: float, amenities: list[str] | None = None, open_now: bool = False, limit: int = 5, at=None
) -> list[dict]:
    """The nearest stations in service that have every amenity asked for (and are open at `at`, local time,
    when `open_now`), with distance and minutes by e-bike and on foot (straight-line distance)."""
    from django.utils import timezone

    from .services import is_open

    at = at or timezone.localtime()
    rows, index = _open_stations()
    wanted = set(amenities or [])
    out: list[dict] = []
    k = max(limit * 4, 20)
    seen = 0
    while len(out) < limit and seen < index.size:
        idx, metres = index.query(lat, lon, k=k)
        for i, d in zip(idx[seen:], metres[seen:], strict=True):
            s = rows[int(i)]
            if wanted and not wanted <= set(s.amenities):
                continue
            now_open = is_open(s.opening_hours, at)
            if open_now and not now_open:
                continue
            out.append(
                {
                    "station": s,
                    "distance_m": float(d),
                    "open_now": now_open,
                    "minutes_ebike": float(d) / 1000 / EBIKE_KMH * 60,
                    "minutes_walk": float(d) / 1000 / WALK_KMH * 60,
                }
            )
            if len(out) == limit:
                break
        seen = len(idx)
        k *= 4
    return out
