"""The station registry: who may edit which station, entry in any of China's coordinate systems, and
import/export as CSV, .xlsx and GeoJSON (template, dry run, errors naming file, row, column and value).

An import is all rows or nothing. A row with an `id` updates that station (it must be one the importer
may edit); a row without one creates a station. Coordinates are converted to WGS-84 on the way in (the
file's `crs` column or the form's choice: wgs84, gcj02 or bd09); GeoJSON is WGS-84 by definition (RFC 7946).

No lost updates (issue 10, item 7): a changed station is saved only if it is still at the version the import
started from - the file's `version` column (written by the export), else the version the dry run saw (the
dry run returns them, signed, and the import form sends them back), else the version read now - and the
write is a conditional UPDATE (common.concurrency), so a change made in between is never overwritten: the
row gets an error naming file, row, column and value, and nothing is imported.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core import signing
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from xinye.accounts.scope import Scope
from xinye.algorithms import geo
from xinye.algorithms.errors import InputError, RowError
from xinye.algorithms.tabular import csv_dict_writer, new_workbook, read_csv_rows, read_json, read_xlsx_rows
from xinye.common.concurrency import Conflict, changes_since, save_versioned
from xinye.common.labels import choice_label, choice_labels
from xinye.places.models import Division, Level

from .models import Amenity, Station, StationKind, StationStatus
from .selectors import station_q
from .services import opening_hours_check

COLUMNS = [
    "id",
    "name",
    "kind",
    "operator",
    "lat",
    "lon",
    "crs",
    "community",
    "amenities",
    "opening_hours",
    "capacity",
    "contact_phone",
    "address",
    "status",
    "verified_on",
    "version",
]
REQUIRED = ["name", "kind", "operator", "lat", "lon"]
#: an export's columns: the codes (what an import reads back) and, after them, their labels in the language
#: of the page that asked (for a reader; an import ignores them)
LABEL_COLUMNS = ["kind_label", "status_label", "amenities_label"]
EXPORT_COLUMNS = COLUMNS + LABEL_COLUMNS
#: a station is put in the nearest located community within this distance when the file names none
COMMUNITY_SEARCH_M = 5_000
CUSTOM_AMENITY_MAX = 40
STATION_CELL_RESOLUTION = 9
#: coordinates closer than this (degrees, about 1 cm) to the stored ones are the same place
COORD_TOLERANCE = 1e-7
_SPLIT = re.compile(r"[;；、,，|]")


# ---------------------------------------------------------------- who may edit


def may_manage(scope: Scope) -> bool:
    """Whether the user has a role that manages stations at all (the registry pages are theirs)."""
    return bool(scope.is_admin or scope.division_prefixes or scope.operator_names or scope.staff_company_ids)


def may_plan(scope: Scope) -> bool:
    """Whether the user plans for an area (coverage, where to build): administrators and organizers."""
    return bool(scope.is_admin or scope.division_prefixes)


#: the stations a user may edit are exactly those they manage (selectors.station_q): administrators all;
#: organizers those in their divisions; operators their own (by operator name); a platform's organization
#: staff their company's
editable_q = station_q


def may_edit(scope: Scope, station: Station) -> bool:
    """Whether `station` (saved or not) is within what the user may edit."""
    if scope.is_admin:
        return True
    if station.operator_name and station.operator_name in scope.operator_names:
        return True
    if station.operator_company_id and station.operator_company_id in scope.staff_company_ids:
        return True
    code = station.division.code if station.division_id else ""
    return bool(code) and any(code.startswith(p) for p in scope.division_prefixes)


# ---------------------------------------------------------------- values


def _labels(choices) -> dict[str, str]:
    """{code, English label, Chinese label (all lower-cased): code} for a TextChoices class."""
    out = {}
    for code, label in choices.choices:
        out[code.lower()] = code
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                out[str(label).lower()] = code
    return out


def parse_amenities(text: str) -> tuple[list[str], list[str]]:
    """(amenities, problems): standard ones by code or label (English or Chinese), others kept as custom."""
    labels = _labels(Amenity)
    out: list[str] = []
    problems: list[str] = []
    for raw in _SPLIT.split(text or ""):
        item = raw.strip()
        if not item:
            continue
        code = labels.get(item.lower(), item)
        if len(code) > CUSTOM_AMENITY_MAX:
            problems.append(f"amenity {item!r} is longer than {CUSTOM_AMENITY_MAX} characters")
        elif code not in out:
            out.append(code)
    return out, problems


def amenity_text(amenities: list[str]) -> str:
    return ";".join(amenities)


def locate_community(lat: float, lon: float) -> Division | None:
    """The nearest located community within COMMUNITY_SEARCH_M of a WGS-84 point, or None."""
    return _CommunityLocator([(lat, lon)]).find(lat, lon)


class _CommunityLocator:
    """Nearest located community for many points (one k-d tree over the communities around them)."""

    def __init__(self, points: list[tuple[float, float]]):
        self.rows: list[Division] = []
        self.index = None
        if not points:
            return
        pad = 0.1
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        self.rows = list(
            Division.objects.filter(
                level=Level.COMMUNITY,
                lat__gte=min(lats) - pad,
                lat__lte=max(lats) + pad,
                lon__gte=min(lons) - pad,
                lon__lte=max(lons) + pad,
            ).only("code", "name", "lat", "lon", "parent_id")
        )
        self.index = geo.NearestIndex([d.lat for d in self.rows], [d.lon for d in self.rows])

    def find(self, lat: float, lon: float) -> Division | None:
        if not self.rows:
            return None
        idx, metres = self.index.query(lat, lon, k=1)
        return self.rows[int(idx[0])] if metres[0] <= COMMUNITY_SEARCH_M else None


# ---------------------------------------------------------------- reading files


def read_station_records(path: Path) -> list[tuple[object, dict]]:
    """(where, {column: text}) for each record of a CSV, .xlsx (first sheet) or GeoJSON file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_rows(path, REQUIRED)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_rows(path, None, REQUIRED)
    if suffix in (".geojson", ".json"):
        return _geojson_records(path)
    raise InputError([RowError(str(path), None, None, suffix, "use a .csv, .xlsx or .geojson file")])


def _geojson_records(path: Path) -> list[tuple[object, dict]]:
    data = read_json(path)
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise InputError(
            [
                RowError(
                    str(path),
                    None,
                    "type",
                    data.get("type") if isinstance(data, dict) else None,
                    "expected a GeoJSON FeatureCollection",
                )
            ]
        )
    out = []
    for i, feature in enumerate(data["features"]):
        where = f"features[{i}]"
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise InputError([RowError(str(path), where, "geometry", None, "each feature must be a Point")])
        coords = geom.get("coordinates")
        if not (isinstance(coords, list) and len(coords) >= 2):
            raise InputError([RowError(str(path), where, "coordinates", coords, "expected [longitude, latitude]")])
        if props is not None and not isinstance(props, dict):
            raise InputError([RowError(str(path), where, "properties", None, "properties must be an object")])
        rec = {
            str(k).lower(): (
                "" if v is None else (amenity_text([str(a) for a in v]) if isinstance(v, list) else str(v))
            )
            for k, v in (props or {}).items()
        }
        if feature.get("id") is not None and not rec.get("id"):
            rec["id"] = str(feature["id"])
        rec["lon"], rec["lat"], rec["crs"] = str(coords[0]), str(coords[1]), "wgs84"
        out.append((where + (f" ({rec.get('name')})" if rec.get("name") else ""), rec))
    return out


# ---------------------------------------------------------------- import


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    rows: list[dict] = field(default_factory=list)  # first rows, for the preview
    #: {station id: version} of the stations the file changes, as read (the dry run hands them on)
    seen: dict[int, int] = field(default_factory=dict)

    @property
    def seen_token(self) -> str:
        return sign_seen(self.seen)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


EDITABLE_FIELDS = [
    "name",
    "kind",
    "operator_name",
    "lat",
    "lon",
    "h3_cell",
    "division_id",
    "amenities",
    "opening_hours",
    "capacity",
    "contact_phone",
    "address",
    "status",
    "verified_on",
]


#: on a change (a row with an id), a column the file does not have keeps the station's value
KEPT_WHEN_ABSENT = {
    "community": "division",
    "amenities": "amenities",
    "opening_hours": "opening_hours",
    "capacity": "capacity",
    "contact_phone": "contact_phone",
    "address": "address",
    "status": "status",
    "verified_on": "verified_on",
}
_SEEN_SALT = "xinye.stations.import.seen"
#: a dry run's record of versions is good for this long (seconds)
SEEN_MAX_AGE = 24 * 3600


def sign_seen(seen: dict[int, int]) -> str:
    return signing.dumps({str(k): v for k, v in seen.items()}, salt=_SEEN_SALT, compress=True)


def unsign_seen(token: str) -> dict[int, int]:
    """The versions a dry run saw; InputError if the token was altered or is too old."""
    try:
        data = signing.loads(token, salt=_SEEN_SALT, max_age=SEEN_MAX_AGE)
        return {int(k): int(v) for k, v in data.items()}
    except (signing.BadSignature, ValueError, TypeError, AttributeError) as exc:
        raise InputError(
            [
                RowError(
                    "form", None, "seen", None, "the dry run's record is not valid or too old: run the dry run again"
                )
            ]
        ) from exc


def _changed_since(old: Station, version: int) -> str:
    """'version 3, saved by operator at 2026-12-01 10:00:00' - for a row error about a stale row."""
    last = (changes_since(old, version) or [None])[-1]
    if last is None:
        return f"now version {old.version}"
    when = last.when.strftime("%Y-%m-%d %H:%M:%S") if last.when else "?"
    fields = ", ".join(f"{label}: {a} -> {b}" for label, a, b in last.fields[:5])
    return f"now version {old.version}, saved by {last.who} at {when}" + (f" ({fields})" if fields else "")


LIMITS = {"name": 200, "operator": 200, "opening_hours": 255, "amenities": 1000, "address": 255}
MAX_ID = 2**63 - 1
MAX_CAPACITY = 100_000


def _row_station(fname, where, rec, *, crs, kinds, statuses, communities, errors) -> Station | None:
    """A Station (unsaved, id set from the file) from one record, or None with errors appended."""
    n = len(errors)

    def err(col, value, message):
        errors.append(RowError(fname, where, col, value, message))

    for col, value in rec.items():
        if "\x00" in value:
            err(col, None, _("holds a NUL character"))
        elif len(value) > LIMITS.get(col, 1000):
            err(col, value[:40] + "...", _("longer than %(n)s characters") % {"n": LIMITS.get(col, 1000)})
    if len(errors) > n:
        return None

    for col in REQUIRED:
        if not rec.get(col):
            err(col, None, _("%(column)s is required") % {"column": col})
    s = Station()
    s.id = None
    if rec.get("id"):
        try:
            s.id = int(rec["id"])
            if not 1 <= s.id <= MAX_ID:
                raise ValueError
        except ValueError:
            s.id = None
            err("id", rec["id"], _("an id is a whole number (leave it empty for a new station)"))
    s.name = rec.get("name", "")[:200]
    kind = rec.get("kind", "")
    if kind and kind.lower() not in kinds:
        err("kind", kind, _("unknown kind; use one of %(values)s") % {"values": ", ".join(StationKind.values)})
    s.kind = kinds.get(kind.lower(), "")
    s.operator_name = rec.get("operator", "")[:200]
    status = rec.get("status", "") or StationStatus.OPEN
    if status.lower() not in statuses:
        err("status", status, _("unknown status; use one of %(values)s") % {"values": ", ".join(StationStatus.values)})
    s.status = statuses.get(status.lower(), StationStatus.OPEN)
    row_crs = (rec.get("crs") or crs).lower()
    try:
        lat, lon = float(rec.get("lat", "")), float(rec.get("lon", ""))
        s.lat, s.lon = geo.to_wgs84(lat, lon, row_crs)
        s.h3_cell = geo.h3_cell(s.lat, s.lon, STATION_CELL_RESOLUTION)
    except ValueError as exc:
        if rec.get("lat") and rec.get("lon"):
            bad = "crs" if isinstance(exc, geo.CoordinateError) and "coordinate system" in str(exc) else "lat/lon"
            err(
                bad,
                row_crs if bad == "crs" else f"{rec.get('lat')},{rec.get('lon')}",
                str(exc) if isinstance(exc, geo.CoordinateError) else _("latitude and longitude are numbers"),
            )
    code = rec.get("community", "")
    if code:
        d = communities.get(code)
        if d is None:
            err("community", code, _("no community with this code"))
        s.division = d
    else:
        s.division = None
    s.amenities, problems = parse_amenities(rec.get("amenities", ""))
    for p in problems:
        err("amenities", rec.get("amenities"), p)
    s.opening_hours = rec.get("opening_hours", "") or "24/7"
    try:
        opening_hours_check(s.opening_hours)
    except InputError as exc:
        err(
            "opening_hours",
            s.opening_hours,
            _("not valid opening hours (examples: 24/7 or Mo-Fr 08:00-20:00; PH off): %(detail)s")
            % {"detail": exc.errors[0].message},
        )
    s.capacity = None
    if rec.get("capacity"):
        try:
            s.capacity = int(rec["capacity"])
            if not 0 <= s.capacity <= MAX_CAPACITY:
                raise ValueError
        except ValueError:
            err(
                "capacity",
                rec["capacity"],
                _("capacity is a whole number of seats, at most %(n)s") % {"n": MAX_CAPACITY},
            )
    s.contact_phone = rec.get("contact_phone", "")
    if len(s.contact_phone) > 20 or (s.contact_phone and not re.fullmatch(r"[0-9+\- ]+", s.contact_phone)):
        err("contact_phone", s.contact_phone, _("a phone number has at most 20 digits, spaces, + or -"))
    s.address = rec.get("address", "").strip()
    s.version = None
    if rec.get("version"):
        try:
            s.version = int(rec["version"])
            if not 1 <= s.version <= MAX_ID:
                raise ValueError
        except ValueError:
            s.version = None
            err("version", rec["version"], _("a version is a whole number (as exported; or leave it empty)"))
    s.verified_on = None
    if rec.get("verified_on"):
        try:
            s.verified_on = dt.date.fromisoformat(rec["verified_on"][:10])
        except ValueError:
            err("verified_on", rec["verified_on"], _("a date is written YYYY-MM-DD"))
    return s if len(errors) == n else None


def _same(a: Station, b: Station) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in EDITABLE_FIELDS)


@transaction.atomic
def station_import(
    *,
    path: Path,
    scope: Scope,
    user=None,
    crs: str = "wgs84",
    dry_run: bool = False,
    name: str | None = None,
    seen: dict[int, int] | None = None,
) -> ImportResult:
    """Create or update stations from a file; all rows or nothing. Raises InputError listing every bad row.
    `seen`: the versions the dry run read ({station id: version}); a station changed since is a row error."""
    fname = name or Path(path).name
    dry_seen = dict(seen or {})  # (`seen` is reused below for the ids met so far)
    try:
        records = read_station_records(path)
    except InputError as exc:
        for e in exc.errors:
            e.file = fname
        raise
    if crs not in geo.CRS_CHOICES:
        raise InputError([RowError(fname, None, "crs", crs, f"use one of {', '.join(geo.CRS_CHOICES)}")])
    kinds, statuses = _labels(StationKind), _labels(StationStatus)
    codes = {r.get("community") for _, r in records if r.get("community")}
    communities = {d.code: d for d in Division.objects.filter(code__in=codes, level=Level.COMMUNITY)}
    errors: list[RowError] = []
    parsed = []
    for where, rec in records:
        s = _row_station(
            fname, where, rec, crs=crs, kinds=kinds, statuses=statuses, communities=communities, errors=errors
        )
        if s is not None:
            parsed.append((where, s, rec))
    ids = [s.id for _, s, _rec in parsed if s.id is not None]
    existing = {s.pk: s for s in Station.objects.filter(pk__in=ids).select_related("division")}
    for _where, s, rec in parsed:
        old = existing.get(s.id) if s.id is not None else None
        if old is not None:  # a change: the columns the file does not have keep their values
            for column, attribute in KEPT_WHEN_ABSENT.items():
                if column not in rec:
                    setattr(s, attribute, getattr(old, attribute))
    locator = _CommunityLocator([(s.lat, s.lon) for _, s, _rec in parsed if s.division is None])
    seen: dict[int, object] = {}
    result = ImportResult(dry_run=dry_run)
    to_save: list[tuple[Station, bool]] = []
    for where, s, _rec in parsed:
        if s.division is None:
            s.division = locator.find(s.lat, s.lon)
        if s.id is not None:
            if s.id in seen:
                errors.append(
                    RowError(
                        fname, where, "id", s.id, _("the same id appears again (%(where)s)") % {"where": seen[s.id]}
                    )
                )
                continue
            seen[s.id] = where
            old = existing.get(s.id)
            if old is None or not may_edit(scope, old):
                errors.append(RowError(fname, where, "id", s.id, _("no station with this id that you may edit")))
                continue
            s.operator_company_id = old.operator_company_id
            s.created_at = old.created_at
            s._state.adding = False
            if s.version is not None and s.version != old.version:
                errors.append(
                    RowError(
                        fname,
                        where,
                        "version",
                        s.version,
                        f"this station was changed after the file was exported ({_changed_since(old, s.version)}); "
                        "export it again and redo your change",
                    )
                )
                continue
            if s.id in dry_seen and dry_seen[s.id] != old.version:
                errors.append(
                    RowError(
                        fname,
                        where,
                        "id",
                        s.id,
                        f"this station was changed after the dry run ({_changed_since(old, dry_seen[s.id])}); "
                        "run the dry run again",
                    )
                )
                continue
            s.version = old.version
            result.seen[s.id] = old.version
        elif scope.staff_company_ids and not scope.is_admin and len(scope.staff_company_ids) == 1:
            s.operator_company_id = next(iter(scope.staff_company_ids))
        if not may_edit(scope, s):
            errors.append(
                RowError(
                    fname,
                    where,
                    "operator" if scope.operator_names else "community",
                    s.operator_name if scope.operator_names else (s.division.code if s.division else ""),
                    _("this station would be outside what you may edit (your own stations or area)"),
                )
            )
            continue
        if s.id is not None:
            old = existing[s.id]
            if abs(s.lat - old.lat) < COORD_TOLERANCE and abs(s.lon - old.lon) < COORD_TOLERANCE:
                s.lat, s.lon, s.h3_cell = old.lat, old.lon, old.h3_cell  # exported with 7 decimals: the same place
        if s.id is None:
            s.version = 1
        if s.id is not None and _same(s, existing[s.id]):
            result.unchanged += 1
            continue
        to_save.append((s, s.id is None))
        if len(result.rows) < 50:
            result.rows.append(
                {
                    "where": where,
                    "name": s.name,
                    "new": s.id is None,
                    "community": s.division.name if s.division else "",
                }
            )
    if errors:
        raise InputError(
            errors, summary=_("%(n)s error(s) in %(file)s; nothing was imported") % {"n": len(errors), "file": fname}
        )
    reason = f"import {fname}"[:100]
    where_of = {id(s): where for where, s, _rec in parsed}
    for s, new in to_save:
        if new:
            result.created += 1
        else:
            result.updated += 1
        if not dry_run:
            s._change_reason = reason
            s._history_user = user
            try:
                save_versioned(s, expected_version=None if new else s.version)
            except Conflict as exc:  # changed between this import's read and its write
                now = exc.current
                errors.append(
                    RowError(
                        fname,
                        where_of[id(s)],
                        "id",
                        s.id,
                        "this station was changed while the file was being imported"
                        + (f" ({_changed_since(now, exc.expected)})" if now is not None else " (deleted)")
                        + "; import the file again",
                    )
                )
                break
    if errors:
        raise InputError(
            errors, summary=_("%(n)s error(s) in %(file)s; nothing was imported") % {"n": len(errors), "file": fname}
        )
    if dry_run:
        transaction.set_rollback(True)
    return result


# ---------------------------------------------------------------- export


def station_record(s: Station, crs: str = "wgs84") -> dict:
    """A station as an export writes it: EXPORT_COLUMNS, the labels in the active language."""
    lat, lon = geo.from_wgs84(s.lat, s.lon, crs)
    return {
        "id": s.pk,
        "name": s.name,
        "kind": s.kind,
        "operator": s.operator_name,
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "crs": crs,
        "community": s.division.code if s.division_id else "",
        "amenities": amenity_text(s.amenities),
        "opening_hours": s.opening_hours,
        "capacity": "" if s.capacity is None else s.capacity,
        "contact_phone": s.contact_phone,
        "address": s.address,
        "status": s.status,
        "verified_on": s.verified_on.isoformat() if s.verified_on else "",
        "version": s.version,
        "kind_label": choice_label(StationKind, s.kind),
        "status_label": choice_label(StationStatus, s.status),
        "amenities_label": "；".join(choice_labels(Amenity, s.amenities)),
    }


def export_csv(stations, crs: str = "wgs84") -> bytes:
    buf = io.StringIO()
    w = csv_dict_writer(buf, EXPORT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for s in stations:
        w.writerow(station_record(s, crs))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM lets Excel open it as UTF-8


def export_xlsx(stations, crs: str = "wgs84", *, example: bool = False) -> bytes:
    """The stations as .xlsx; with `example`, the import template (one example row and a sheet of codes)."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "stations"
    ws.append(COLUMNS if example else EXPORT_COLUMNS)
    if example:
        ws.append(
            [
                "",
                "示例驿站 Example station",
                "union",
                "区总工会",
                22.5431,
                114.0579,
                "gcj02",
                "",
                "water;microwave;charging;充电宝",
                "Mo-Su 08:00-22:00; PH off",
                12,
                "0755-12345678",
                "福田区福田街道福华三路 100 号",
                "open",
                "2026-01-31",
                "",
            ],
        )
        codes = wb.create_sheet("codes")
        codes.append(["column", "code", "English", "中文"])
        for column, choices in (("kind", StationKind), ("status", StationStatus), ("amenities", Amenity)):
            for code, label in choices.choices:
                with translation.override("zh-hans"):
                    zh = str(label)
                with translation.override("en"):
                    en = str(label)
                codes.append([column, code, en, zh])
        codes.append(["crs", "wgs84 | gcj02 | bd09", "GPS; Amap/Tencent; Baidu", "GPS；高德/腾讯；百度"])
        codes.append(["opening_hours", "24/7", "OpenStreetMap opening_hours syntax", "OpenStreetMap 营业时间语法"])
    for s in stations:
        record = station_record(s, crs)
        ws.append([record[c] for c in EXPORT_COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_geojson(stations) -> bytes:
    """RFC 7946 FeatureCollection (WGS-84, [lon, lat]); properties as in the CSV, amenities as a list."""
    features = []
    for s in stations:
        props = station_record(s)
        for k in ("lat", "lon", "crs", "id"):
            props.pop(k)
        props["amenities"] = list(s.amenities)
        props["amenities_label"] = choice_labels(Amenity, s.amenities)
        features.append(
            {
                "type": "Feature",
                "id": s.pk,
                "geometry": {"type": "Point", "coordinates": [round(s.lon, 7), round(s.lat, 7)]},
                "properties": props,
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")
