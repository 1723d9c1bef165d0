"""`xinye structure plan` at national scale reads and writes its files a column or a chunk at a time (issue 13,
item 8): the same business, the same row errors and the same PLAN.json as record by record."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import date

import orjson
import pytest
from django.core.management import call_command

from xinye.algorithms import structure, structure_io, tabular
from xinye.algorithms.errors import InputError
from xinye.algorithms.rules import get_rules
from xinye.algorithms.structure import Business, Member, Unit
from xinye.algorithms.structure.model import MemberTable


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
        [Member("a", "s1"), Member("a", "s2", "probationary")],  # duplicate id, one formal and one not
        [Member("a", "s1", "probationary"), Member("b", "s1", "probationary"), Member("a", "hq", "probationary")],
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


def _random_business(seed: int, n_units: int = 60, n_members: int = 700) -> Business:
    rng = random.Random(seed)
    units = [Unit("hq", None, "HQ")] + [
        Unit(f"u{i}", rng.choice(["hq", *(f"u{j}" for j in range(i))])) for i in range(n_units)
    ]
    members = [
        Member(f"m{rng.randrange(10**6)}-{i}", rng.choice(units).id, rng.choice(["formal", "formal", "probationary"]))
        for i in range(n_members)
    ]
    rng.shuffle(members)
    ids, unit_of, status = ([getattr(m, f) for m in members] for f in ("id", "unit", "status"))
    return Business.build_columns(units, ids, unit_of, status)


@pytest.mark.parametrize("seed", range(5))
def test_members_grouped_by_unit_as_one_at_a_time(seed):
    """`members_of` and `unit_formal` as appending each member to its unit's list, and counting formal members
    one by one, make them: the same lists, the same numbers, units in the same order."""
    business = _random_business(seed)
    table = business.members
    assert isinstance(table, MemberTable)
    members_of: dict[str, list[str]] = {}
    for mid, unit in zip(table.ids, table.units, strict=True):
        members_of.setdefault(unit, []).append(mid)
    for lst in members_of.values():
        lst.sort()
    formal = [u for u, st in zip(table.units, table.statuses, strict=True) if st == "formal"]
    assert list(business.members_of.items()) == list(members_of.items())
    assert list(business.unit_formal.items()) == list(Counter(formal).items())
    assert business.formal == {m for m, st in zip(table.ids, table.statuses, strict=True) if st == "formal"}
    ix = business._index()
    assert ix.ufor == [business.unit_formal.get(u, 0) for u in business.order]


def test_member_table_is_the_dict_of_members():
    business = _random_business(7, n_members=50)
    table = business.members
    assert isinstance(table, MemberTable)
    as_dict = {m: Member(m, u, st) for m, u, st in zip(table.ids, table.units, table.statuses, strict=True)}
    assert table == as_dict and as_dict == table and dict(table) == as_dict
    assert list(table) == list(as_dict) and len(table) == 50 and list(table.values()) == list(as_dict.values())
    first = table.ids[0]
    assert first in table and "nobody" not in table and None not in table
    assert table[first] == as_dict[first] and table.get("nobody") is None
    assert table.keys() - {first} == as_dict.keys() - {first}
    with pytest.raises(KeyError):
        table["nobody"]


def _each_under_floor_by_id(business: Business, units, members, floor: int) -> bool:
    """`_each_under_floor` as it was: each member's unit looked up among all the members."""
    ix = business._index()
    pos, end = ix.pos, ix.end
    if all(ix.formal_below()[pos[u]] < floor for u in units if u in pos):
        return True
    spans = sorted(((pos[u], end[pos[u]]) for u in units if u in pos), reverse=True)
    counts = [0] * len(spans)
    for m in members:
        if m not in business.formal:
            continue
        p = pos.get(business.members[m].unit, -1)
        for k, (lo, hi) in enumerate(spans):
            if lo <= p <= hi:
                counts[k] += 1
                if counts[k] >= floor:
                    return False
                break
    return True


@pytest.mark.parametrize("seed", range(4))
def test_each_under_floor_finds_the_units_of_members_either_way(seed):
    """Over a few units with few members, the members' units come from those units' lists; over a unit with
    many below it, from the business's members by id: the same answer as looking each one up."""
    rng = random.Random(seed)
    business = _random_business(seed, n_units=40, n_members=3000)
    levels = importlib.import_module("xinye.algorithms.structure.levels")
    everyone = list(business.members)
    for _ in range(60):
        units = rng.sample(["hq", *business.order[1:]], rng.choice([2, 3]))
        members = rng.sample(everyone, rng.choice([3, 10, 40]))
        members += rng.sample(members, 2)  # listed twice
        floor = rng.choice([1, 2, 3])
        want = _each_under_floor_by_id(business, units, members, floor)
        assert levels._each_under_floor(business, units, members, floor) == want


def test_plan_as_a_program_writes_the_plan_and_exits(tmp_path):
    """`xinye structure plan` run as a program ends the process itself once PLAN.json and its output are
    written (without freeing what it made): exit status 0, the whole output, the same PLAN.json as in-process."""
    business = _write(tmp_path, _units(), _members())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-m", "xinye.cli", "structure", "plan", str(business), "-o", str(tmp_path / "a.json")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith(f"written to {tmp_path / 'a.json'}\n") and "organizations" in out.stdout
    call_command("structure", "plan", str(business), "-o", str(tmp_path / "b.json"))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
