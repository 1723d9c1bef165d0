"""Audit: findings on an organization tree (the rules, counted over the business tree).

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import date, timedelta
from itertools import chain, compress, repeat

import numpy as np

from ..rules import RuleSet
from .levels import _anchor_of, _branch_kind, _desired_uppers, _kept_committees, _kind_label
from .model import Business, Finding, Org, _Listing, _segment_sums, no_gc

# ----------------------------------------------------------------------------------------------- audit


#: English texts of each finding: (message, suggestion) templates over the finding's `params`. The web pages
#: translate the same templates (see xinye.organizations.findings), so the two must keep the same fields.
MESSAGES: dict[str, tuple[str, str]] = {
    "member_in_two_branches": (
        "member {member} is in {count} branches: {branches}",
        "keep the member in the branch of their unit and remove them from the others",
    ),
    "members_in_no_branch": (
        "{count} member(s) of unit {unit} are in no branch",
        "place them in the branch of their unit, or set one up",
    ),
    "members_in_no_branch_subtree": (
        "{count} member(s) in unit {unit} and the units under it are in no branch",
        "set up branches for them (see the units without an organization)",
    ),
    "branch_below_floor": (
        "{org} has {formal} formal member(s), fewer than {floor}",
        "merge it into a joint branch with nearby units, or into the branch of its parent unit",
    ),
    "branch_below_floor_whole": (
        "{org} has {formal} formal member(s), fewer than {floor}",
        "the whole company has fewer formal members: keep it",
    ),
    "branch_over_cap": ("{org} has {total} members, more than {cap}", "split it along its sub-units"),
    "branch_over_cap_leaf": ("{org} has {total} members, more than {cap}", "split it into balanced branches"),
    "general_branch_due": (
        "{org} has {total} members: {threshold} or more call for a general branch",
        "set up a general branch with branches under it",
    ),
    "committee_due": (
        "{org} has {formal} formal members but no branch committee",
        "elect a branch committee (with {threshold} or more formal members)",
    ),
    "joint_branch_too_many_units": (
        "{org} covers {count} units, more than {limit}",
        "split it into joint branches of nearby units",
    ),
    "primary_committee_due": (
        "{org} has {total} members and no primary committee",
        "set up a primary committee ({threshold} or more members)",
    ),
    "anchor_missing": (
        "{org} is anchored to unit {unit}, which no longer exists",
        "re-anchor it to the unit that took over, or dissolve it",
    ),
    "anchor_dissolved": ("{org} is anchored to unit {unit}, which was {status}", "re-anchor it or dissolve it"),
    "anchor_merged": ("{org} is anchored to unit {unit}, which was {status}", "re-anchor it to {target}"),
    "anchor_moved": (
        "unit {unit} of {org} is no longer under {parent}'s units",
        "move the organization under the one that covers its unit",
    ),
    "joint_branch_not_joint": (
        "{org} is a joint branch, but one of its units has {floor} or more formal members on its own",
        "call it a branch of that unit, which takes in the members of the others",
    ),
    "joint_branch_one_unit": ("{org} is a joint branch of one unit", "call it a branch"),
    "branch_is_joint": (
        "{org} covers several units, each with fewer than {floor} formal members on its own",
        "call it a joint branch",
    ),
    "members_outside_branch": (
        "{count} member(s) listed in {org} work in units it does not cover",
        "move them to the branch of their unit",
    ),
    "upper_level_due": (
        "unit {unit} leads {total} members in {branches} branches and has no {kind}",
        "set up a {kind} on {unit}",
    ),
    "upper_level_kind": (
        "{org} leads {total} members in {branches} branches: the rules call for a {kind}",
        "make it a {kind}",
    ),
    "upper_level_not_needed": (
        "{org} is not called for by the rules: its unit does not gather enough members over several branches",
        "dissolve it; its organizations go under the one above",
    ),
    "committee_below_threshold": (
        "{org} leads {total} members, fewer than {threshold}: kept, as it was approved",
        "no change is needed while the higher organization keeps its approval",
    ),
    "congress_due": (
        "{org} leads {total} members: with {threshold} or more, a congress is held instead of a general meeting",
        "elect the committee at a congress of delegates",
    ),
    "parent_not_nearest": ("{org} sits under {parent}, but {expected} leads its unit", "move it under {expected}"),
    "secretary_missing": ("{org} has no secretary", "elect or appoint a secretary"),
    "committee_size": (
        "the committee of {org} has {size} members; the rules set {fewest} to {usual} (at most {most})",
        "elect the committee again at a size within the rules",
    ),
    "term_expired": ("the term of {org} ended on {date}", "hold an election"),
    "term_expiring": ("the term of {org} ends on {date}", "prepare the election"),
    "unit_without_organization": (
        "unit {unit} has {formal} formal members and no organization",
        "set up a branch on {unit}",
    ),
    "units_need_joint_branch": (
        "{count} unit(s) under {parent} have fewer than {floor} formal members each and no organization",
        "set up a joint branch for {units}",
    ),
}


def _finding(
    rules: RuleSet,
    code: str,
    severity: str,
    rule: str,
    subject: str,
    subject_id: str,
    related=(),
    *,
    text: str | None = None,
    **params,
) -> Finding:
    message, suggestion = MESSAGES[text or code]
    params = {k: str(v) for k, v in params.items()}
    return Finding(
        code,
        severity,
        rule,
        rules.source(rule),
        subject,
        subject_id,
        message.format(**params),
        suggestion.format(**params),
        tuple(related),
        text or code,
        params,
    )


def audit(business: Business, orgs: Sequence[Org], rules: RuleSet, *, today: date | None = None) -> list[Finding]:
    """Every finding about `orgs` against `business` under `rules`, most severe first."""
    with no_gc():
        return _audit(business, orgs, rules, today=today)


_COLUMNS = ("id", "kind", "units", "members", "parent", "committee", "term_ends")


def _audit(
    business: Business,
    orgs: Sequence[Org],
    rules: RuleSet,
    *,
    today: date | None = None,
    listing: _Listing | None = None,
    placement: tuple[list[int], AbstractSet[str]] | None = None,
    anchor_of: dict[str, int] | None = None,
) -> list[Finding]:
    """`audit`; `listing` may pass the members `orgs` list (`_Listing.of(business, orgs)`), made already;
    `placement`, when every member is listed once except some (the planner's own tree): the number of formal
    members of each branch (in the order of `orgs`) and the members no branch lists; `anchor_of`, the position
    of each branch's anchor (by id) as the planner placed it."""
    today = today or date.today()  # noqa: DTZ011 - a calendar date; callers in the apps pass their local date
    findings: list[Finding] = []
    # the organizations' fields as columns (a national plan has over 100,000 organizations)
    columns = list(zip(*map(operator.attrgetter(*_COLUMNS), orgs), strict=True)) or [()] * len(_COLUMNS)
    ids, kinds, units_of, members_of_org, parent_ids, committees, terms = columns
    by_id = dict(zip(ids, orgs, strict=True))
    is_branch = list(map(frozenset(rules.branch_kinds).__contains__, kinds))
    branches = list(compress(orgs, is_branch))
    company_formal = len(business.formal)
    ix = business._index()

    def add(*args, **kwargs):
        findings.append(_finding(rules, *args, **kwargs))

    # members: in no branch, or in two. Each listed once (the usual case) is settled in bulk: by member index
    # when the members are indexed already (re-planning), else with one set; otherwise member by member.
    members_of = business.members_of
    lens = np.fromiter(map(len, compress(members_of_org, is_branch)), dtype=np.int64, count=len(branches))
    n_listed = int(lens.sum())
    formal_of: np.ndarray | list[int] | None = None
    absent: AbstractSet[str] | None = None  # members of the business no branch lists (by id)
    missing: np.ndarray | None = None  # the same, by member index
    if placement is not None:
        formal_of, absent = placement
    elif not n_listed:
        absent = business.members.keys()
        formal_of = [0] * len(branches)
    elif listing is not None or business._mx is not None:
        mx = business._members_index()
        listed = (listing or _Listing.of(business, orgs)).subset(is_branch)
        if not (listed.flat < 0).any():
            counts = np.bincount(listed.flat, minlength=len(mx.ids))
            if not (counts > 1).any():
                missing = np.flatnonzero(counts == 0)
                formal_of = listed.sums(mx.formal[listed.flat])
    if formal_of is None:
        placed: set[str] | dict[str, list[str] | None] = set(chain.from_iterable(b.members for b in branches))
        if len(placed) == n_listed:
            flags = np.fromiter(
                map(business.formal.__contains__, chain.from_iterable(b.members for b in branches)),
                dtype=bool,
                count=n_listed,
            )
            formal_of = _segment_sums(flags, np.concatenate(([0], np.cumsum(lens))))
            absent = business.members.keys() - placed
        else:  # someone is listed twice: find where
            placed = dict.fromkeys(chain.from_iterable(b.members for b in branches))
            seen: dict[str, list[str]] = defaultdict(list)
            for b in branches:
                for m in b.members:
                    seen[m].append(b.id)
            placed.update(seen)
            for mid, where in placed.items():
                if where is None or len(where) < 2:
                    continue
                member = business.members[mid]
                if len(where) > 1:
                    add(
                        "member_in_two_branches",
                        "error",
                        "placement",
                        "member",
                        member.id,
                        where,
                        member=member.id,
                        count=len(where),
                        branches=", ".join(_olabel(by_id[w]) for w in where),
                    )
            absent = business.members.keys() - placed.keys()
            # a member listed twice in one branch counts once among the formal members
            formal_set = business.formal
            formal_of = [len(formal_set.intersection(b.members)) for b in branches]
    # the members of each unit that no branch lists, units in members_of's order (read only: not copied)
    unplaced_by_unit: dict[str, Sequence[str]] = {}
    if absent is not None:
        n_missing = len(absent)
    else:
        assert missing is not None  # set above whenever `absent` is not
        n_missing = len(missing)
    if n_missing == len(business.members):
        unplaced_by_unit = {u: ms for u, ms in members_of.items() if ms}
    elif n_missing and absent is not None:
        units_missing = {business.members[m].unit for m in absent}
        for u, ms in members_of.items():
            if u in units_missing:
                lst = [m for m in ms if m in absent]
                if lst:
                    unplaced_by_unit[u] = lst
    elif n_missing and missing is not None:
        # member indices run unit by unit (members_of's order), each unit's members in id order
        unit_of = np.searchsorted(mx.starts, missing, side="right") - 1
        cuts = [0, *(np.flatnonzero(np.diff(unit_of)) + 1).tolist(), len(missing)]
        missing_ids = [mx.ids[j] for j in missing.tolist()]
        unit_of_l = unit_of.tolist()
        for s, e in zip(cuts, cuts[1:], strict=False):
            unplaced_by_unit[mx.unit_ids[unit_of_l[s]]] = missing_ids[s:e]
    # the position of each organization's units (-1: not a unit of the business), one organization after the other
    unit_lens = np.fromiter(map(len, units_of), dtype=np.int64, count=len(orgs))
    unit_pos = np.fromiter(
        map(ix.pos.get, chain.from_iterable(units_of), repeat(-1)), dtype=np.int64, count=int(unit_lens.sum())
    )
    active_a = ix.active_or_not()  # position -1: no unit, not active
    at = unit_pos[np.repeat(np.asarray(is_branch, dtype=bool), unit_lens)]
    covered, below = _coverage(business, at[active_a[at]])
    if unplaced_by_unit:
        # members in a subtree with no branch at all are reported once for the whole subtree (its top unit);
        # elsewhere, unit by unit. Such subtrees are closed downwards, so each is the range of its top unit.
        bare = ~covered & ~below
        parent_a = np.asarray(ix.parent, dtype=np.int64)
        top = bare & ((parent_a < 0) | ~bare[np.maximum(parent_a, 0)])
        top_of = np.maximum.accumulate(np.where(top, np.arange(ix.n), -1)).tolist()
        bare_l = bare.tolist()
        pos, order = ix.pos, business.order
        grouped: dict[tuple[str, bool], list[Sequence[str]]] = defaultdict(list)  # the lists, joined once below
        for u, unit_missing in unplaced_by_unit.items():
            i = pos[u]
            grouped[(order[top_of[i]], True) if bare_l[i] else (u, False)].append(unit_missing)
        for (u, subtree), lists in sorted(grouped.items()):
            joined = tuple(chain.from_iterable(lists))
            add(
                "members_in_no_branch",
                "error",
                "placement",
                "unit",
                u,
                joined,
                text="members_in_no_branch_subtree" if subtree and business.children.get(u) else None,
                count=len(joined),
                unit=_label(business, u),
            )

    # branches: floor, cap, committee, general-branch threshold, joint size (only those with a finding are
    # looked at one by one)
    floor, cap = rules.min_formal_members, rules.branch_cap
    formal_a = np.asarray(formal_of, dtype=np.int64)
    total_a = lens
    flagged = (formal_a < floor) | (total_a > cap)
    flagged |= (formal_a >= rules.committee_at) & np.fromiter(
        map(operator.is_, compress(committees, is_branch), repeat(False)), dtype=bool, count=len(branches)
    )
    flagged |= np.fromiter(
        map(rules.joint_kind.__eq__, compress(kinds, is_branch)), dtype=bool, count=len(branches)
    ) & (unit_lens[np.asarray(is_branch, dtype=bool)] > rules.joint_max_units)
    flagged |= (unit_lens[np.asarray(is_branch, dtype=bool)] > 1) | np.fromiter(
        map(rules.joint_kind.__eq__, compress(kinds, is_branch)), dtype=bool, count=len(branches)
    )
    for k in np.flatnonzero(flagged).tolist():
        b = branches[k]
        formal, total = int(formal_a[k]), int(total_a[k])
        if (len(b.units) > 1 or b.kind == rules.joint_kind) and (
            want := _branch_kind(business, b.units, b.members, rules)
        ) != b.kind:
            add(
                "branch_kind",
                "warning",
                "joint_max_units",
                "organization",
                b.id,
                b.units,
                text="branch_is_joint"
                if want != rules.branch_kind
                else ("joint_branch_not_joint" if len(b.units) > 1 else "joint_branch_one_unit"),
                org=_olabel(b),
                floor=floor,
            )
        if formal < floor:
            whole = company_formal < floor
            add(
                "branch_below_floor",
                "info" if whole else "error",
                "min_formal_members",
                "organization",
                b.id,
                text="branch_below_floor_whole" if whole else None,
                org=_olabel(b),
                formal=formal,
                floor=floor,
            )
        if total > cap:
            has_sub = any(business.children.get(u) for u in b.units if u in business.units)
            add(
                "branch_over_cap",
                "warning",
                "branch_cap",
                "organization",
                b.id,
                text=None if has_sub else "branch_over_cap_leaf",
                org=_olabel(b),
                total=total,
                cap=cap,
            )
        if total > cap and total >= rules.general_branch_at:  # its parts would need a general branch
            add(
                "general_branch_due",
                "warning",
                "general_branch_at",
                "organization",
                b.id,
                org=_olabel(b),
                total=total,
                threshold=rules.general_branch_at,
            )
        if formal >= rules.committee_at and b.committee is False:
            add(
                "committee_due",
                "warning",
                "committee_at",
                "organization",
                b.id,
                org=_olabel(b),
                formal=formal,
                threshold=rules.committee_at,
            )
        if len(b.units) > rules.joint_max_units:
            add(
                "joint_branch_too_many_units",
                "error",
                "joint_max_units",
                "organization",
                b.id,
                b.units,
                org=_olabel(b),
                count=len(b.units),
                limit=rules.joint_max_units,
            )

    # members listed in a branch that does not cover their unit (the nearest branch up the business tree covers
    # it; the planner's own tree, passed with `placement`, lists every member in the branch of their unit)
    if placement is None and n_listed:
        for k, outside in _outside_regions(business, branches, listing, is_branch, orgs):
            b = branches[k]
            add(
                "members_outside_branch",
                "warning",
                "placement",
                "organization",
                b.id,
                outside,
                org=_olabel(b),
                count=len(outside),
            )

    # upper levels: those the rules call for over the branches as they are, by the planner's own rule
    # (`_desired_uppers`), against those there are; then each organization's parent against the nearest upper
    # level above it
    branch_anchors = (
        [anchor_of[b.id] for b in branches] if anchor_of is not None else _branch_anchors(business, branches)
    )
    _audit_upper_levels(business, orgs, branches, branch_anchors, lens, rules, add)

    # anchors: missing, dissolved or merged units; moved out from under the parent organization. Findings
    # of different codes may be made in any order (they are sorted at the end): units that do not exist or
    # are not active are few, so they are found in bulk first
    units = business.units
    unit_starts = np.zeros(len(orgs) + 1, dtype=np.int64)
    np.cumsum(unit_lens, out=unit_starts[1:])
    odd = np.flatnonzero(~active_a[unit_pos])
    odd_org = (np.searchsorted(unit_starts, odd, side="right") - 1).tolist()
    for k, j in zip(odd.tolist(), odd_org, strict=True):
        o = orgs[j]
        u = o.units[k - int(unit_starts[j])]
        unit = units.get(u)
        if unit is None:
            add("anchor_missing", "error", "anchor", "organization", o.id, [u], org=_olabel(o), unit=u)
        else:
            add(
                "anchor_dissolved",
                "error",
                "anchor",
                "organization",
                o.id,
                [u],
                text="anchor_merged" if unit.merged_into else None,
                org=_olabel(o),
                unit=_label(business, u),
                status=unit.status,
                target=_label(business, unit.merged_into),
            )
    # moved: a unit of the organization outside the subtrees of its parent's units. A parent on one unit is
    # checked for all its children at once; others one by one
    end = ix.end
    spans_of: dict[str | None, tuple[int, int, int]] = {None: (-2, -2, -2)}  # parent id -> (lo, hi, units)
    for pid in set(parent_ids):
        parent = by_id.get(pid) if pid else None
        if parent is None or not parent.units:
            spans_of[pid] = (-2, -2, -2)  # not checked
        elif len(parent.units) == 1 and parent.units[0] in ix.pos:
            anchor = ix.pos[parent.units[0]]
            spans_of[pid] = (anchor, end[anchor], 1)
        else:
            spans_of[pid] = (-1, -1, 0)  # one by one
    spans = np.asarray(list(map(spans_of.__getitem__, parent_ids)), dtype=np.int64).reshape(len(orgs), 3)
    per_unit = np.repeat(spans, unit_lens, axis=0)
    one = per_unit[:, 2] == 1
    lo, hi = per_unit[:, 0], per_unit[:, 1]
    moved = one & (unit_pos >= 0) & (unit_pos != lo) & ~((lo < unit_pos) & (unit_pos <= hi))
    hits = np.flatnonzero(moved)
    hit_org, first = np.unique(np.searchsorted(unit_starts, hits, side="right") - 1, return_index=True)
    first_moved = dict(zip(hit_org.tolist(), hits[first].tolist(), strict=True))  # each one's first moved unit
    slow = set(np.flatnonzero((spans[:, 2] == 0) & (unit_lens > 0)).tolist())
    for j in sorted(slow | first_moved.keys()):
        o = orgs[j]
        if not o.units:
            continue
        parent = by_id[o.parent]
        anchors = set(parent.units)
        if j in slow:
            ranges = [(ai, end[ai]) for a in anchors if (ai := ix.pos.get(a)) is not None]
            start = int(unit_starts[j])
            found = next(
                (
                    u
                    for k, u in enumerate(o.units)
                    if (i := int(unit_pos[start + k])) >= 0
                    and u not in anchors
                    and not any(top_i < i <= last for top_i, last in ranges)
                ),
                None,
            )
            if found is None:
                continue
            u = found
        else:
            u = o.units[first_moved[j] - int(unit_starts[j])]
        add(
            "anchor_moved",
            "warning",
            "anchor",
            "organization",
            o.id,
            [u],
            unit=_label(business, u),
            org=_olabel(o),
            parent=_olabel(parent),
        )

    # parents: the nearest upper level at or above the anchor (strictly above, for an upper level), as the
    # planner links them; an organization whose units moved out from under its parent is reported above
    moved_ids = {f.subject_id for f in findings if f.code == "anchor_moved"}
    for o, expected in _misplaced(business, orgs, branches, branch_anchors, rules):
        if o.id not in moved_ids:
            add(
                "parent_not_nearest",
                "warning",
                "anchor",
                "organization",
                o.id,
                [expected.id],
                org=_olabel(o),
                parent=_olabel(by_id[o.parent]) if o.parent in by_id else "-",
                expected=_olabel(expected),
            )

    # posts: a secretary in office; the committee's size within the rule set's figures (only organizations
    # with a known post are looked at one by one)
    secretaries = list(map(operator.attrgetter("secretary"), orgs))
    sizes_known = list(map(operator.attrgetter("committee_size"), orgs))
    if False in secretaries:
        message, suggestion = MESSAGES["secretary_missing"]
        source = rules.source("secretary")
        for o in compress(orgs, map(operator.is_, secretaries, repeat(False))):
            label = _olabel(o)
            findings.append(
                Finding(
                    "secretary_missing",
                    "warning",
                    "secretary",
                    source,
                    "organization",
                    o.id,
                    message.format(org=label),
                    suggestion,
                    (),
                    "secretary_missing",
                    {"org": label},
                )
            )
    for o in compress(orgs, sizes_known):
        sizes = rules.committee_size(o.kind)
        size = o.committee_size or 0
        if sizes and (o.committee is True or o.kind in rules.upper_kinds):
            fewest, usual, most = sizes
            if not fewest <= size <= most:
                add(
                    "committee_size",
                    "warning",
                    "committee_sizes",
                    "organization",
                    o.id,
                    org=_olabel(o),
                    size=o.committee_size,
                    fewest=fewest,
                    usual=usual,
                    most=most,
                )

    # terms
    soon = today + timedelta(days=rules.expiring_days)
    for o, ends in compress(zip(orgs, terms, strict=True), map(operator.is_not, terms, repeat(None))):
        if ends < today:
            add(
                "term_expired",
                "error",
                "term_years",
                "organization",
                o.id,
                org=_olabel(o),
                date=ends.isoformat(),
            )
        elif ends <= soon:
            add(
                "term_expiring",
                "warning",
                "term_years",
                "organization",
                o.id,
                org=_olabel(o),
                date=ends.isoformat(),
            )

    # units with enough formal members and no organization; groups of small units without one
    findings.extend(_unorganized_units(business, rules, covered, below))
    return _sorted(findings)


_RANK = {"error": 0, "warning": 1, "info": 2}


def _sorted(findings: list[Finding]) -> list[Finding]:
    """The findings by severity (errors first), code and subject, as a stable sort on that key orders them.

    Done as a stable sort by subject, then by the rank of (severity, code) as a number: a handful of distinct
    pairs, ranked once, rather than a tuple made and compared for each of 150,000 findings (a national plan)."""
    findings.sort(key=operator.attrgetter("subject_id"))
    pairs = list(map(operator.attrgetter("severity", "code"), findings))
    ranked = sorted(set(pairs), key=lambda p: (_RANK[p[0]], p[1]))
    number = dict(zip(ranked, range(len(ranked)), strict=True))
    keys = list(map(number.__getitem__, pairs))
    return [findings[k] for k in sorted(range(len(findings)), key=keys.__getitem__)]


_UPPER_RULE = {
    "committee": "primary_committee_at",
    "secondary": "secondary_committee_at",
    "general": "general_branch_at",
}


def _upper_rule(rules: RuleSet, kind: str) -> str:
    role = {rules.committee_kind: "committee", rules.secondary_kind: "secondary"}.get(kind, "general")
    return _UPPER_RULE[role]


def _branch_anchors(business: Business, branches: Sequence[Org]) -> list[int]:
    """The position of each branch's anchor: its unit, or its active units' lowest common ancestor (-1: none)."""
    ix = business._index()
    pos, active = ix.pos, ix.active_or_not()
    first = np.fromiter(
        (pos.get(b.units[0], -1) if len(b.units) == 1 else -1 for b in branches), dtype=np.int64, count=len(branches)
    )
    out = np.where(active[first], first, -1).tolist()
    for k, b in enumerate(branches):
        if len(b.units) > 1:
            at = [pos[u] for u in sorted(b.units) if u in pos and active[pos[u]]]
            out[k] = _anchor_of(ix, at) if at else -1
    return out


def _audit_upper_levels(
    business: Business, orgs: Sequence[Org], branches: Sequence[Org], anchors: list[int], sizes, rules, add
) -> None:
    """Findings on the upper levels: one the rules call for that is missing, of another kind, not called for,
    or an approved committee kept below its figure (a note)."""
    kept = _kept_committees(business, orgs, rules)
    desired = _desired_uppers(business, anchors, sizes, kept, rules)
    ix = business._index()
    at_unit: dict[int, Org] = {}
    upper_kinds = rules.upper_kinds
    for o in orgs:
        if o.kind in upper_kinds and len(o.units) == 1 and o.units[0] in ix.pos:
            at_unit.setdefault(ix.pos[o.units[0]], o)
    matched: set[str] = set()
    order = business.order
    for i, kind, below, total, n_branches in desired:
        found = at_unit.get(i)
        params = {"kind": _kind_label(kind), "kind_code": kind, "total": total, "branches": n_branches}
        if found is None:
            u = order[i]
            add("upper_level_due", "warning", _upper_rule(rules, kind), "unit", u, unit=_label(business, u), **params)
            continue
        o = found
        matched.add(o.id)
        if kind == o.kind and kind != rules.general_kind and rules.congress_at and total >= rules.congress_at:
            add("congress_due", "info", "congress_at", "organization", o.id, org=_olabel(o), total=total,
                threshold=rules.congress_at)  # fmt: skip
        if o.kind != kind:
            add("upper_level_kind", "warning", _upper_rule(rules, kind), "organization", o.id, org=_olabel(o), **params)
        elif below:
            threshold = rules.primary_committee_at if kind == rules.committee_kind else rules.secondary_committee_at
            add(
                "committee_below_threshold",
                "info",
                _upper_rule(rules, kind),
                "organization",
                o.id,
                org=_olabel(o),
                total=total,
                threshold=threshold,
            )
    for o in orgs:
        if o.kind in upper_kinds and o.id not in matched:
            add("upper_level_not_needed", "warning", "general_branch_at", "organization", o.id, org=_olabel(o))


def _outside_regions(
    business: Business,
    branches: Sequence[Org],
    listing: _Listing | None,
    is_branch: Sequence[bool],
    orgs: Sequence[Org],
) -> list[tuple[int, list[str]]]:
    """(branch number, its listed members whose unit it does not cover) for each branch that lists such members:
    a unit is covered by the branches anchored at the nearest unit at or above it that anchors any (members of
    the business only; strangers are validation errors)."""
    ix = business._index()
    pos, active, parent = ix.pos, ix.active, ix.parent
    anchored = np.zeros(ix.n, dtype=bool)
    for b in branches:
        for u in b.units:
            i = pos.get(u)
            if i is not None and active[i]:
                anchored[i] = True
    nearest = [-1] * ix.n
    anchored_l = anchored.tolist()
    for i in range(ix.n):  # pre-order: a unit's parent comes first
        nearest[i] = i if anchored_l[i] else (nearest[parent[i]] if parent[i] >= 0 else -1)
    mx = business._members_index()
    listed = (listing or _Listing.of(business, orgs)).subset(is_branch)
    known = listed.flat >= 0
    # the unit position of each member index, and the nearest anchored unit of each listed member
    unit_pos = np.repeat(
        np.fromiter((pos[u] for u in mx.unit_ids), dtype=np.int64, count=len(mx.unit_ids)), np.diff(mx.starts)
    )
    near = np.asarray(nearest, dtype=np.int64)[unit_pos[np.where(known, listed.flat, 0)]]
    first_pos = np.fromiter(
        (pos.get(b.units[0], -2) if b.units else -2 for b in branches), dtype=np.int64, count=len(branches)
    )
    owner = np.repeat(np.arange(len(branches)), listed.lens)
    bad = known & (near != first_pos[owner])
    out = []
    for k in np.unique(owner[bad]).tolist():
        b = branches[k]
        lo, hi = int(listed.starts[k]), int(listed.starts[k + 1])
        mine = {pos[u] for u in b.units if u in pos}
        outside = [
            mx.ids[j]
            for j, at in zip(listed.flat[lo:hi].tolist(), near[lo:hi].tolist(), strict=True)
            if j >= 0 and at not in mine
        ]
        if outside:
            out.append((k, sorted(outside)))
    return out


def _misplaced(
    business: Business, orgs: Sequence[Org], branches: Sequence[Org], anchors: list[int], rules: RuleSet
) -> list[tuple[Org, Org]]:
    """(organization, the upper level that should lead it) for each organization whose parent is not the nearest
    upper level above its anchor (at or above, for a branch), among the upper levels on one active unit."""
    ix = business._index()
    upper_kinds = rules.upper_kinds
    uppers = [
        o
        for o in orgs
        if o.kind in upper_kinds and len(o.units) == 1 and o.units[0] in ix.pos and business.is_active(o.units[0])
    ]
    if not uppers:
        return []
    nearest = np.full(ix.n, -1, dtype=np.int64)
    seen: set[int] = set()
    lead: list[Org] = []
    for p, o in sorted(((ix.pos[o.units[0]], o) for o in uppers), key=lambda t: t[0]):
        if p in seen:
            continue  # a second upper level on one unit: reported as not needed
        seen.add(p)
        nearest[p : ix.end[p] + 1] = len(lead)
        lead.append(o)
    near = nearest.tolist()
    parent = ix.parent
    out = []
    lead_ids = [o.id for o in lead]
    for o, a in zip(branches, anchors, strict=True):
        if a >= 0:
            k = near[a]
            if k >= 0 and o.parent != lead_ids[k]:
                out.append((o, lead[k]))
    for o in lead:
        p = parent[ix.pos[o.units[0]]]
        k = near[p] if p >= 0 else -1
        if k >= 0 and o.parent != lead[k].id:
            out.append((o, lead[k]))
    return out


def _coverage(business: Business, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit position: covered by a branch at it or above; a branch at it or below. `at`: the positions of
    the active units that branches are anchored to."""
    ix = business._index()
    n = ix.n
    if not len(at):
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    anchored = np.zeros(n + 1, dtype=np.int64)
    anchored[at] = 1
    end = np.asarray(ix.end, dtype=np.int64)
    # a subtree is a range of the pre-order: +1 where an anchored unit's range starts, -1 after it ends
    step = anchored.copy()
    np.subtract.at(step, end[anchored[:n] == 1] + 1, 1)
    covered = np.cumsum(step)[:n] > 0
    cs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(anchored[:n], out=cs[1:])
    below = cs[end + 1] - cs[:n] > 0
    return covered, below


def _unorganized_units(business: Business, rules: RuleSet, covered: np.ndarray, below: np.ndarray) -> list[Finding]:
    out = []
    floor = rules.min_formal_members
    ix = business._index()
    formal_below = ix.formal_below()
    parent = np.asarray(ix.parent, dtype=np.int64)
    has_parent = parent >= 0
    p = np.maximum(parent, 0)
    # maximal subtrees with no branch at all, under a unit that has a branch somewhere (or at the root)
    maximal = ~covered & ~below & (formal_below > 0) & (~has_parent | covered[p] | below[p])
    small_by_parent: dict[str | None, list[str]] = defaultdict(list)
    order, par = business.order, ix.parent
    for i in np.flatnonzero(maximal).tolist():
        u = order[i]
        formal = int(formal_below[i])
        if formal >= floor:
            out.append(
                _finding(
                    rules,
                    "unit_without_organization",
                    "error",
                    "min_formal_members",
                    "unit",
                    u,
                    unit=_label(business, u),
                    formal=formal,
                )
            )
        else:
            small_by_parent[order[par[i]] if par[i] >= 0 else None].append(u)
    for p_id, us in sorted(small_by_parent.items(), key=lambda kv: kv[0] or ""):
        total = sum(int(formal_below[ix.pos[u]]) for u in us)
        if total >= floor:
            for i in range(0, len(us), rules.joint_max_units):
                g = us[i : i + rules.joint_max_units]
                out.append(
                    _finding(
                        rules,
                        "units_need_joint_branch",
                        "warning",
                        "joint_max_units",
                        "unit",
                        g[0],
                        g,
                        count=len(g),
                        parent=_label(business, p_id) if p_id else "-",
                        floor=floor,
                        units=", ".join(_label(business, u) for u in g),
                    )
                )
    return out


def _org_subtree_members(orgs: Sequence[Org], by_id: dict[str, Org] | None = None) -> dict[str, int]:
    """Members of each organization and everything under it (parents are validated: no cycles)."""
    by_id = {o.id: o for o in orgs} if by_id is None else by_id  # the last of a repeated id, as a dict does
    ids = list(by_id)
    n = len(ids)
    if None in by_id:  # an organization without an id (not validated): None parents must not find it
        return _org_subtree_members_walk(orgs)
    index = dict(zip(ids, range(n), strict=True))
    values = by_id.values()
    up = np.fromiter(map(index.get, map(operator.attrgetter("parent"), values), repeat(-1)), dtype=np.int64, count=n)
    sizes = np.fromiter(map(len, map(operator.attrgetter("members"), values)), dtype=np.int64, count=n)
    # depth of each organization: follow the parent links of all at once, level by level
    depth = np.zeros(n, dtype=np.int64)
    cur = up.copy()
    for _ in range(64):
        live = cur >= 0
        if not live.any():
            break
        depth[live] += 1
        cur[live] = up[cur[live]]
    else:  # very deep, or a cycle: one by one
        return _org_subtree_members_walk(orgs)
    # deepest first: each adds its subtree to its parent's
    for d in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == d)
        np.add.at(sizes, up[at], sizes[at])
    return dict(zip(ids, sizes.tolist(), strict=True))


def _org_subtree_members_walk(orgs: Sequence[Org]) -> dict[str, int]:
    """`_org_subtree_members` for parent links that may form a cycle (organizations not validated)."""
    out = {o.id: len(o.members) for o in orgs}
    parent = {o.id: o.parent for o in orgs}
    depth: dict[str, int] = {}
    for o in orgs:
        path: list[str] = []
        x: str | None = o.id
        while x is not None and x not in depth and x in parent and len(path) <= len(parent):
            path.append(x)
            x = parent[x]
        base = depth.get(x, -1) if x is not None else -1
        for y in reversed(path):
            base += 1
            depth[y] = base
    for oid in sorted(out, key=lambda i: -depth.get(i, 0)):
        p = parent.get(oid)
        if p is not None and p in out:
            out[p] += out[oid]
    return out


def _label(business: Business, u: str | None) -> str:
    if u is None:
        return "-"
    unit = business.units.get(u)
    return f"{unit.name} ({u})" if unit and unit.name else str(u)


def _olabel(o: Org) -> str:
    return f"{o.name} ({o.id})" if o.name else f"{o.kind} {o.id}"
