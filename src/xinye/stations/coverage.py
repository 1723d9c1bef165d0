"""Coverage of workers by service stations: the share of workers (counted by their work cell, an H3
resolution-8 cell, never a GPS track) within the service radius of a station in service.

The radius is a time at a speed (default 15 minutes by e-bike, or on foot), as a straight-line distance.
Figures: overall, by district, by occupation, by amenity (stations that have it), at night (stations open
at 02:00 on an ordinary weekday), and double coverage (two or more stations within reach, the
"cross-coverage" target). The uncovered cells come out as GeoJSON with the number of workers in each.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import h3
import numpy as np
from django.db.models import Count
from django.utils import timezone

from xinye.algorithms import geo
from xinye.algorithms.placement import coverage_counts
from xinye.people.models import Person

from .models import Amenity, Station, StationStatus
from .selectors import EBIKE_KMH, WALK_KMH
from .services import is_open

SPEEDS_KMH = {"ebike": EBIKE_KMH, "walk": WALK_KMH}
NIGHT = dt.time(2, 0)


def radius_m(minutes: float, mode: str) -> float:
    """How far one gets in `minutes` by `mode` ("ebike" or "walk"), in metres (straight line)."""
    return SPEEDS_KMH[mode] * 1000 * minutes / 60


def night_moment(today: dt.date | None = None) -> dt.datetime:
    """02:00 on the next Wednesday: a night of an ordinary working week."""
    today = today or timezone.localdate()
    days = (2 - today.weekday()) % 7 or 7
    return dt.datetime.combine(today + dt.timedelta(days=days), NIGHT)


@dataclass
class Cells:
    """Workers aggregated by work cell: one row per (cell, occupation, district)."""

    cell: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    occupation: list[str]
    district: list[str]
    workers: np.ndarray


def worker_cells(division_code: str) -> Cells:
    rows = list(
        Person.objects.filter(work_cell__isnull=False, work_community__code__startswith=division_code)
        .values_list("work_cell", "occupation", "work_community__code")
        .annotate(n=Count("id"))
        .order_by()
    )
    merged: dict[tuple, int] = defaultdict(int)
    for cell, occ, community, n in rows:
        merged[(cell, occ, community[:6])] += n
    keys = sorted(merged)
    centres = [geo.h3_center(k[0]) for k in keys]
    return Cells(
        cell=np.array([k[0] for k in keys], dtype=np.int64),
        lat=np.array([c[0] for c in centres], dtype=float),
        lon=np.array([c[1] for c in centres], dtype=float),
        occupation=[k[1] for k in keys],
        district=[k[2] for k in keys],
        workers=np.array([merged[k] for k in keys], dtype=np.int64),
    )


def _stations_near(cells: Cells, radius: float) -> list[Station]:
    if not len(cells.lat):
        return []
    pad_lat = radius / 111_000 + 0.01
    pad_lon = pad_lat / max(np.cos(np.radians(cells.lat.max())), 0.1)
    return list(
        Station.objects.filter(
            status=StationStatus.OPEN,
            lat__gte=cells.lat.min() - pad_lat,
            lat__lte=cells.lat.max() + pad_lat,
            lon__gte=cells.lon.min() - pad_lon,
            lon__lte=cells.lon.max() + pad_lon,
        ).only("id", "name", "lat", "lon", "amenities", "opening_hours")
    )


def _counts(cells: Cells, stations: list[Station], radius: float) -> np.ndarray:
    if not stations or not len(cells.lat):
        return np.zeros(len(cells.lat), dtype=np.int64)
    return np.asarray(
        coverage_counts(cells.lat, cells.lon, [s.lat for s in stations], [s.lon for s in stations], radius)
    )


def _share(covered: int, total: int) -> float:
    return covered / total if total else 0.0


def coverage_report(
    *,
    division_code: str,
    minutes: float = 15,
    mode: str = "ebike",
    amenity: str = "",
    at: str = "any",
    now: dt.datetime | None = None,
) -> dict:
    """Coverage of the workers of a division. `at`: "any" (every station in service), "now" (open now)
    or "night" (open at 02:00 on an ordinary weekday); `amenity`: only stations that have it."""
    radius = radius_m(minutes, mode)
    cells = worker_cells(division_code)
    everything = _stations_near(cells, radius)
    moment = {"now": now or timezone.localtime(), "night": night_moment()}.get(at)
    chosen = [
        s
        for s in everything
        if (not amenity or amenity in s.amenities) and (moment is None or is_open(s.opening_hours, moment))
    ]
    counts = _counts(cells, chosen, radius)
    w = cells.workers
    total = int(w.sum())
    covered_mask = counts >= 1
    covered = int(w[covered_mask].sum())
    double = int(w[counts >= 2].sum())

    def breakdown(keys: list[str]) -> list[dict]:
        tot: dict[str, int] = defaultdict(int)
        cov: dict[str, int] = defaultdict(int)
        for k, n, c in zip(keys, w.tolist(), covered_mask.tolist(), strict=True):
            tot[k] += n
            cov[k] += n if c else 0
        return [{"key": k, "workers": tot[k], "covered": cov[k], "share": _share(cov[k], tot[k])} for k in sorted(tot)]

    night_moment_ = night_moment()
    night_st = [
        s for s in everything if (not amenity or amenity in s.amenities) and is_open(s.opening_hours, night_moment_)
    ]
    night_cov = int(w[_counts(cells, night_st, radius) >= 1].sum())
    by_amenity = []
    for code, _label in Amenity.choices:
        with_it = [s for s in chosen if code in s.amenities]
        c = int(w[_counts(cells, with_it, radius) >= 1].sum())
        by_amenity.append({"key": code, "stations": len(with_it), "covered": c, "share": _share(c, total)})
    uncovered: dict[int, int] = defaultdict(int)
    for cell, n, c in zip(cells.cell.tolist(), w.tolist(), covered_mask.tolist(), strict=True):
        if not c:
            uncovered[cell] += n
    return {
        "division": division_code,
        "minutes": minutes,
        "mode": mode,
        "radius_m": radius,
        "amenity": amenity,
        "at": at,
        "stations": len(chosen),
        "workers": total,
        "covered": covered,
        "share": _share(covered, total),
        "double": double,
        "double_share": _share(double, total),
        "night_covered": night_cov,
        "night_share": _share(night_cov, total),
        "night_stations": len(night_st),
        "by_district": breakdown(cells.district),
        "by_occupation": breakdown(cells.occupation),
        "by_amenity": by_amenity,
        "uncovered_cells": sorted(uncovered.items(), key=lambda kv: (-kv[1], kv[0])),
        "station_points": [(s.lat, s.lon, s.name) for s in chosen],
    }


def cells_covered(
    cells: list[int], *, radius_m: float, as_of: dt.date | None = None, amenity: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """For each work cell (an H3 cell; its centre stands for the workers in it, as in `coverage_report`): is it
    within `radius_m` metres (great-circle) of a station in service, and of one open at night (02:00 on an
    ordinary weekday, `night_moment`; with `as_of`, the first such night after that day)? The stations are
    those in service now (with `amenity`: only those that have it). The indicators (reports.indicators) count
    workers with these two masks."""
    if not cells:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    centres = [geo.h3_center(c) for c in cells]
    grid = Cells(
        cell=np.asarray(cells, dtype=np.int64),
        lat=np.array([c[0] for c in centres], dtype=float),
        lon=np.array([c[1] for c in centres], dtype=float),
        occupation=[],
        district=[],
        workers=np.ones(len(cells), dtype=np.int64),
    )
    stations = [s for s in _stations_near(grid, radius_m) if not amenity or amenity in s.amenities]
    night = night_moment(as_of)
    at_night = [s for s in stations if is_open(s.opening_hours, night)]
    return _counts(grid, stations, radius_m) >= 1, _counts(grid, at_night, radius_m) >= 1


def uncovered_geojson(report: dict) -> dict:
    """The uncovered work cells as an RFC 7946 FeatureCollection of hexagons, with workers per cell."""
    features = []
    for cell, n in report["uncovered_cells"]:
        ring = [[round(lon, 6), round(lat, 6)] for lat, lon in h3.cell_to_boundary(h3.int_to_str(cell))]
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "id": h3.int_to_str(cell),
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"h3": h3.int_to_str(cell), "workers": n},
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {k: report[k] for k in ("division", "minutes", "mode", "radius_m", "amenity", "at")},
    }
