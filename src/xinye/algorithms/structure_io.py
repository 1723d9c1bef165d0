"""Read and write the structure planner's files: JSON, CSV and .xlsx. No database, no Django.

BUSINESS: `units` (id, parent, name, kind, division[, status, merged_into]) and `members` (id, unit, status
formal|probationary). As JSON: {"units": [...], "members": [...]}; as .xlsx: sheets `units` and `members`;
as CSV: the units file, with the members file given separately.

ORGS (and PLAN.json's `organizations`): id, parent, kind, units, members[, name, term_ends, committee,
secretary, committee_size]. In CSV
and .xlsx, `units` and `members` are lists separated by ";" (or spaces).

Every error names the file, the record (row for CSV/.xlsx, index and id for JSON), the column and the value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .errors import InputError, RowError
from .structure import Business, Member, Org, Unit
from .tabular import new_workbook, read_csv_rows, read_json, read_xlsx_rows

UNIT_COLUMNS = ["id", "parent", "name", "kind", "division", "status", "merged_into"]
MEMBER_COLUMNS = ["id", "unit", "status"]
ORG_COLUMNS = [
    "id",
    "parent",
    "kind",
    "units",
    "members",
    "name",
    "term_ends",
    "committee",
    "secretary",
    "committee_size",
]


def _rows_from_sheet(path: Path, sheet: str) -> list[tuple[int, dict]]:
    return read_xlsx_rows(path, sheet)


def _records_from_json(path: Path, key: str) -> list[tuple[str, dict]]:
    data = read_json(path)
    if isinstance(data, list) and key == "organizations":
        items = data
    elif isinstance(data, dict) and isinstance(data.get(key, []), list):
        items = data.get(key, [])
    else:
        raise InputError([RowError(str(path), None, key, None, f"expected a list under {key!r}")])
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise InputError([RowError(str(path), where, None, item, "expected an object")])
        out.append((where + (f" (id {item.get('id')!r})" if "id" in item else ""), item))
    return out


def _text(v) -> str:
    return "" if v is None else str(v).strip()


#: the longest text each column may hold (what the database stores); `units` and `members` lists excepted
TEXT_LIMITS = {
    "id": 64,
    "parent": 64,
    "unit": 64,
    "merged_into": 64,
    "name": 200,
    "kind": 24,
    "division": 12,
    "status": 20,
    "term_ends": 40,
    "committee": 10,
    "secretary": 10,
    "committee_size": 10,
}


def _check_texts(file: str, where, rec: dict, errors: list[RowError]) -> None:
    """Row errors for values holding a NUL character or longer than TEXT_LIMITS allows."""
    for col, limit in TEXT_LIMITS.items():
        v = rec.get(col)
        if v is None or isinstance(v, (list, bool)):
            continue
        v = str(v)
        if "\x00" in v:
            errors.append(RowError(file, where, col, v.replace("\x00", "\\0")[:40], "holds a NUL character"))
        elif len(v.strip()) > limit:
            errors.append(RowError(file, where, col, v[:40] + "...", f"longer than {limit} characters"))


def _need(file: str, where, rec: dict, col: str, errors: list[RowError]) -> str:
    v = _text(rec.get(col))
    if not v:
        errors.append(RowError(file, where, col, None, f"{col} is required"))
    return v


def _records(path: Path, key: str, sheet_rows=None) -> Sequence[tuple[int | str, dict]]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _records_from_json(path, key)
    if suffix in (".xlsx", ".xlsm"):
        return _rows_from_sheet(path, key)
    if suffix == ".csv":
        return read_csv_rows(path)
    raise InputError([RowError(str(path), None, None, suffix, "use a .json, .csv or .xlsx file")])


def load_business(path: Path, *, members_path: Path | None = None, member_rows: dict | None = None) -> Business:
    """Read BUSINESS (JSON, .xlsx, or a units CSV plus `members_path`) and validate it. With `member_rows`
    (a dict), fills it with member id -> (file, row or record) so that later checks can name the row."""
    path = Path(path)
    file = str(path)
    errors: list[RowError] = []
    units: list[Unit] = []
    for where, rec in _records(path, "units"):
        _check_texts(file, where, rec, errors)
        uid = _need(file, where, rec, "id", errors)
        status = (_text(rec.get("status")) or "active").lower()
        units.append(
            Unit(
                uid,
                _text(rec.get("parent")) or None,
                _text(rec.get("name")),
                _text(rec.get("kind")),
                _text(rec.get("division")),
                status,
                _text(rec.get("merged_into")) or None,
            )
        )
    if path.suffix.lower() == ".csv":
        if members_path is None:
            raise InputError([RowError(file, None, None, None, "a units CSV needs its members CSV (--members FILE)")])
        mfile, mrecords = str(members_path), _records(Path(members_path), "members")
    else:
        mfile, mrecords = file, _records(path, "members")
    members: list[Member] = []
    for where, rec in mrecords:
        _check_texts(mfile, where, rec, errors)
        mid = _need(mfile, where, rec, "id", errors)
        unit = _need(mfile, where, rec, "unit", errors)
        members.append(Member(mid, unit, (_text(rec.get("status")) or "formal").lower()))
        if member_rows is not None:
            member_rows.setdefault(mid, (mfile, where))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")
    return Business.build(units, members, file=file)


def _split_list(v) -> tuple[str, ...]:
    if isinstance(v, list):
        return tuple(_text(x) for x in v if _text(x))
    return tuple(x for x in _text(v).replace(";", " ").replace(",", " ").split() if x)


def load_orgs(path: Path) -> list[Org]:
    path = Path(path)
    file = str(path)
    errors: list[RowError] = []
    out = []
    for where, rec in _records(path, "organizations"):
        _check_texts(file, where, rec, errors)
        oid = _need(file, where, rec, "id", errors)
        kind = _need(file, where, rec, "kind", errors)
        term = _text(rec.get("term_ends"))
        term_ends = None
        if term:
            try:
                term_ends = date.fromisoformat(term[:10])
            except ValueError:
                errors.append(RowError(file, where, "term_ends", term, "not a date (YYYY-MM-DD)"))
        committee, secretary = _flag(rec.get("committee")), _flag(rec.get("secretary"))
        size = _text(rec.get("committee_size"))
        committee_size = None
        if size:
            try:
                committee_size = int(float(size))
            except ValueError:
                errors.append(RowError(file, where, "committee_size", size, "not a whole number"))
        out.append(
            Org(
                oid,
                _text(rec.get("parent")) or None,
                kind,
                _split_list(rec.get("units")),
                _split_list(rec.get("members")),
                _text(rec.get("name")),
                term_ends,
                committee,
                secretary,
                committee_size,
            )
        )
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")
    return out


def _flag(value) -> bool | None:
    """A yes/no column: true/false, 1/0, yes/no (any case), or empty (None: not known)."""
    if isinstance(value, str):
        value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(
            value.strip().lower()
        )
    return value if isinstance(value, bool) else None


def write_json(path: Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


def write_template(path: Path) -> None:
    """An .xlsx template with the three sheets, their columns and a worked example."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "units"
    ws.append(UNIT_COLUMNS)
    for row in (
        ["hq", "", "Headquarters", "headquarters", "", "active", ""],
        ["sz", "hq", "Shenzhen city company", "city", "4403", "active", ""],
        ["st1", "sz", "Nanshan station", "station", "440305", "active", ""],
        ["st2", "sz", "Futian station", "station", "440304", "active", ""],
    ):
        ws.append(row)
    ms = wb.create_sheet("members")
    ms.append(MEMBER_COLUMNS)
    for i in range(4):
        ms.append([f"m{i + 1}", "st1", "formal"])
    ms.append(["m5", "st2", "probationary"])
    os_ = wb.create_sheet("organizations")
    os_.append(ORG_COLUMNS)
    os_.append(["b1", "", "branch", "st1", "m1;m2;m3;m4", "Nanshan station branch", "2027-06-30", "false", "true", ""])
    wb.save(path)


def write_business_xlsx(path, business: Business, orgs: list[Org] | None = None) -> None:
    """Write a business (and optionally its organizations) in the same sheets `load_business` reads."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "units"
    ws.append(UNIT_COLUMNS)
    for uid in business.order:
        u = business.units[uid]
        ws.append([u.id, u.parent or "", u.name, u.kind, u.division, u.status, u.merged_into or ""])
    ms = wb.create_sheet("members")
    ms.append(MEMBER_COLUMNS)
    for m in sorted(business.members.values(), key=lambda m: (m.unit, m.id)):
        ms.append([m.id, m.unit, m.status])
    if orgs is not None:
        os_ = wb.create_sheet("organizations")
        os_.append(ORG_COLUMNS)
        for o in orgs:
            os_.append(
                [
                    o.id,
                    o.parent or "",
                    o.kind,
                    ";".join(o.units),
                    ";".join(o.members),
                    o.name,
                    o.term_ends.isoformat() if o.term_ends else "",
                    "" if o.committee is None else str(o.committee).lower(),
                    "" if o.secretary is None else str(o.secretary).lower(),
                    "" if o.committee_size is None else o.committee_size,
                ],
            )
    wb.save(path)
