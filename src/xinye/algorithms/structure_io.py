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

import ast
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from itertools import chain, repeat
from pathlib import Path
from types import NoneType

import orjson

from .errors import InputError, RowError
from .structure import Business, Finding, Member, Org, Plan, Unit
from .structure.model import no_gc
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
    try:
        return read_xlsx_rows(path, sheet)
    except InputError as exc:  # a row of this sheet: say which sheet
        for e in exc.errors:
            if e.row is not None and e.sheet is None:
                e.sheet = sheet
        raise


def _json_items(path: Path, data, key: str) -> list[dict]:
    """The records under `key` of a JSON file's data; InputError naming the first one that is not an object."""
    if isinstance(data, list) and key == "organizations":
        items = data
    elif isinstance(data, dict) and isinstance(data.get(key, []), list):
        items = data.get(key, [])
    else:
        raise InputError([RowError(str(path), None, key, None, f"expected a list under {key!r}")])
    if not all(map(dict.__instancecheck__, items)):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise InputError([RowError(str(path), f"{key}[{i}]", None, item, "expected an object")])
    return items


def _json_where(key: str, items: list[dict]) -> list[str]:
    """How errors name each record: `members[3] (id 'm4')`."""
    return [f"{key}[{i}]" + (f" (id {item.get('id')!r})" if "id" in item else "") for i, item in enumerate(items)]


def _records_from_json(path: Path, key: str, data=None) -> list[tuple[str, dict]]:
    items = _json_items(path, read_json(path) if data is None else data, key)
    return list(zip(_json_where(key, items), items, strict=True))


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


def _text_columns(recs: list[dict], columns: Sequence[str], required: Sequence[str]) -> dict[str, list[str]] | None:
    """`_text` of each of `columns` (TEXT_LIMITS columns) for every record, a whole column at a time, when the
    records hold no row error: every value in a TEXT_LIMITS column a string (or null, or absent) without a NUL
    character and within its limit, and every `required` column non-empty. None otherwise: then the caller goes
    record by record and names each error (`_check_texts`, `_need`). A million records in well under a second."""
    present = set(chain.from_iterable(recs))
    if not present.issuperset(required):
        return None
    out: dict[str, list[str]] = {}
    for col, limit in TEXT_LIMITS.items():
        if col not in present:
            if col in columns:
                out[col] = [""] * len(recs)
            continue
        values: list = list(map(dict.get, recs, repeat(col)))
        strings: list[str]
        try:
            text = list(map(str.strip, values))  # TypeError: a value that is not a string (null among them)
            strings = values
        except TypeError:
            if not set(map(type, values)) <= {str, NoneType}:
                return None
            strings = [v for v in values if v is not None]
            text = ["" if v is None else v.strip() for v in values]
        if strings and (max(map(len, strings)) > limit or "\x00" in "".join(strings)):
            return None
        if col not in columns:
            continue
        if col in required and not all(text):
            return None
        out[col] = text
    return out


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


def _table(path: Path, key: str, data=None) -> tuple[list[dict], Callable[[], Sequence[int | str]]]:
    """The records under `key` (a sheet, or the whole CSV), and how errors name each of them (a function:
    labels are made only when needed). `data`: the JSON file's data, when read already."""
    if path.suffix.lower() == ".json":
        items = _json_items(path, read_json(path) if data is None else data, key)
        return items, lambda: _json_where(key, items)
    rows = _records(path, key)
    return [rec for _, rec in rows], lambda: [where for where, _ in rows]


def _units(file: str, recs: list[dict], where: Callable[[], Sequence[int | str]], errors: list[RowError]) -> list[Unit]:
    cols = _text_columns(recs, UNIT_COLUMNS, ("id",))
    if cols is not None:  # no row error: a column at a time
        # a handful of statuses among the units: each distinct text lower-cased once, and shared
        text = {s: (s or "active").lower() for s in set(cols["status"])}
        statuses = list(map(text.__getitem__, cols["status"]))
        parent, merged = ([x or None for x in cols[c]] for c in ("parent", "merged_into"))
        return list(map(Unit, cols["id"], parent, cols["name"], cols["kind"], cols["division"], statuses, merged))
    units = []
    for w, rec in zip(where(), recs, strict=True):
        _check_texts(file, w, rec, errors)
        uid = _need(file, w, rec, "id", errors)
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
    return units


def _member_columns(
    file: str, recs: list[dict], where: Callable[[], Sequence[int | str]], member_rows: dict | None
) -> tuple[list[str], list[str], list[str]] | None:
    """The members' ids, units and statuses, when no record holds a row error (else None)."""
    cols = _text_columns(recs, MEMBER_COLUMNS, ("id", "unit"))
    if cols is None:
        return None
    ids, status = cols["id"], cols["status"]
    # a handful of statuses among a million members: each distinct text lower-cased once, and shared
    text = {s: (s or "formal").lower() for s in set(status)}
    status = list(map(text.__getitem__, status))
    if member_rows is not None:
        for mid, w in zip(ids, where(), strict=True):
            member_rows.setdefault(mid, (file, w))
    return ids, cols["unit"], status


def _members(
    file: str,
    recs: list[dict],
    where: Callable[[], Sequence[int | str]],
    errors: list[RowError],
    member_rows: dict | None,
) -> list[Member]:
    """The members, record by record, naming each row error."""
    members = []
    for w, rec in zip(where(), recs, strict=True):
        _check_texts(file, w, rec, errors)
        mid = _need(file, w, rec, "id", errors)
        unit = _need(file, w, rec, "unit", errors)
        members.append(Member(mid, unit, (_text(rec.get("status")) or "formal").lower()))
        if member_rows is not None:
            member_rows.setdefault(mid, (file, w))
    return members


def load_business(path: Path, *, members_path: Path | None = None, member_rows: dict | None = None) -> Business:
    """Read BUSINESS (JSON, .xlsx, or a units CSV plus `members_path`) and validate it. With `member_rows`
    (a dict), fills it with member id -> (file, row or record) so that later checks can name the row.

    Records without a row error (the usual case) are read a column at a time; otherwise record by record,
    naming each error. Either way the same units and members, or the same errors."""
    with no_gc():  # a million small acyclic objects: nothing for the cyclic collector to find
        return _load_business(Path(path), members_path, member_rows)


def _load_business(path: Path, members_path: Path | None, member_rows: dict | None) -> Business:
    file = str(path)
    # in a workbook, each error also names its sheet (a row number alone could be in either)
    workbook = path.suffix.lower() in (".xlsx", ".xlsm")
    errors: list[RowError] = []
    data = read_json(path) if path.suffix.lower() == ".json" else None
    recs, where = _table(path, "units", data)
    units = _units(file, recs, where, errors)
    unit_where = where() if path.suffix.lower() != ".json" else None
    n_unit_errors = len(errors)
    if path.suffix.lower() == ".csv":
        if members_path is None:
            raise InputError([RowError(file, None, None, None, "a units CSV needs its members CSV (--members FILE)")])
        mfile, recs, where = str(members_path), *_table(Path(members_path), "members")
    else:
        mfile, recs, where = file, *_table(path, "members", data)
    del data  # the records (a million dicts) go as soon as their columns are read
    columns = _member_columns(mfile, recs, where, member_rows)
    members = _members(mfile, recs, where, errors, member_rows) if columns is None else []
    del recs, where
    if workbook:
        for i, e in enumerate(errors):
            e.sheet = "units" if i < n_unit_errors else "members"
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")
    try:
        if columns is not None:
            return Business.build_columns(units, *columns, file=file)
        return Business.build(units, members, file=file)
    except InputError as exc:
        if unit_where is None:  # JSON: the records are named as the file holds them already
            raise
        raise _at_rows(exc, units, unit_where, member_rows, workbook=workbook) from None


_RECORD_AT = re.compile(r"^(?P<key>units|members)\[(?P<index>\d+)\](?: \(id (?P<id>.+)\))?$")


def _at_rows(exc: InputError, units: list[Unit], unit_where: Sequence, member_rows: dict | None, *, workbook: bool):
    """The errors of `Business.build` (which names records: "units[3] (id 'a')", "unit 'a'") naming the file's
    rows instead, and in a workbook their sheet: where a reader finds them."""
    unit_at: dict[str, int | str | None] = {}
    for u, w in zip(units, unit_where, strict=True):
        unit_at.setdefault(f"unit {u.id!r}", w)
    out = []
    for e in exc.errors:
        file, where, sheet = e.file, e.row, None
        m = _RECORD_AT.match(str(e.row)) if isinstance(e.row, str) else None
        if m and m.group("key") == "units":
            where, sheet = unit_where[int(m.group("index"))], "units"
        elif m and m.group("id") and member_rows is not None and e.message != "duplicate member id":
            # (a duplicate's id leads to the first row that has it, not to the duplicate: left as the record)
            try:
                mid = ast.literal_eval(m.group("id"))
            except (ValueError, SyntaxError):
                mid = None
            if mid in member_rows:
                (file, where), sheet = member_rows[mid], "members"
        elif isinstance(e.row, str) and e.row in unit_at:
            where, sheet = unit_at[e.row], "units"
        out.append(RowError(file, where, e.column, e.value, e.message, sheet if workbook and where != e.row else None))
    return InputError(out, summary=exc.summary)


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


#: orjson as `json.dumps(..., ensure_ascii=False, indent=2, default=str)` writes: dates and dataclasses go to
#: `default=str` as with json (orjson would write them its own way)
_ORJSON = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

#: items of a list written at a time: one orjson call per item would cost more than writing them
_CHUNK = 4096


def _dumps(value, indent: int = 0) -> bytes:
    """`value` as JSON indented by two spaces a level, every line after the first `indent` spaces further in.
    orjson writes it; what orjson refuses (an integer over 64 bits, a key that is not a string) the standard
    library writes, as before."""
    try:
        out = orjson.dumps(value, default=str, option=_ORJSON)
    except orjson.JSONEncodeError:
        out = json.dumps(value, ensure_ascii=False, indent=2, default=str).encode()
    return _indent(out, indent)


def _indent(out: bytes, indent: int) -> bytes:
    return out.replace(b"\n", b"\n" + b" " * indent) if indent and b"\n" in out else out


#: findings written from their dataclasses (dates, were there any, as `default=str` writes them)
_FINDINGS = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME


def _findings_json(findings: list[Finding]) -> bytes:
    """Findings as `_dumps([f.to_json() for f in findings], 2)` writes them, from the dataclasses themselves:
    orjson writes a dataclass's fields in order, as `Finding.to_json` lists them (a tuple as a list)."""
    try:
        return _indent(orjson.dumps(findings, default=str, option=_FINDINGS), 2)
    except orjson.JSONEncodeError:
        return _dumps([f.to_json() for f in findings], 2)


def _write_sections(path: Path, sections: Sequence[tuple[str, object, Callable[[list], bytes]]]) -> None:
    """A JSON object of `sections` (key, value, how to write a part of a list value), written to the file as it
    is made: `_CHUNK` items of a list at a time, so that a plan of a million members never stands in memory as
    one text. The same text as orjson's `OPT_INDENT_2` of the whole object."""
    with open(path, "wb") as fh:
        fh.write(b"{")
        for k, (key, value, part_json) in enumerate(sections):
            fh.write((b",\n  " if k else b"\n  ") + _dumps(key) + b": ")
            if isinstance(value, list) and value:
                fh.write(b"[")
                for start in range(0, len(value), _CHUNK):
                    # b"[\n    {...},\n    {...}\n  ]": the items as the whole document would hold them
                    part = part_json(value[start : start + _CHUNK])
                    if start:
                        fh.write(b",")
                    fh.write(memoryview(part)[1:-4])
                fh.write(b"\n  ]")
            else:
                fh.write(_dumps(value, 2))
        fh.write(b"\n}\n" if sections else b"}\n")


def _list_json(part: list) -> bytes:
    return _dumps(part, 2)


def write_json(path: Path, data: dict) -> None:
    """`data` as UTF-8 JSON, indented by two spaces (a top-level object written a part at a time)."""
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        Path(path).write_bytes(_dumps(data) + b"\n")
        return
    _write_sections(path, [(key, value, _list_json) for key, value in data.items()])


def write_plan(path: Path, plan: Plan) -> None:
    """PLAN.json: the text `write_json(path, plan.to_json())` writes, without making every organization's and
    finding's dict at once (a national plan has over a hundred thousand of each)."""

    def organizations(part: list[Org]) -> bytes:
        return _dumps([o.to_json() for o in part], 2)

    with no_gc():
        _write_sections(
            path,
            [
                ("organizations", plan.organizations, organizations),
                ("findings", plan.findings, _findings_json),
                ("remaining_findings", plan.remaining, _findings_json),
                ("stats", plan.stats, _list_json),
                ("unplaced", plan.unplaced, _list_json),
            ],
        )


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


def write_business_xlsx(
    path, business: Business, orgs: list[Org] | None = None, *, label: Callable[[str, str], str] | None = None
) -> None:
    """Write a business (and optionally its organizations) in the same sheets `load_business` reads. With
    `label` ((column, code) -> text, e.g. ("unit_kind", "city") -> "城市"), each sheet also has label columns
    after the codes, for a reader (`load_business` ignores them)."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "units"
    ws.append(UNIT_COLUMNS + (["kind_label", "status_label"] if label else []))
    for uid in business.order:
        u = business.units[uid]
        row = [u.id, u.parent or "", u.name, u.kind, u.division, u.status, u.merged_into or ""]
        ws.append(row + ([label("unit_kind", u.kind), label("unit_status", u.status)] if label else []))
    ms = wb.create_sheet("members")
    ms.append(MEMBER_COLUMNS + (["status_label"] if label else []))
    for m in sorted(business.members.values(), key=lambda m: (m.unit, m.id)):
        ms.append([m.id, m.unit, m.status] + ([label("member_status", m.status)] if label else []))
    if orgs is not None:
        os_ = wb.create_sheet("organizations")
        os_.append(ORG_COLUMNS + (["kind_label"] if label else []))
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
                ]
                + ([label("org_kind", o.kind)] if label else []),
            )
    wb.save(path)
