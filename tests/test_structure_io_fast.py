"""`xinye structure plan` at national scale reads and writes its files a column or a chunk at a time (issue 13,
item 8): the same business, the same row errors and the same PLAN.json as record by record."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import orjson
import pytest

from xinye.algorithms import structure, structure_io, tabular
from xinye.algorithms.errors import InputError
from xinye.algorithms.rules import get_rules
from xinye.algorithms.structure import Business, Member, Unit


def _units():
    return [
        {"id": "hq", "parent": None, "name": "HQ", "kind": "headquarters"},
        {"id": " c ", "parent": "hq", "name": " City ", "kind": "city", "division": "4403", "note": "ignored"},
        {"id": "s1", "parent": "c", "name": "S1", "kind": "station", "division": "440305", "status": "ACTIVE"},
        {"id": "s2", "parent": "c", "name": "", "kind": "station", "division": None, "status": ""},
        {"id": "s3", "parent": "c", "name": "S3", "kind": "station", "status": "merged", "merged_into": "s2"},
        {"id": "s4", "parent": "c", "name": "S4", "kind": "station", "status": "dissolved", "merged_into": ""},
    ]


def _members():
    out = []
    for i in range(40):
        out.append({"id": f"m{i}", "unit": ["s1", "s2", "s3", "s4", "c"][i % 5], "status": "formal"})
    out[1]["status"] = " Probationary "
    out[2]["status"] = ""
    out[3]["status"] = None
    del out[4]["status"]
    out[5]["id"] = " m5 "
    return out


def _write(tmp_path, units, members, name="b.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"units": units, "members": members}), encoding="utf-8")
    return path


def _record_by_record(monkeypatch):
    """Make load_business go record by record, as before columns were read at once."""
    monkeypatch.setattr(structure_io, "_text_columns", lambda *a, **k: None)


def _same_business(a: Business, b: Business) -> None:
    assert a.units == b.units and list(a.units) == list(b.units)
    assert a.members == b.members and list(a.members) == list(b.members)
    assert (a.order, a.children, a.roots, a.depth) == (b.order, b.children, b.roots, b.depth)
    assert dict(a.members_of) == dict(b.members_of) and list(a.members_of) == list(b.members_of)
    assert dict(a.unit_formal) == dict(b.unit_formal) and a.formal == b.formal


def test_columns_give_the_same_business_as_record_by_record(tmp_path, monkeypatch):
    path = _write(tmp_path, _units(), _members())
    rows: dict = {}
    fast = structure_io.load_business(path, member_rows=rows)
    assert fast.units["c"].name == "City" and fast.units["s2"].status == "active"
    assert fast.members["m1"].status == "probationary" and fast.members["m2"].status == "formal"
    assert fast.units["s4"].merged_into is None and "m5" in fast.members
    _record_by_record(monkeypatch)
    slow_rows: dict = {}
    slow = structure_io.load_business(path, member_rows=slow_rows)
    _same_business(fast, slow)
    assert rows == slow_rows and rows["m5"] == (str(path), "members[5] (id ' m5 ')")


@pytest.mark.parametrize(
    "change",
    [
        lambda u, m: m[7].update(id=17),  # not a string: read as before ("17")
        lambda u, m: m[8].update(unit="s1\x00"),
        lambda u, m: m[9].update(unit=""),
        lambda u, m: m[10].pop("id"),
        lambda u, m: m[11].update(status="x" * 30),
        lambda u, m: m[12].update(name="n" * 300),  # a column members do not use is still checked
        lambda u, m: m[13].update(unit=["s1"]),
        lambda u, m: u[2].update(kind="k" * 30),
        lambda u, m: u[3].update(id=None),
        lambda u, m: m.append({"id": "m0", "unit": "nowhere", "status": "retired"}),
    ],
)
def test_row_errors_are_the_same_as_record_by_record(tmp_path, monkeypatch, change):
    units, members = _units(), _members()
    change(units, members)
    path = _write(tmp_path, units, members)

    def outcome():
        try:
            return structure_io.load_business(path)
        except InputError as exc:
            return [dataclasses.astuple(e) for e in exc.errors]

    fast = outcome()
    _record_by_record(monkeypatch)
    slow = outcome()
    if isinstance(slow, Business):
        _same_business(fast, slow)
    else:
        assert fast == slow and slow


def test_csv_business_reads_the_same_by_columns(tmp_path, monkeypatch):
    units = tmp_path / "units.csv"
    units.write_text("id,parent,name,kind,division\nhq,,HQ,headquarters,\ns1,hq, S1 ,station,440305\n", "utf-8")
    members = tmp_path / "members.csv"
    members.write_text("id,unit,status\nm1,s1,formal\nm2,s1,Probationary\nm3,s1,\n", encoding="utf-8")
    fast = structure_io.load_business(units, members_path=members)
    _record_by_record(monkeypatch)
    _same_business(fast, structure_io.load_business(units, members_path=members))


@pytest.mark.parametrize(
    "members",
    [
        [Member("a", "s1"), Member("b", "s1", "probationary"), Member("c", "hq")],
        [Member("a", "s1"), Member("a", "s1")],  # duplicate id
        [Member("a", "nowhere")],
        [Member("a", "s1", "retired")],
        [Member("", "s1")],
    ],
)
def test_build_columns_is_build(members):
    units = [Unit("hq", None, "HQ"), Unit("s1", "hq", "S1"), Unit("s2", "hq", "S2", status="dissolved")]

    def outcome(make):
        try:
            return make()
        except InputError as exc:
            return [dataclasses.astuple(e) for e in exc.errors]

    columns = ([m.id for m in members], [m.unit for m in members], [m.status for m in members])
    a = outcome(lambda: Business.build_columns(units, *columns, file="f"))
    b = outcome(lambda: Business.build(units, members, file="f"))
    if isinstance(b, Business):
        assert isinstance(a, Business)
        _same_business(a, b)
    else:
        assert a == b and b


def _plan(tmp_path):
    units = [{"id": "hq", "parent": None, "name": "HQ"}] + [
        {"id": f"c{c}", "parent": "hq", "name": f"City {c}"} for c in range(3)
    ]
    units += [{"id": f"s{c}{s}", "parent": f"c{c}", "name": f"站 {c}{s}"} for c in range(3) for s in range(6)]
    members = [
        {"id": f"m{i}", "unit": f"s{i % 3}{i % 6}", "status": "formal" if i % 9 else "probationary"} for i in range(400)
    ]
    business = structure_io.load_business(_write(tmp_path, units, members))
    return structure.plan(business, [], get_rules("cpc"))


def test_plan_json_written_in_chunks_is_the_whole_plan(tmp_path, monkeypatch):
    result = _plan(tmp_path)
    assert len(result.organizations) > 7 and len(result.remaining) > 7
    monkeypatch.setattr(structure_io, "_CHUNK", 3)  # several chunks per list
    structure_io.write_plan(tmp_path / "plan.json", result)
    structure_io.write_json(tmp_path / "data.json", result.to_json())
    text = (tmp_path / "plan.json").read_bytes()
    assert text == (tmp_path / "data.json").read_bytes()
    assert text == orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2) + b"\n"
    # what the standard library wrote before, read back
    assert json.loads(text) == json.loads(json.dumps(result.to_json(), ensure_ascii=False, indent=1, default=str))
    assert "站" in text.decode("utf-8")


def test_write_json_writes_what_orjson_cannot_as_json_did(tmp_path):
    data = {"big": [2**70, {"n": 1}], "when": [date(2026, 1, 2)], "empty": [], "x": {}}
    structure_io.write_json(tmp_path / "a.json", data)
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads(json.dumps(data, default=str))
    structure_io.write_json(tmp_path / "b.json", {1: "a"})  # a key that is not a string
    assert json.loads((tmp_path / "b.json").read_text()) == {"1": "a"}


def test_finding_to_json_is_asdict(tmp_path):
    result = _plan(tmp_path)
    for f in result.remaining[:50] + result.findings:
        expected = dataclasses.asdict(f)
        expected["related"] = list(f.related)
        assert f.to_json() == expected and list(f.to_json()) == list(expected)
        assert f.to_json()["params"] is not f.params


@pytest.mark.parametrize(
    "text",
    [
        '{"units": [], "members": [], "x": NaN}',
        '{"big": 123456789012345678901234567890, "negative": -9223372036854775809}',
        '{"negative": -9223372036854775809}',
        '{"ok": [18446744073709551615, -9223372036854775808, 0.1, -0, 1e-7]}',
        '{"s": "\\ud800"}',
        '{"a": 1, "a": 2}',
        '{"f": 1e400}',
    ],
)
def test_read_json_reads_what_json_reads(tmp_path, text):
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    assert repr(tabular.read_json(path)) == repr(json.loads(text))  # NaN is not equal to itself; its repr is
