"""The structure auditor and planner: hand-checked trees, invariants, re-planning. Issue #3."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinye.algorithms.errors import InputError
from xinye.algorithms.rules import RulesError, get_rules
from xinye.algorithms.structure import Business, Member, Org, Unit, audit, diff_business, plan

CPC = get_rules("cpc")
TODAY = date(2026, 11, 29)


def members(unit: str, formal: int, probationary: int = 0, prefix: str | None = None) -> list[Member]:
    p = prefix or unit
    return [Member(f"{p}-f{i}", unit, "formal") for i in range(formal)] + [
        Member(f"{p}-p{i}", unit, "probationary") for i in range(probationary)
    ]


def city(stations: dict[str, tuple[int, int]], root_members: int = 0) -> Business:
    """hq -> line -> city -> stations; stations maps id -> (formal, probationary)."""
    units = [Unit("hq", None, "HQ"), Unit("line", "hq", "Line"), Unit("city", "line", "City", division="4403")]
    ms = members("city", root_members)
    for sid, (f, p) in stations.items():
        units.append(Unit(sid, "city", sid.upper(), "station", "440305"))
        ms += members(sid, f, p)
    return Business.build(units, ms)


def by_kind(p):
    return sorted((o.kind, o.units, len(o.members)) for o in p.organizations)


def placement(p):
    seen: dict[str, list[str]] = {}
    for o in p.organizations:
        if o.kind in CPC.branch_kinds:
            for m in o.members:
                seen.setdefault(m, []).append(o.id)
    return seen


# ---------------------------------------------------------------- rules


def test_rules_are_data_and_overridable():
    assert get_rules("union").primary_committee_at == 25
    assert get_rules("cpc", overrides={"branch_cap": 40}).branch_cap == 40
    with pytest.raises(RulesError, match="unknown rule set 'xyz'"):
        get_rules("xyz")
    with pytest.raises(RulesError, match="unknown figure 'cap'"):
        get_rules("cpc", overrides={"cap": 3})


# ---------------------------------------------------------------- tiny hand-checked plans


def test_each_station_with_three_formal_members_gets_its_own_branch():
    b = city({"s1": (3, 0), "s2": (5, 1)})
    p = plan(b, [], CPC)
    assert by_kind(p) == [("branch", ("s1",), 3), ("branch", ("s2",), 6)]
    assert p.stats["unplaced"] == 0


def test_small_stations_share_a_branch_on_their_parent_or_joint_branches_of_at_most_five_units():
    b = city({f"s{i}": (1, 0) for i in range(7)})
    p = plan(b, [], CPC)
    # seven stations of one formal member each, 7 members in all: one branch on the city covers them
    assert by_kind(p) == [("branch", ("city",), 7)]
    # too many for one branch on the city: joint branches of nearby stations
    b2 = city({f"s{i:02d}": (1, 4) for i in range(12)})
    p2 = plan(b2, [], CPC)
    joints = [o for o in p2.organizations if o.kind == "joint_branch"]
    assert len(joints) == 4 and all(len(o.units) == 3 for o in joints)
    assert sum(len(o.members) for o in joints) == 60 and p2.stats["unplaced"] == 0


def test_oversize_station_is_split_into_balanced_halves():
    b = city({"s1": (60, 20)})
    p = plan(b, [], CPC)
    sizes = sorted(len(o.members) for o in p.organizations if o.kind == "branch")
    assert sizes == [40, 40]
    assert all(o.units == ("s1",) for o in p.organizations if o.kind == "branch")
    # and the general branch on top (80 members over two branches)
    assert [o.kind for o in p.organizations if o.kind not in CPC.branch_kinds] == ["general_branch"]


def test_oversize_branch_on_the_city_is_split_along_its_stations():
    b = city({f"s{i}": (10, 2) for i in range(6)})  # 72 members
    current = [Org("big", None, "branch", ("city",), tuple(sorted(b.members)), "City branch")]
    p = plan(b, current, CPC)
    assert any(f.code == "branch_over_cap" and f.subject_id == "big" for f in p.findings)
    branches = [o for o in p.organizations if o.kind == "branch"]
    assert sorted(o.units for o in branches) == [(f"s{i}",) for i in range(6)]
    gb = [o for o in p.organizations if o.kind == "general_branch"]
    assert len(gb) == 1 and all(o.parent == gb[0].id for o in branches)
    assert not [f for f in p.remaining if f.code == "branch_over_cap"]


def test_primary_committee_at_one_hundred_members():
    b = city({f"s{i}": (18, 2) for i in range(6)})  # 120 members
    p = plan(b, [], CPC)
    top = [o for o in p.organizations if o.parent is None]
    assert [o.kind for o in top] == ["committee"]
    assert top[0].units == ("city",)  # where the business branches out, not the single-child chain above
    assert all(o.parent == top[0].id for o in p.organizations if o.kind == "branch")


def test_a_company_under_the_floor_gets_one_branch():
    b = city({"s1": (1, 0), "s2": (1, 0)})
    p = plan(b, [], CPC)
    assert by_kind(p) == [("branch", ("hq",), 2)] or by_kind(p) == [("branch", ("city",), 2)]
    assert p.stats["unplaced"] == 0


def test_valid_organizations_are_kept_with_their_ids():
    b = city({"s1": (4, 0), "s2": (4, 0), "s3": (1, 0)})
    current = [
        Org("B1", None, "branch", ("s1",), tuple(m for m in b.members if m.startswith("s1")), "S1 branch"),
        Org("B2", None, "branch", ("s2",), tuple(m for m in b.members if m.startswith("s2")), "S2 branch"),
    ]
    p = plan(b, current, CPC)
    ids = {o.id: o for o in p.organizations}
    assert "B1" in ids and "B2" in ids and ids["B1"].name == "S1 branch"
    assert p.stats["churn"] == 0
    # the small station's member joins the nearest branch with room, which becomes a joint branch
    assert p.stats["unplaced"] == 0 and p.stats["newly_placed"] == 1


def test_audit_names_every_kind_of_problem():
    units = [
        Unit("hq", None),
        Unit("c", "hq"),
        Unit("a", "c"),
        Unit("b", "c"),
        Unit("x", "c", status="dissolved"),
        Unit("d", "c"),
        Unit("e", "c"),
    ]
    ms = members("a", 2) + members("b", 60) + members("d", 4) + members("e", 1) + members("c", 1)
    b = Business.build(units, ms)
    orgs = [
        Org("top", None, "committee", ("c",), (), "Top", term_ends=date(2026, 1, 1)),
        Org("A", "top", "branch", ("a",), tuple(m for m in b.members if m.startswith("a")), "A"),
        Org("B", "top", "branch", ("b",), tuple(m for m in b.members if m.startswith("b")), "B", committee=False),
        Org("X", "top", "branch", ("x",), ("a-f0",), "X", term_ends=date(2027, 1, 15)),
        Org("J", "top", "joint_branch", ("a", "b", "c", "d", "e", "hq"), (), "J"),
    ]
    codes = {(f.code, f.subject_id) for f in audit(b, orgs, CPC, today=TODAY)}
    assert ("branch_below_floor", "A") in codes
    assert ("branch_over_cap", "B") in codes
    assert ("committee_due", "B") in codes
    assert ("general_branch_due", "B") in codes
    assert ("anchor_dissolved", "X") in codes
    assert ("member_in_two_branches", "a-f0") in codes
    assert ("members_in_no_branch", "e") in codes
    assert ("joint_branch_too_many_units", "J") in codes
    assert ("term_expired", "top") in codes
    assert ("term_expiring", "X") in codes
    for f in audit(b, orgs, CPC, today=TODAY):
        assert f.severity in ("error", "warning", "info") and f.message and f.suggestion
        if f.rule in CPC.sources:
            assert f.source


def test_units_without_organization_are_found_alone_and_in_groups():
    units = [Unit("hq", None), Unit("a", "hq"), Unit("b", "hq"), Unit("c", "hq"), Unit("d", "hq")]
    ms = members("a", 5) + members("b", 1) + members("c", 1) + members("d", 4)
    b = Business.build(units, ms)
    orgs = [Org("D", None, "branch", ("d",), tuple(m for m in b.members if m.startswith("d")))]
    found = {(f.code, f.subject_id, f.related) for f in audit(b, orgs, CPC, today=TODAY)}
    assert ("unit_without_organization", "a", ()) in found
    assert ("units_need_joint_branch", "b", ("b", "c")) not in found  # only 2 formal members together
    ms2 = ms + members("c", 1, prefix="c2")
    found2 = {(f.code, f.related) for f in audit(Business.build(units, ms2), orgs, CPC, today=TODAY)}
    assert ("units_need_joint_branch", ("b", "c")) in found2


def test_moved_unit_is_flagged():
    units = [Unit("hq", None), Unit("r1", "hq"), Unit("r2", "hq"), Unit("s", "r2")]
    b = Business.build(units, members("s", 3))
    orgs = [Org("R1", None, "general_branch", ("r1",)), Org("S", "R1", "branch", ("s",), tuple(b.members))]
    assert "anchor_moved" in {f.code for f in audit(b, orgs, CPC, today=TODAY)}


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("units", "ms", "message"),
    [
        ([Unit("a", None), Unit("a", None)], [], "duplicate unit id"),
        ([Unit("a", None), Unit("b", "zz")], [], "parent unit does not exist (value 'zz')"),
        ([Unit("a", "b"), Unit("b", "a")], [], "cycle"),
        ([Unit("a", None)], [Member("m", "nowhere")], "member in an unknown unit (value 'nowhere')"),
        ([Unit("a", None)], [Member("m", "a", "candidate")], "formal or probationary"),
    ],
)
def test_bad_business_input_names_the_record(units, ms, message):
    with pytest.raises(InputError) as exc:
        Business.build(units, ms)
    assert message in str(exc.value)


def test_bad_organizations_name_the_record():
    b = city({"s1": (3, 0)})
    with pytest.raises(InputError, match=r"organizations\[1\] \(id 'A'\), column 'id': duplicate"):
        plan(b, [Org("A", None, "branch", ("s1",)), Org("A", None, "branch", ("s1",))], CPC)
    with pytest.raises(InputError, match="member not in the business file"):
        plan(b, [Org("A", None, "branch", ("s1",), ("ghost",))], CPC)
    with pytest.raises(InputError, match="cycle"):
        plan(b, [Org("A", "B", "committee"), Org("B", "A", "committee")], CPC)
    with pytest.raises(InputError, match="kind must be one of"):
        plan(b, [Org("A", None, "club", ("s1",))], CPC)


# ---------------------------------------------------------------- re-planning


def test_replan_of_an_unchanged_business_changes_nothing():
    b = city({"s1": (12, 3), "s2": (2, 0), "s3": (1, 1), "s4": (70, 5), "s5": (4, 0)}, root_members=2)
    first = plan(b, [], CPC)
    second = plan(b, first.organizations, CPC)
    assert [o.to_json() for o in second.organizations] == [o.to_json() for o in first.organizations]
    assert second.stats["churn"] == 0 and second.stats["new"] == 0 and second.stats["dissolved"] == []


def test_diff_finds_added_removed_moved_merged_and_split_units():
    old_units = [
        Unit("hq", None),
        Unit("r1", "hq"),
        Unit("r2", "hq"),
        Unit("a", "r1"),
        Unit("b", "r1"),
        Unit("c", "r2", "C"),
    ]
    old_members = members("a", 4) + members("b", 4) + members("c", 10)
    new_units = [
        Unit("hq", None),
        Unit("r1", "hq"),
        Unit("r2", "hq"),
        Unit("a", "r1"),
        Unit("c", "r1", "C2"),
        Unit("c2", "r2"),
    ]
    new_members = (
        members("a", 4)
        + [Member(m.id, "a", m.status) for m in members("b", 4)]
        + [Member(f"c-f{i}", "c" if i < 5 else "c2") for i in range(10)]
    )
    d = diff_business(Business.build(old_units, old_members), Business.build(new_units, new_members))
    assert d.added == ["c2"] and d.removed == ["b"]
    assert d.moved == [{"unit": "c", "old_parent": "r2", "new_parent": "r1"}]
    assert d.renamed == [{"unit": "c", "old_name": "C", "new_name": "C2"}]
    assert d.merged == [{"units": ["b"], "into": "a"}]
    assert d.split == [{"unit": "c", "into": ["c", "c2"]}]
    assert diff_business(Business.build(old_units, old_members), Business.build(old_units, old_members)).unchanged


def test_replan_after_a_merge_keeps_untouched_branches():
    b1 = city({"s1": (5, 0), "s2": (5, 0), "s3": (3, 0)})
    p1 = plan(b1, [], CPC)
    # s3 is merged into s2 (its members move there)
    units = [u for u in b1.units.values() if u.id != "s3"] + [Unit("s3", "city", status="merged", merged_into="s2")]
    ms = [Member(m.id, "s2" if m.unit == "s3" else m.unit, m.status) for m in b1.members.values()]
    b2 = Business.build(units, ms)
    p2 = plan(b2, p1.organizations, CPC)
    before = {o.units: o.id for o in p1.organizations if o.kind == "branch"}
    after = {o.units: o.id for o in p2.organizations if o.kind == "branch"}
    assert after[("s1",)] == before[("s1",)] and after[("s2",)] == before[("s2",)]
    assert ("s3",) not in after and p2.stats["churn"] == 3  # only the merged station's members move


# ---------------------------------------------------------------- invariants (property-based)


@st.composite
def businesses(draw):
    n = draw(st.integers(1, 40))
    units = [Unit("u0", None, division="d0")]
    for i in range(1, n):
        parent = draw(st.integers(0, i - 1))
        units.append(Unit(f"u{i}", f"u{parent}", division=f"d{draw(st.integers(0, 3))}"))
    ms = []
    for u in units:
        f = draw(st.integers(0, 12))
        p = draw(st.integers(0, 3))
        ms += members(u.id, f, p)
        if draw(st.integers(0, 30)) == 0:
            ms += members(u.id, draw(st.integers(40, 90)), prefix=u.id + "x")
    return Business.build(units, ms)


@settings(max_examples=120, deadline=None)
@given(businesses())
def test_plan_invariants(b):
    p = plan(b, [], CPC)
    seen = placement(p)
    unplaced = {m for u in p.unplaced for m in u["members"]}
    # every member in exactly one branch, or reported unplaced with a reason
    assert all(len(v) == 1 for v in seen.values())
    assert set(seen) | unplaced == set(b.members) and not set(seen) & unplaced
    assert all(u["reason"] for u in p.unplaced)
    company_formal = sum(1 for m in b.members.values() if m.status == "formal")
    for o in p.organizations:
        if o.kind in CPC.branch_kinds:
            formal = sum(1 for m in o.members if b.members[m].status == "formal")
            # no branch under its floor unless the whole company is
            assert formal >= CPC.min_formal_members or company_formal < CPC.min_formal_members
            assert len(o.units) <= CPC.joint_max_units
            if len(o.units) > 1:
                # a joint branch only where each unit falls under the floor on its own (issue 13, item 3)
                own = dict.fromkeys(o.units, 0)
                for m in o.members:
                    if b.members[m].status == "formal":
                        at = next((u for u in [b.members[m].unit, *b.ancestors(b.members[m].unit)] if u in own), None)
                        if at is not None:
                            own[at] += 1
                each_under = all(n < CPC.min_formal_members for n in own.values())
                assert o.kind == ("joint_branch" if each_under else "branch"), (o, own)
    # the plan is a fixed point: re-planning it changes nothing
    again = plan(b, p.organizations, CPC)
    assert [o.to_json() for o in again.organizations] == [o.to_json() for o in p.organizations]
    # parents exist and form a tree
    ids = {o.id for o in p.organizations}
    assert all(o.parent is None or o.parent in ids for o in p.organizations)


def test_translated_finding_templates_use_the_same_fields_as_the_english_ones():
    from string import Formatter

    from xinye.algorithms.structure import MESSAGES
    from xinye.organizations.findings import TEMPLATES

    def fields(text):
        return {f for _, f, _, _ in Formatter().parse(str(text)) if f}

    assert set(TEMPLATES) == set(MESSAGES)
    for key, (message, suggestion) in MESSAGES.items():
        assert fields(TEMPLATES[key][0]) == fields(message), key
        assert fields(TEMPLATES[key][1]) == fields(suggestion), key


# ---------------------------------------------------------------- regressions found in review (issue #3)


def _all_placed_once(b, p):
    seen = [m for o in p.organizations if o.kind in CPC.branch_kinds for m in o.members]
    unplaced = [m for u in p.unplaced for m in u["members"]]
    assert len(seen) == len(set(seen)) and not set(seen) & set(unplaced)
    assert set(seen) | set(unplaced) == set(b.members)


def test_leftovers_joining_a_kept_branch_keep_the_members_it_covers():
    units = [Unit("hq", None), Unit("a", "hq"), Unit("c", "a")]
    ms = [Member("h0", "hq")] + [Member(f"a{i}", "a") for i in range(3)] + [Member(f"c{i}", "c") for i in range(2)]
    b = Business.build(units, ms)
    p = plan(b, [Org("A", None, "branch", ("a",), ("a0", "a1", "a2"))], CPC)
    _all_placed_once(b, p)
    assert p.stats["unplaced"] == 0


def test_a_unit_too_big_but_too_few_formal_members_to_split_stays_one_branch_and_replans_the_same():
    units = [Unit("hq", None), Unit("x", "hq"), Unit("d", "x", status="dissolved")]
    ms = (
        [Member(f"h{i}", "hq") for i in range(5)]
        + [Member("x0", "x")]
        + [Member(f"d{i}", "d", "probationary" if i >= 2 else "formal") for i in range(60)]
    )
    b = Business.build(units, ms)
    p = plan(b, [], CPC)
    _all_placed_once(b, p)
    again = plan(b, p.organizations, CPC)
    assert [o.to_json() for o in again.organizations] == [o.to_json() for o in p.organizations]


def test_members_of_a_dissolved_unit_join_their_first_active_unit():
    units = [Unit("hq", None), Unit("x", "hq"), Unit("d", "x", status="dissolved"), Unit("y", "hq")]
    ms = [Member(f"d{i}", "d") for i in range(2)] + [Member(f"y{i}", "y") for i in range(10)]
    b = Business.build(units, ms)
    p = plan(b, [], CPC)
    assert p.unplaced == []
    _all_placed_once(b, p)


def test_only_a_top_unit_with_enough_members_gets_a_primary_committee():
    units = [Unit("A", None), Unit("B", None)] + [Unit(f"a{i}", "A") for i in range(5)]
    ms = [Member(f"B{i}", "B") for i in range(4)] + [Member(f"a{i}-{k}", f"a{i}") for i in range(5) for k in range(25)]
    p = plan(Business.build(units, ms), [], CPC)
    committees = [o for o in p.organizations if o.kind == "committee"]
    assert [o.units for o in committees] == [("A",)]
