"""Community-based branch formation: hand-checked cases, invariants, files in and out. Issue #4."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from xinye.algorithms.branches import Branch, Community, Member, form_branches
from xinye.algorithms.errors import InputError

STEP = 0.005  # degrees of longitude: about 515 m at 22.5 degrees north


def line(n, street=lambda i: "s1"):
    return [Community(f"c{i}", 22.5, 114.0 + STEP * i, street(i)) for i in range(n)]


def members_at(counts: dict[str, int], status="formal"):
    out = []
    for c, k in counts.items():
        out += [Member(f"{c}-m{j}", c, status) for j in range(k)]
    return out


def test_a_line_of_communities_forms_as_many_branches_as_the_floor_allows():
    # six communities in a row, one formal member each: two branches of three neighbours
    p = form_branches(line(6), members_at({f"c{i}": 1 for i in range(6)}), floor=3, cap=50)
    assert sorted(b.communities for b in p.branches) == [("c0", "c1", "c2"), ("c3", "c4", "c5")]
    assert [b.anchor for b in sorted(p.branches, key=lambda b: b.communities)] == ["c1", "c4"]
    assert p.unplaced == []


def test_a_star_anchors_at_its_centre():
    centre = Community("hub", 22.5, 114.0, "s1")
    arms = [
        Community(f"a{i}", 22.5 + 0.004 * dy, 114.0 + 0.004 * dx, "s1")
        for i, (dx, dy) in enumerate([(1, 0), (-1, 0), (0, 1), (0, -1)])
    ]
    p = form_branches([centre, *arms], members_at({"hub": 1, "a0": 1, "a1": 1, "a2": 1, "a3": 1}), floor=5)
    assert len(p.branches) == 1 and p.branches[0].anchor == "hub"


def test_an_isolated_community_is_reported_with_the_reason():
    cs = line(3) + [Community("far", 23.5, 115.0, "s9")]
    p = form_branches(cs, members_at({"c0": 1, "c1": 1, "c2": 1, "far": 2}), floor=3)
    assert len(p.branches) == 1
    assert {u["member"] for u in p.unplaced} == {"far-m0", "far-m1"}
    assert all(u["reason"].startswith("isolated") and u["suggestion"] for u in p.unplaced)


def test_a_big_community_is_split_into_balanced_branches_under_the_cap():
    p = form_branches(line(1), members_at({"c0": 120}), floor=3, cap=50)
    assert sorted(len(b.members) for b in p.branches) == [40, 40, 40]
    assert len({b.id for b in p.branches}) == 3


def test_branches_prefer_not_to_cross_street_boundaries():
    # c0 c1 c2 | c3 c4 c5: streets change in the middle; two branches, one per street
    cs = line(6, street=lambda i: "east" if i < 3 else "west")
    p = form_branches(cs, members_at({f"c{i}": 1 for i in range(6)}), floor=3)
    for b in p.branches:
        assert len({cs[int(c[1:])].street for c in b.communities}) == 1


def test_members_beyond_the_work_radius_are_not_grown_into_a_branch():
    cs = [Community("a", 22.5, 114.0, "s"), Community("b", 22.5, 114.05, "s")]  # about 5 km apart
    p = form_branches(cs, members_at({"a": 2, "b": 2}), floor=3, radius_km=3, max_edge_km=10)
    assert p.branches == [] and len(p.unplaced) == 4
    assert len(form_branches(cs, members_at({"a": 2, "b": 2}), floor=3, radius_km=6).branches) == 1


def test_valid_existing_branches_are_kept_with_their_ids():
    cs = line(6)
    ms = members_at({f"c{i}": 1 for i in range(6)})
    existing = [Branch("B7", "c2", ("c1", "c2", "c3"), ())]
    p = form_branches(cs, ms, floor=3, existing=existing)
    kept = [b for b in p.branches if b.id == "B7"]
    assert kept and kept[0].communities == ("c1", "c2", "c3")


def test_bad_input_names_the_record():
    with pytest.raises(InputError, match=r"members\[0\] \(id 'm'\), column 'community'"):
        form_branches(line(2), [Member("m", "nowhere")])
    with pytest.raises(InputError, match="duplicate community code"):
        form_branches([Community("a", 22.5, 114.0), Community("a", 22.5, 114.1)], [])


@st.composite
def cities(draw):
    n = draw(st.integers(1, 40))
    cs = [
        Community(
            f"c{i}", 22.5 + draw(st.floats(0, 0.05)), 114.0 + draw(st.floats(0, 0.05)), f"s{draw(st.integers(0, 3))}"
        )
        for i in range(n)
    ]
    ms = []
    for c in cs:
        for j in range(draw(st.integers(0, 10))):
            ms.append(Member(f"{c.code}-{j}", c.code, draw(st.sampled_from(["formal", "formal", "probationary"]))))
    return cs, ms


@settings(max_examples=100, deadline=None)
@given(cities())
def test_invariants_connected_floor_cap_and_every_member_placed_or_reported(city):
    from xinye.algorithms.branches import _City, _connected

    cs, ms = city
    p = form_branches(cs, ms, floor=3, cap=50)
    placed = [m for b in p.branches for m in b.members]
    unplaced = [u["member"] for u in p.unplaced]
    assert len(placed) == len(set(placed)) and not set(placed) & set(unplaced)
    assert set(placed) | set(unplaced) == {m.id for m in ms}
    status = {m.id: m.status for m in ms}
    graph = _City({c.code: c for c in cs}, {m.id: m for m in ms}, 6000.0)
    for b in p.branches:
        assert sum(status[m] == "formal" for m in b.members) >= 3
        assert len(b.members) <= 50
        assert b.anchor in b.communities
        assert _connected([graph.index[c] for c in b.communities], graph.neighbours)


def test_cli_writes_the_plan_and_reports_bad_rows(tmp_path):
    c = tmp_path / "communities.csv"
    c.write_text(
        "code,lat,lon,street\n" + "".join(f"c{i},22.5,{114 + STEP * i},s1\n" for i in range(6)), encoding="utf-8"
    )
    m = tmp_path / "members.csv"
    m.write_text(
        "id,community,status,occupation\n" + "".join(f"m{i},c{i},formal,courier\n" for i in range(6)), encoding="utf-8"
    )
    out = tmp_path / "plan.json"
    call_command("branches", "plan", str(c), str(m), "-o", str(out), "--radius", "courier=2")
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert len(plan["branches"]) == 2 and plan["unplaced"] == []
    assert {"id", "anchor", "communities", "members"} <= set(plan["branches"][0])
    bad = tmp_path / "bad.csv"
    bad.write_text("id,community,status\nm1,c0,formal\nm2,zz,formal\nm3,c1,member\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("branches", "plan", str(c), str(bad), "-o", str(tmp_path / "x.json"))
    assert "row 3, column 'community': not in the communities file (value 'zz')" in str(exc.value)
    assert "row 4, column 'status'" in str(exc.value)
    assert not (tmp_path / "x.json").exists()
