"""Where to build the next stations: candidates, the placement (algorithms.placement) on a division's
workers, and the stored run that planners review."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.utils.translation import gettext as _

from xinye.algorithms import placement
from xinye.algorithms.errors import InputError, RowError
from xinye.algorithms.tabular import read_csv_rows
from xinye.places.models import Division, Level

from .coverage import _stations_near, worker_cells
from .models import PlacementRun, Station, StationKind

MAX_UPLOADED_CANDIDATES = 50_000


def community_candidates(division_code: str) -> list[dict]:
    """Located communities of the division whose community has no community-centre station yet."""
    with_centre = set(
        Station.objects.filter(kind=StationKind.COMMUNITY_CENTRE, division__code__startswith=division_code)
        .values_list("division_id", flat=True)
        .distinct()
    )
    return [
        {"id": d.code, "name": d.name, "lat": d.lat, "lon": d.lon}
        for d in Division.objects.filter(
            level=Level.COMMUNITY, code__startswith=division_code, lat__isnull=False
        ).order_by("code")
        if d.pk not in with_centre
    ]


def uploaded_candidates(path: Path, *, crs: str = "wgs84", name: str = "") -> list[dict]:
    """Candidate sites from a CSV (id, lat, lon[, name]); InputError names file, row, column and value."""
    sites = placement.load_sites_csv(path, crs=crs)
    if len(sites.ids) > MAX_UPLOADED_CANDIDATES:
        raise InputError(
            [
                RowError(
                    name or str(path), None, None, len(sites.ids), f"at most {MAX_UPLOADED_CANDIDATES} candidate sites"
                )
            ]
        )
    names = {r.get("id", ""): r.get("name", "") for _, r in read_csv_rows(path)}
    return [
        {"id": i, "name": names.get(i, "") or i, "lat": float(la), "lon": float(lo)}
        for i, la, lo in zip(sites.ids, sites.lat, sites.lon, strict=True)
    ]


def placement_compute(run: PlacementRun, progress=placement._noop) -> PlacementRun:
    """Run the placement for `run` and store the outcome on it."""
    cells = worker_cells(run.division.code)
    stations = _stations_near(cells, run.radius_m)
    cands = run.candidates if run.source == PlacementRun.Source.UPLOAD else community_candidates(run.division.code)
    result = placement.place(
        cells.lat,
        cells.lon,
        cells.workers.astype(float),
        np.array([s.lat for s in stations]),
        np.array([s.lon for s in stations]),
        np.array([c["lat"] for c in cands]),
        np.array([c["lon"] for c in cands]),
        k=run.k,
        radius_m=run.radius_m,
        progress=progress,
    )
    picks = []
    cumulative = result.covered_before
    for p in result.picks:
        c = cands[p.candidate]
        cumulative += p.gain
        picks.append({**c, "rank": p.rank, "gain": p.gain, "covered": cumulative})
    run.result = {
        "picks": picks,
        "summary": result.summary(),
        "candidates": len(cands),
        "stations": [[round(s.lat, 5), round(s.lon, 5)] for s in stations],
    }
    run.save(update_fields=["result", "updated_at"])
    return run


def placement_shortfall(run: PlacementRun) -> str:
    """Why a finished run picked fewer sites than were asked for, in the user's language; "" when it did not
    (issue 16: "10 new stations" with 2 listed and no word why). Runs stored before the summary carried a
    stop_reason are judged from the number of picks and candidates."""
    summary = run.result["summary"]
    picked = len(run.result["picks"])
    if picked >= run.k:
        return ""
    reason = summary.get("stop_reason")
    if reason is None:
        reason = "few_candidates" if picked >= run.result.get("candidates", 0) else "no_more_gain"
    values = {"picked": picked, "k": run.k, "radius": round(run.radius_m)}
    if reason == "few_candidates":
        return (
            _("%(picked)s of the %(k)s requested: there are only %(picked)s candidate sites, and every one is listed.")
            % values
        )
    return (
        _(
            "%(picked)s of the %(k)s requested: each further site would reach no additional worker within "
            "%(radius)s m, so none is proposed."
        )
        % values
    )
