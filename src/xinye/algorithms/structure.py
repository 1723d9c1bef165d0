"""Audit and plan an organization tree over a company's business tree; re-plan after a reorganization.

Pure Python; never imports Django. Inputs are small dataclasses (`Unit`, `Member`, `Org`) and a
`RuleSet` (see `rules.py`); outputs are dataclasses that serialise to the JSON of
`xinye structure plan` (see docs/structure.md).

Model
-----
A branch is anchored to one or more business units. A member belongs to the branch anchored at the
nearest unit on the path from the member's unit up to the root ("a branch on a unit covers its whole
subtree, except parts that have a branch of their own"). Several branches on the same unit (a unit too
big for one branch, split into balanced parts) share its region by their member lists.

Planning
--------
1. Existing branches that are valid under the rules (units exist and are active, at least
   `min_formal_members` formal members, at most `branch_cap` members, a joint branch on at most
   `joint_max_units` units) are kept with their ids, so that members do not move without reason.
   Dropping an invalid branch gives its region to the nearest enclosing branch, so validity is
   re-checked until nothing changes.
2. Members outside every kept branch are organized bottom-up over the business tree (post-order, children
   by id): a unit whose unorganized members, with the small leftovers of its sub-units, reach the floor
   and fit under the cap gets a branch (covering its subtree); when they do not fit, leftovers of sibling
   sub-units are packed into joint branches of at most `joint_max_units` units (first-fit decreasing; same
   parent first), and a unit that is too big on its own is split into balanced parts. Leftovers under the
   floor go up a level. At the top, what is left joins the nearest branch with room (same parent first,
   then the same division); if the whole company is under the floor it gets one branch; otherwise the
   members are reported as unplaced, with the reason.
3. Upper levels follow the rule set: at the first unit where the business branches out, a primary
   committee when the company has `primary_committee_at` members, else a general branch when it has
   `general_branch_at` members over two or more branches; below it, secondary committees
   (`secondary_committee_at`) and general branches at the units where the business branches out again.
4. New organizations take the id of a dropped one with the same anchor, or with most of its members
   (at least half), so the tree keeps its history; the rest get new ids. Churn is the number of
   members whose branch changes.

Scale: linear in units + members apart from sorting; see benchmarks/structure_bench.py.

References
----------
Regulations on the Work of Party Branches (trial, 2018), ch. 2; Regulations on Party Member Education
and Management (2019), art. 24-25; Party Constitution, art. 30. See docs/domain.md section 1.

Examples
--------
>>> from xinye.algorithms.rules import get_rules
>>> units = [Unit("hq", None), Unit("a", "hq"), Unit("b", "hq")]
>>> members = [Member(f"m{i}", "a" if i < 4 else "b", "formal") for i in range(6)]
>>> p = plan(Business.build(units, members), [], get_rules("cpc"))
>>> sorted((o.kind, o.units, len(o.members)) for o in p.organizations)
[('joint_branch', ('a', 'b'), 6)]
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

from .errors import InputError, RowError
from .rules import RuleSet

FORMAL = "formal"
PROBATIONARY = "probationary"
MEMBER_STATUSES = (FORMAL, PROBATIONARY)
UNIT_STATUSES = ("active", "dissolved", "merged")
Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


# ----------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Unit:
    """A business unit. `parent` is None for the root; `division` a division code (for nearness)."""

    id: str
    parent: str | None
    name: str = ""
    kind: str = ""
    division: str = ""
    status: str = "active"
    merged_into: str | None = None


@dataclass(frozen=True)
class Member:
    id: str
    unit: str
    status: str = FORMAL


@dataclass
class Org:
    """An organization: a branch, joint branch, general branch or committee (kinds from the rule set)."""

    id: str
    parent: str | None
    kind: str
    units: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    name: str = ""
    term_ends: date | None = None
    committee: bool | None = None  # has an elected committee (None: not known)

    def to_json(self) -> dict:
        d = {
            "id": self.id,
            "parent": self.parent,
            "kind": self.kind,
            "units": list(self.units),
            "members": list(self.members),
        }
        if self.name:
            d["name"] = self.name
        if self.term_ends:
            d["term_ends"] = self.term_ends.isoformat()
        if self.committee is not None:
            d["committee"] = self.committee
        return d


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # error | warning | info
    rule: str
    source: str
    subject: str  # organization | unit | member
    subject_id: str
    message: str
    suggestion: str
    related: tuple[str, ...] = ()
    text: str = ""  # key of MESSAGES the message and suggestion come from
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict:
        d = asdict(self)
        d["related"] = list(self.related)
        return d


class Business:
    """A validated business tree with its members. Build it with `Business.build` (raises InputError)."""

    def __init__(
        self,
        units: dict[str, Unit],
        members: dict[str, Member],
        order: list[str],
        children: dict[str, list[str]],
        roots: list[str],
    ):
        self.units = units
        self.members = members
        self.order = order  # pre-order, children sorted by id
        self.children = children
        self.roots = roots
        self.depth: dict[str, int] = {}
        self._ancestors: dict[str, list[str]] = {}
        depth = self.depth
        for u in order:
            p = units[u].parent
            depth[u] = 0 if p is None else depth[p] + 1
        members_of: dict[str, list[str]] = defaultdict(list)
        unit_formal: dict[str, int] = defaultdict(int)
        formal = []
        for m in members.values():
            members_of[m.unit].append(m.id)
            if m.status == FORMAL:
                formal.append(m.id)
                unit_formal[m.unit] += 1
        for lst in members_of.values():
            lst.sort()
        self.members_of = members_of
        self.unit_formal = unit_formal
        self.formal: frozenset[str] = frozenset(formal)

    @classmethod
    def build(cls, units: Iterable[Unit], members: Iterable[Member], *, file: str = "business") -> Business:
        errors: list[RowError] = []
        by_id: dict[str, Unit] = {}
        for i, u in enumerate(units):
            where = f"units[{i}] (id {u.id!r})"
            if not u.id:
                errors.append(RowError(file, f"units[{i}]", "id", u.id, "a unit needs an id"))
            elif u.id in by_id:
                errors.append(RowError(file, where, "id", u.id, "duplicate unit id"))
            elif u.status not in UNIT_STATUSES:
                errors.append(RowError(file, where, "status", u.status, f"status must be one of {UNIT_STATUSES}"))
            else:
                by_id[u.id] = u
        for u in by_id.values():
            if u.parent is not None and u.parent not in by_id:
                errors.append(RowError(file, f"unit {u.id!r}", "parent", u.parent, "parent unit does not exist"))
            if u.merged_into is not None and u.merged_into not in by_id:
                errors.append(RowError(file, f"unit {u.id!r}", "merged_into", u.merged_into, "unit does not exist"))
        children: dict[str, list[str]] = defaultdict(list)
        roots = []
        for u in by_id.values():
            if u.parent is None:
                roots.append(u.id)
            elif u.parent in by_id:
                children[u.parent].append(u.id)
        for lst in children.values():
            lst.sort()
        roots.sort()
        order: list[str] = []
        stack = list(reversed(roots))
        while stack:
            u = stack.pop()
            order.append(u)
            stack.extend(reversed(children.get(u, [])))
        if len(order) < len(by_id) and not errors:
            seen = set(order)
            cyc = sorted(u for u in by_id if u not in seen)
            errors.append(
                RowError(
                    file,
                    f"unit {cyc[0]!r}",
                    "parent",
                    by_id[cyc[0]].parent,
                    f"the parent links form a cycle ({', '.join(cyc[:6])})",
                )
            )
        mems: dict[str, Member] = {}
        for i, m in enumerate(members):
            where = f"members[{i}] (id {m.id!r})"
            if not m.id:
                errors.append(RowError(file, f"members[{i}]", "id", m.id, "a member needs an id"))
            elif m.id in mems:
                errors.append(RowError(file, where, "id", m.id, "duplicate member id"))
            elif m.unit not in by_id:
                errors.append(RowError(file, where, "unit", m.unit, "member in an unknown unit"))
            elif m.status not in MEMBER_STATUSES:
                errors.append(RowError(file, where, "status", m.status, "status must be formal or probationary"))
            else:
                mems[m.id] = m
        if errors:
            raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")
        return cls(by_id, mems, order, dict(children), roots)

    def ancestors(self, u: str) -> list[str]:
        """u's ancestors, nearest first (u excluded). Cached: do not modify the list."""
        cached = self._ancestors.get(u)
        if cached is not None:
            return cached
        p = self.units[u].parent
        out = [] if p is None else [p, *self.ancestors(p)] if self.depth.get(p, 0) < 900 else self._walk_up(p)
        self._ancestors[u] = out
        return out

    def _walk_up(self, p: str | None) -> list[str]:
        out = []
        while p is not None:
            out.append(p)
            p = self.units[p].parent
        return out

    def lca(self, a: str, b: str) -> str | None:
        da, db = self.depth[a], self.depth[b]
        while da > db:
            a, da = self.units[a].parent, da - 1  # type: ignore[assignment]
        while db > da:
            b, db = self.units[b].parent, db - 1  # type: ignore[assignment]
        while a != b:
            a, b = self.units[a].parent, self.units[b].parent  # type: ignore[assignment]
            if a is None or b is None:
                return None
        return a

    def is_active(self, u: str) -> bool:
        return u in self.units and self.units[u].status == "active"

    def is_formal(self, m: str) -> bool:
        return m in self.formal


def validate_orgs(orgs: Sequence[Org], business: Business, rules: RuleSet, *, file: str = "organizations") -> None:
    """Raise InputError for a duplicate id, an unknown parent, a cycle, an unknown kind or member."""
    errors: list[RowError] = []
    kinds = set(rules.branch_kinds) | set(rules.upper_kinds)
    ids: dict[str, Org] = {}
    for i, o in enumerate(orgs):
        where = f"organizations[{i}] (id {o.id!r})"
        if not o.id:
            errors.append(RowError(file, f"organizations[{i}]", "id", o.id, "an organization needs an id"))
            continue
        if o.id in ids:
            errors.append(RowError(file, where, "id", o.id, "duplicate organization id"))
        ids[o.id] = o
        if o.kind not in kinds:
            errors.append(
                RowError(
                    file,
                    where,
                    "kind",
                    o.kind,
                    f"kind must be one of {', '.join(sorted(kinds))} (rule set {rules.name})",
                )
            )
        for m in o.members:
            if m not in business.members:
                errors.append(RowError(file, where, "members", m, "member not in the business file"))
    for o in ids.values():
        if o.parent is not None and o.parent not in ids:
            errors.append(RowError(file, f"organization {o.id!r}", "parent", o.parent, "parent does not exist"))
    if not errors:
        for o in ids.values():
            seen = {o.id}
            p = o.parent
            while p is not None:
                if p in seen:
                    errors.append(
                        RowError(file, f"organization {o.id!r}", "parent", o.parent, "the parent links form a cycle")
                    )
                    break
                seen.add(p)
                p = ids[p].parent
            if errors:
                break
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")


# ----------------------------------------------------------------------------------------------- regions


def _regions(business: Business, branches: Sequence[Org]) -> dict[str, list[str]]:
    """Members of each branch under the nearest-anchor rule (see module docstring)."""
    anchored: dict[str, list[Org]] = defaultdict(list)
    for b in branches:
        for u in b.units:
            if business.is_active(u):
                anchored[u].append(b)
    listed: dict[str, str] = {}
    for b in branches:
        for m in b.members:
            listed.setdefault(m, b.id)
    out: dict[str, list[str]] = {b.id: [] for b in branches}
    owner: dict[str, list[Org]] = {}
    for u in business.order:
        p = business.units[u].parent
        here = anchored.get(u)
        owner[u] = here if here else (owner[p] if p is not None else [])
        cands = owner[u]
        if not cands:
            continue
        for m in business.members_of.get(u, ()):
            if len(cands) == 1:
                out[cands[0].id].append(m)
            else:
                chosen = listed.get(m)
                if chosen not in {c.id for c in cands}:
                    chosen = min(cands, key=lambda c: (len(out[c.id]), c.id)).id
                out[chosen].append(m)
    return out


def _counts(business: Business, members: Sequence[str]) -> tuple[int, int]:
    return len(business.formal.intersection(members)), len(members)


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
    with _no_gc():
        return _audit(business, orgs, rules, today=today)


def _audit(business: Business, orgs: Sequence[Org], rules: RuleSet, *, today: date | None = None) -> list[Finding]:
    today = today or date.today()  # noqa: DTZ011 - a calendar date; callers in the apps pass their local date
    findings: list[Finding] = []
    by_id = {o.id: o for o in orgs}
    branches = [o for o in orgs if o.kind in rules.branch_kinds]
    company_formal = len(business.formal)

    def add(*args, **kwargs):
        findings.append(_finding(rules, *args, **kwargs))

    # members: in no branch, or in two
    placed: dict[str, list[str]] = {}
    listed = 0
    for b in branches:
        placed.update(dict.fromkeys(b.members, None))
        listed += len(b.members)
    if listed > len(placed):  # someone is listed twice: find where
        seen: dict[str, list[str]] = defaultdict(list)
        for b in branches:
            for m in b.members:
                seen[m].append(b.id)
        placed.update(seen)
    unplaced_by_unit: dict[str, list[str]] = defaultdict(list)
    for u, ms in business.members_of.items():
        missing = [m for m in ms if m not in placed]
        if missing:
            unplaced_by_unit[u] = missing
    for mid, where in placed.items():
        if where is None or len(where) < 2:
            continue
        m = business.members[mid]
        if len(where) > 1:
            add(
                "member_in_two_branches",
                "error",
                "placement",
                "member",
                m.id,
                where,
                member=m.id,
                count=len(where),
                branches=", ".join(_olabel(by_id[w]) for w in where),
            )
    covered, has_branch_below, formal_below = _coverage(business, branches)
    # members in a subtree with no branch at all are reported once for the whole subtree (its top unit);
    # elsewhere, unit by unit
    report_at: dict[str, str] = {}
    for u in business.order:
        if not covered[u] and not has_branch_below[u]:
            p = business.units[u].parent
            report_at[u] = report_at[p] if p is not None and p in report_at else u
    grouped: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for u, ms in unplaced_by_unit.items():
        top = report_at.get(u)
        grouped[(top, True) if top is not None else (u, False)].extend(ms)
    for (u, subtree), ms in sorted(grouped.items()):
        add(
            "members_in_no_branch",
            "error",
            "placement",
            "unit",
            u,
            ms,
            text="members_in_no_branch_subtree" if subtree and business.children.get(u) else None,
            count=len(ms),
            unit=_label(business, u),
        )

    # branches: floor, cap, committee, general-branch threshold, joint size
    for b in branches:
        formal, total = _counts(business, b.members)
        org = _olabel(b)
        if formal < rules.min_formal_members:
            whole = company_formal < rules.min_formal_members
            add(
                "branch_below_floor",
                "info" if whole else "error",
                "min_formal_members",
                "organization",
                b.id,
                text="branch_below_floor_whole" if whole else None,
                org=org,
                formal=formal,
                floor=rules.min_formal_members,
            )
        if total > rules.branch_cap:
            has_sub = any(business.children.get(u) for u in b.units if u in business.units)
            add(
                "branch_over_cap",
                "warning",
                "branch_cap",
                "organization",
                b.id,
                text=None if has_sub else "branch_over_cap_leaf",
                org=org,
                total=total,
                cap=rules.branch_cap,
            )
        if total >= rules.general_branch_at:
            add(
                "general_branch_due",
                "warning",
                "general_branch_at",
                "organization",
                b.id,
                org=org,
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
                org=org,
                formal=formal,
                threshold=rules.committee_at,
            )
        if b.kind == rules.joint_kind and len(b.units) > rules.joint_max_units:
            add(
                "joint_branch_too_many_units",
                "error",
                "joint_max_units",
                "organization",
                b.id,
                b.units,
                org=org,
                count=len(b.units),
                limit=rules.joint_max_units,
            )

    # upper levels: thresholds crossed
    subtree_members = _org_subtree_members(orgs)
    has_committee = any(o.kind == rules.committee_kind for o in orgs)
    if len(business.members) >= rules.primary_committee_at and not has_committee and orgs:
        top = [o for o in orgs if o.parent is None]
        add(
            "primary_committee_due",
            "warning",
            "primary_committee_at",
            "organization",
            top[0].id if top else "",
            [o.id for o in top],
            org=_olabel(top[0]) if top else "-",
            total=len(business.members),
            threshold=rules.primary_committee_at,
        )
    for o in orgs:
        big = subtree_members.get(o.id, 0) >= rules.primary_committee_at
        if o.kind == rules.general_kind and big and has_committee:
            add(
                "primary_committee_due",
                "warning",
                "primary_committee_at",
                "organization",
                o.id,
                org=_olabel(o),
                total=subtree_members[o.id],
                threshold=rules.primary_committee_at,
            )

    # anchors: missing, dissolved or merged units; moved out from under the parent organization
    for o in orgs:
        for u in o.units:
            if u not in business.units:
                add("anchor_missing", "error", "anchor", "organization", o.id, [u], org=_olabel(o), unit=u)
            elif business.units[u].status != "active":
                unit = business.units[u]
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
        parent = by_id.get(o.parent) if o.parent else None
        if parent and parent.units and o.units:
            anchors = set(parent.units)
            for u in o.units:
                if u in business.units and u not in anchors and not anchors & set(business.ancestors(u)):
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
                    break

    # terms
    soon = today + timedelta(days=rules.expiring_days)
    for o in orgs:
        if o.term_ends is None:
            continue
        if o.term_ends < today:
            add(
                "term_expired",
                "error",
                "term_years",
                "organization",
                o.id,
                org=_olabel(o),
                date=o.term_ends.isoformat(),
            )
        elif o.term_ends <= soon:
            add(
                "term_expiring",
                "warning",
                "term_years",
                "organization",
                o.id,
                org=_olabel(o),
                date=o.term_ends.isoformat(),
            )

    # units with enough formal members and no organization; groups of small units without one
    findings.extend(_unorganized_units(business, rules, covered, has_branch_below, formal_below))
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (order[f.severity], f.code, f.subject_id))
    return findings


def _coverage(business: Business, branches: Sequence[Org]) -> tuple[dict, dict, dict]:
    """Per unit: covered by a branch at it or above; a branch at it or below; formal members at it and below."""
    anchored = {u for b in branches for u in b.units if business.is_active(u)}
    covered: dict[str, bool] = {}
    units = business.units
    for u in business.order:
        p = units[u].parent
        covered[u] = u in anchored or (p is not None and covered[p])
    has_branch_below: dict[str, bool] = {}
    formal_below: dict[str, int] = {}
    unit_formal = business.unit_formal
    children = business.children
    for u in reversed(business.order):
        kids = children.get(u)
        if kids:
            has_branch_below[u] = u in anchored or any(has_branch_below[c] for c in kids)
            formal_below[u] = unit_formal.get(u, 0) + sum(formal_below[c] for c in kids)
        else:
            has_branch_below[u] = u in anchored
            formal_below[u] = unit_formal.get(u, 0)
    return covered, has_branch_below, formal_below


def _unorganized_units(
    business: Business, rules: RuleSet, covered: dict, has_branch_below: dict, formal_below: dict
) -> list[Finding]:
    out = []
    floor = rules.min_formal_members
    # maximal subtrees with no branch at all, under a unit that has a branch somewhere (or at the root)
    small_by_parent: dict[str | None, list[str]] = defaultdict(list)
    for u in business.order:
        if covered[u] or has_branch_below[u] or formal_below[u] == 0:
            continue
        p = business.units[u].parent
        if p is not None and not covered[p] and not has_branch_below[p]:
            continue  # not maximal: the parent's subtree has no branch either
        if formal_below[u] >= floor:
            out.append(
                _finding(
                    rules,
                    "unit_without_organization",
                    "error",
                    "min_formal_members",
                    "unit",
                    u,
                    unit=_label(business, u),
                    formal=formal_below[u],
                )
            )
        else:
            small_by_parent[p].append(u)
    for p, us in sorted(small_by_parent.items(), key=lambda kv: kv[0] or ""):
        total = sum(formal_below[u] for u in us)
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
                        parent=_label(business, p) if p else "-",
                        floor=floor,
                        units=", ".join(_label(business, u) for u in g),
                    )
                )
    return out


def _org_subtree_members(orgs: Sequence[Org]) -> dict[str, int]:
    """Members of each organization and everything under it (parents are validated: no cycles)."""
    out = {o.id: len(o.members) for o in orgs}
    parent = {o.id: o.parent for o in orgs}
    depth: dict[str, int] = {}
    for o in orgs:
        chain = []
        x: str | None = o.id
        while x is not None and x not in depth and x in parent and len(chain) <= len(parent):
            chain.append(x)
            x = parent[x]
        base = depth.get(x, -1) if x is not None else -1
        for y in reversed(chain):
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


# ----------------------------------------------------------------------------------------------- plan


@dataclass
class Plan:
    organizations: list[Org]
    findings: list[Finding]  # the current tree's findings (what the plan addresses)
    remaining: list[Finding]  # findings of the planned tree
    stats: dict
    unplaced: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "organizations": [o.to_json() for o in self.organizations],
            "findings": [f.to_json() for f in self.findings],
            "remaining_findings": [f.to_json() for f in self.remaining],
            "stats": self.stats,
            "unplaced": self.unplaced,
        }


@dataclass
class _Piece:
    units: tuple[str, ...]
    members: list[str]
    formal: int
    division: str

    @property
    def total(self) -> int:
        return len(self.members)


@dataclass
class _NewBranch:
    units: tuple[str, ...]
    members: list[str]
    joint: bool
    part: int = 0  # for balanced parts of one unit


def plan(
    business: Business,
    orgs: Sequence[Org],
    rules: RuleSet,
    *,
    today: date | None = None,
    progress: Progress = _noop,
    findings: list[Finding] | None = None,
) -> Plan:
    """Propose a compliant organization tree for `business`, keeping what is valid in `orgs`.

    `findings` may pass the audit of `orgs` already made (by `audit` with the same arguments), to save
    doing it twice."""
    with _no_gc():
        return _plan(business, orgs, rules, today=today, progress=progress, findings=findings)


@contextlib.contextmanager
def _no_gc():
    """The planner allocates millions of small acyclic objects; the cyclic collector would scan the heap
    again and again for nothing, so it pauses while the planner runs."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plan(business: Business, orgs: Sequence[Org], rules: RuleSet, *, today, progress, findings) -> Plan:
    validate_orgs(orgs, business, rules)
    if findings is None:
        findings = audit(business, orgs, rules, today=today)
    progress("audit", 1, 4)
    current_branch = _current_branch_of(orgs, rules)

    # 1. keep the valid existing branches (re-checking as dropped regions flow to enclosing branches)
    candidates = [o for o in orgs if o.kind in rules.branch_kinds]
    company_formal = len(business.formal)
    while True:
        regions = _regions(business, candidates)
        invalid = {b.id for b in candidates if not _valid_branch(business, b, regions[b.id], rules, company_formal)}
        if not invalid:
            break
        candidates = [b for b in candidates if b.id not in invalid]
    kept = candidates
    claimed = {m for b in kept for m in regions[b.id]}
    progress("kept", 2, 4)

    # 2. organize the rest bottom-up
    new_branches, leftovers = _form(business, claimed, rules)
    unplaced: list[dict] = []
    # kept branches carry the members they cover now (their region), not the lists they came with
    branch_list: list[tuple[str | None, _NewBranch | Org]] = [
        (b.id, replace(b, members=tuple(regions[b.id]))) for b in kept
    ] + [(None, nb) for nb in new_branches]
    if leftovers:
        if not branch_list:
            members = [m for p in leftovers for m in p.members]
            root_units = tuple(
                sorted({business.roots[0]} if len(business.roots) == 1 else {u for p in leftovers for u in p.units})
            )
            branch_list.append((None, _NewBranch(root_units, members, joint=len(root_units) > 1)))
        else:
            unplaced = _attach_leftovers(business, leftovers, branch_list, rules)
    progress("branches", 3, 4)

    # 3. ids, upper levels, parents
    planned = _finish(business, orgs, branch_list, regions, rules)
    churn = newly = 0
    for o in planned:
        if o.kind not in rules.branch_kinds:
            continue
        if not current_branch:
            newly += len(o.members)
            continue
        for m in o.members:
            was = current_branch.get(m)
            if was is None:
                newly += 1
            elif was != o.id:
                churn += 1
    old_ids = {o.id for o in orgs}
    new_ids = {o.id for o in planned}
    by_old = {o.id: o for o in orgs}
    unchanged = [o.id for o in planned if o.id in by_old and _same(o, by_old[o.id])]
    kinds = Counter(o.kind for o in planned)
    stats = {
        "rules": rules.name,
        "members": len(business.members),
        "units": len(business.units),
        "organizations": len(planned),
        "by_kind": dict(sorted(kinds.items())),
        "kept": len(unchanged),
        "changed": len(new_ids & old_ids - set(unchanged)),
        "new": len(new_ids - old_ids),
        "dissolved": sorted(old_ids - new_ids),
        "churn": churn,
        "newly_placed": newly,
        "unplaced": sum(len(u["members"]) for u in unplaced),
        "findings_before": len(findings),
    }
    remaining = audit(business, planned, rules, today=today)
    stats["findings_after"] = len(remaining)
    progress("done", 4, 4)
    return Plan(planned, findings, remaining, stats, unplaced)


def _same(a: Org, b: Org) -> bool:
    return (a.parent, a.kind, tuple(sorted(a.units)), tuple(sorted(a.members))) == (
        b.parent,
        b.kind,
        tuple(sorted(b.units)),
        tuple(sorted(b.members)),
    )


def _current_branch_of(orgs: Sequence[Org], rules: RuleSet) -> dict[str, str]:
    out: dict[str, str] = {}
    for o in orgs:
        if o.kind in rules.branch_kinds:
            for m in o.members:
                out.setdefault(m, o.id)
    return out


def _valid_branch(business: Business, b: Org, members: list[str], rules: RuleSet, company_formal: int) -> bool:
    if not b.units or not all(business.is_active(u) for u in b.units):
        return False
    if b.kind == rules.joint_kind and len(b.units) > rules.joint_max_units:
        return False
    if b.kind == rules.branch_kind and len(b.units) > 1:
        return False
    formal, total = _counts(business, members)
    if total > rules.branch_cap and _splittable(business, b, formal, rules):
        return False
    return formal >= rules.min_formal_members or (company_formal < rules.min_formal_members and total > 0)


def _splittable(business: Business, b: Org, formal: int, rules: RuleSet) -> bool:
    """Whether an over-cap branch could be split: into two parts each reaching the floor, or along units."""
    return formal >= 2 * rules.min_formal_members or len(b.units) > 1


def _form(business: Business, claimed: set[str], rules: RuleSet) -> tuple[list[_NewBranch], list[_Piece]]:
    """Bottom-up formation over members not in `claimed`; returns new branches and leftover pieces."""
    floor, cap = rules.min_formal_members, rules.branch_cap
    pending: dict[str, list[_Piece]] = {}
    out: list[_NewBranch] = []
    formal = business.formal
    members_of, children, units, unit_formal = (
        business.members_of,
        business.children,
        business.units,
        business.unit_formal,
    )
    for u in reversed(business.order):  # children before parents
        unit = units[u]
        own = members_of.get(u, ())
        if claimed and own:
            own = [m for m in own if m not in claimed]
            own_formal = sum(1 for m in own if m in formal)
        else:
            own = list(own)
            own_formal = unit_formal.get(u, 0)
        kids: list[_Piece] = []
        for c in children.get(u, ()):
            got = pending.pop(c, None)
            if got:
                kids.extend(got)
        if not own and not kids:
            continue
        if unit.status == "active" and any(not p.units for p in kids):
            # members of dissolved sub-units reach their first active unit: they count as its own
            own = list(own)
            for p in kids:
                if not p.units:
                    own.extend(p.members)
                    own_formal += p.formal
            kids = [p for p in kids if p.units]
        if unit.status != "active":
            # a dissolved or merged unit anchors nothing: its members wait at the parent
            pending[u] = kids + ([_Piece((), own, own_formal, unit.division)] if own else [])
            continue
        pool_formal = own_formal + sum(p.formal for p in kids)
        pool_total = len(own) + sum(p.total for p in kids)
        if pool_formal >= floor and pool_total <= cap:
            for p in kids:
                own.extend(p.members)
            out.append(_NewBranch((u,), own, joint=False))
            continue
        if pool_formal < floor:
            pending[u] = _merge_up(u, own, own_formal, kids, business)
            continue
        # too many for one branch: joint branches of small sub-units first, then the unit's own members
        groups, rest = _pack(kids, rules, business)
        for g in groups:
            out.append(
                _NewBranch(tuple(sorted(x for p in g for x in p.units)), [m for p in g for m in p.members], joint=True)
            )
        rest_formal = own_formal + sum(p.formal for p in rest)
        rest_total = len(own) + sum(p.total for p in rest)
        if rest_formal >= floor and rest_total <= cap:
            out.append(_NewBranch((u,), own + [m for p in rest for m in p.members], joint=False))
        elif own_formal >= floor and rest_formal >= floor:
            out.extend(_split(u, own + [m for p in rest for m in p.members], business, rules))
        elif rest_total:
            pending[u] = _merge_up(u, own, own_formal, rest, business)
    leftovers = [p for ps in pending.values() for p in ps]
    return out, leftovers


def _merge_up(u: str, own: list[str], own_formal: int, kids: list[_Piece], business: Business) -> list[_Piece]:
    """Leftovers of unit u for its parent. If u has unorganized members of its own, u becomes one piece
    (a branch on u would take its whole remaining subtree anyway); otherwise the sub-units' pieces go up."""
    if own:
        return [
            _Piece(
                (u,),
                own + [m for p in kids for m in p.members],
                own_formal + sum(p.formal for p in kids),
                business.units[u].division,
            )
        ]
    return kids


def _pack(pieces: list[_Piece], rules: RuleSet, business: Business) -> tuple[list[list[_Piece]], list[_Piece]]:
    """First-fit decreasing packing of small sibling pieces into joint groups: each group has at least the
    floor of formal members, at most the cap of members and at most `joint_max_units` units; pieces of the
    same division are tried together first."""
    floor, cap, max_units = rules.min_formal_members, rules.branch_cap, rules.joint_max_units
    ordered = sorted(
        (p for p in pieces if p.units and p.total <= cap), key=lambda p: (p.division, -p.formal, -p.total, p.units)
    )
    groups: list[list[_Piece]] = []
    open_group: list[_Piece] = []
    rest: list[_Piece] = [p for p in pieces if not p.units or p.total > cap]
    for p in ordered:
        n_units = sum(len(x.units) for x in open_group)
        if open_group and (n_units + len(p.units) > max_units or sum(x.total for x in open_group) + p.total > cap):
            if sum(x.formal for x in open_group) >= floor:
                groups.append(open_group)
            else:
                rest.extend(open_group)
            open_group = []
        open_group.append(p)
        if sum(x.formal for x in open_group) >= floor:
            groups.append(open_group)
            open_group = []
    rest.extend(open_group)
    # a group under the floor may still join the last formed group if that keeps within the limits
    if rest and groups:
        last = groups[-1]
        for p in list(rest):
            if (
                p.units
                and sum(len(x.units) for x in last) + len(p.units) <= max_units
                and sum(x.total for x in last) + p.total <= cap
            ):
                last.append(p)
                rest.remove(p)
    return groups, rest


def _split(u: str, members: list[str], business: Business, rules: RuleSet) -> list[_NewBranch]:
    """Balanced parts of one unit too big for one branch: as few parts as the cap allows, each with at least
    the floor of formal members; formal and probationary members spread evenly, in id order."""
    formal = [m for m in members if business.is_formal(m)]
    prob = [m for m in members if not business.is_formal(m)]
    k = max(1, math.ceil(len(members) / rules.branch_cap))
    k = max(1, min(k, len(formal) // max(1, rules.min_formal_members)))
    parts: list[list[str]] = [[] for _ in range(k)]
    for i, m in enumerate(sorted(formal) + sorted(prob)):
        parts[i % k].append(m)
    return [_NewBranch((u,), p, joint=False, part=i + 1 if k > 1 else 0) for i, p in enumerate(parts)]


def _attach_leftovers(business: Business, leftovers: list[_Piece], branch_list: list, rules: RuleSet) -> list[dict]:
    """Put the last small pieces into the nearest branch with room (the deepest common ancestor first, then
    the same division, then the smallest); report those that fit nowhere."""
    # candidates for a piece are the branches anchored in the subtree of its nearest ancestors; subtrees are
    # ranges of the pre-order, and each ancestor's list is built only when a piece asks for it
    pos = {u: i for i, u in enumerate(business.order)}
    end: dict[str, int] = {}
    for u in reversed(business.order):
        kids = business.children.get(u)
        end[u] = max((end[c] for c in kids), default=pos[u]) if kids else pos[u]
    at_unit: dict[int, list[int]] = defaultdict(list)
    for idx, (_, b) in enumerate(branch_list):
        for u in b.units:
            if u in pos:
                at_unit[pos[u]].append(idx)
    cache: dict[str, set[int]] = {}

    def near(a: str) -> set[int]:
        got = cache.get(a)
        if got is None:
            got = set()
            for i in range(pos[a], end[a] + 1):
                got.update(at_unit.get(i, ()))
            cache[a] = got
        return got

    unplaced = []
    for piece in leftovers:
        if not piece.units:
            unplaced.append(
                {
                    "members": piece.members,
                    "units": [],
                    "reason": "their units are dissolved and no active unit above them has room",
                }
            )
            continue
        best = None
        start = piece.units[0]
        for a in [start, *business.ancestors(start)]:
            for idx in sorted(near(a)):
                b = branch_list[idx][1]
                if len(set(b.units) | set(piece.units)) > rules.joint_max_units:
                    continue
                if len(b.members) + piece.total > rules.branch_cap:
                    continue
                same_division = any(
                    business.units[u].division == piece.division for u in b.units if u in business.units
                )
                key = (not same_division, len(b.members), idx)
                if best is None or key < best[0]:
                    best = (key, idx)
            if best is not None:
                break
        if best is None:
            unplaced.append(
                {
                    "members": piece.members,
                    "units": list(piece.units),
                    "reason": f"fewer than {rules.min_formal_members} formal members in reach, and no branch nearby "
                    f"with room (at most {rules.joint_max_units} units and {rules.branch_cap} members)",
                    "suggestion": "join a neighbouring street's branch, or a community-based joint branch",
                }
            )
            continue
        idx = best[1]
        old_id, b = branch_list[idx]
        if isinstance(b, Org):
            b = _NewBranch(tuple(b.units), list(b.members), joint=True)
            # an enlarged kept branch is a changed organization: it keeps its id through matching
            branch_list[idx] = (old_id, b)
        b.units = tuple(sorted(set(b.units) | set(piece.units)))
        b.members = b.members + piece.members
        b.joint = len(b.units) > 1
        for u in piece.units:
            if u in pos:
                at_unit[pos[u]].append(idx)
            for a in [u, *business.ancestors(u)]:
                if a in cache:
                    cache[a].add(idx)
    return unplaced


def _finish(
    business: Business, orgs: Sequence[Org], branch_list: list, regions: dict[str, list[str]], rules: RuleSet
) -> list[Org]:
    """Ids for new branches, upper levels at the units where the business branches out, parents."""
    old = {o.id: o for o in orgs}
    used: set[str] = set()
    branches: list[Org] = []
    # kept branches first: they keep their ids and names
    for old_id, b in branch_list:
        if old_id is not None and isinstance(b, Org):
            o = old[old_id]
            branches.append(
                Org(o.id, None, o.kind, tuple(o.units), tuple(sorted(regions[o.id])), o.name, o.term_ends, o.committee)
            )
            used.add(o.id)
    dropped = [o for o in orgs if o.kind in rules.branch_kinds and o.id not in used]
    member_owner = {m: o.id for o in dropped for m in o.members}
    anchor_index = {tuple(sorted(o.units)): o for o in dropped}
    counter = Counter()
    for old_id, nb in branch_list:
        if old_id is not None and isinstance(nb, Org):
            continue
        kind = rules.joint_kind if (nb.joint or len(nb.units) > 1) else rules.branch_kind
        key = tuple(sorted(nb.units))
        match = old[old_id] if old_id is not None else None
        if match is None:
            cand = anchor_index.get(key)
            if cand is not None and cand.id not in used and not nb.part:
                match = cand
        if match is None and nb.members and member_owner:
            overlap = Counter(member_owner.get(m) for m in nb.members)
            overlap.pop(None, None)
            best = max(((n, oid) for oid, n in overlap.items() if oid not in used), default=(0, None))
            if best[1] is not None and best[0] * 2 >= len(nb.members):
                match = old[best[1]]
        if match is not None and match.id not in used:
            used.add(match.id)
            branches.append(
                Org(match.id, None, kind, key, tuple(sorted(nb.members)), match.name, match.term_ends, match.committee)
            )
        else:
            base = "+".join(key) if len(key) <= 2 else f"{key[0]}+{len(key) - 1}"
            counter[base] += 1
            suffix = f"-{nb.part}" if nb.part else ("" if counter[base] == 1 else f"-{counter[base]}")
            name = _new_name(business, key, kind, nb.part, rules)
            new_id = _fresh_id(f"new:{base}{suffix}", old, used)
            used.add(new_id)
            branches.append(Org(new_id, None, kind, key, tuple(sorted(nb.members)), name))
    uppers = _upper_levels(business, branches, orgs, rules, used)
    _link_parents(business, branches, uppers)
    result = uppers + branches
    result.sort(
        key=lambda o: (
            business.depth.get(o.units[0], 0) if o.units and o.units[0] in business.depth else 0,
            o.kind not in rules.upper_kinds,
            o.id,
        )
    )
    return result


def _fresh_id(base: str, old: dict, used: set) -> str:
    candidate, n = base, 1
    while candidate in old or candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


_KIND_LABELS = {
    "branch": "branch",
    "joint_branch": "joint branch",
    "general_branch": "general branch",
    "secondary_committee": "secondary committee",
    "committee": "committee",
}


def _new_name(business: Business, units: tuple[str, ...], kind: str, part: int, rules: RuleSet) -> str:
    first = business.units.get(units[0]) if units else None
    base = (first.name or first.id) if first else "?"
    if len(units) > 1:
        base = f"{base} +{len(units) - 1}"
    label = _KIND_LABELS.get(kind, kind) if kind in _KIND_LABELS else kind.replace("_", " ")
    return f"{base} {label}" + (f" {part}" if part else "")


def _upper_levels(
    business: Business, branches: list[Org], orgs: Sequence[Org], rules: RuleSet, used: set[str]
) -> list[Org]:
    anchor_of: dict[str, str] = {}
    for b in branches:
        if not b.units:
            continue
        a = b.units[0]
        for u in b.units[1:]:
            a = business.lca(a, u) or a
        anchor_of[b.id] = a
    members_at: dict[str, int] = defaultdict(int)
    branches_at: dict[str, int] = defaultdict(int)
    for b in branches:
        if b.id in anchor_of:
            members_at[anchor_of[b.id]] += len(b.members)
            branches_at[anchor_of[b.id]] += 1
    sub_members: dict[str, int] = {}
    sub_branches: dict[str, int] = {}
    groups: dict[str, int] = {}
    children = business.children
    for u in reversed(business.order):
        kids = children.get(u)
        m, b = members_at.get(u, 0), branches_at.get(u, 0)
        g = b
        if kids:
            for c in kids:
                m += sub_members[c]
                sc = sub_branches[c]
                b += sc
                g += sc > 0
        sub_members[u], sub_branches[u], groups[u] = m, b, g
    old_upper = {}
    for o in orgs:
        if o.kind in rules.upper_kinds and len(o.units) == 1:
            old_upper.setdefault(o.units[0], o)
    out: list[Org] = []
    old_ids = {x.id: x for x in orgs}

    def make(u: str, kind: str) -> None:
        o = old_upper.get(u)
        if o is not None and o.id not in used:
            used.add(o.id)
            out.append(Org(o.id, None, kind, (u,), (), o.name, o.term_ends, o.committee))
        else:
            oid = _fresh_id(f"new:{u}:{kind}", old_ids, used)
            used.add(oid)
            out.append(Org(oid, None, kind, (u,), (), _new_name(business, (u,), kind, 0, rules)))

    for root in business.roots:
        if not sub_branches.get(root):
            continue
        top = root
        while groups[top] == 1 and branches_at.get(top, 0) == 0:
            top = next(c for c in business.children[top] if sub_branches[c])
        if sub_members[root] >= rules.primary_committee_at:
            make(top, rules.committee_kind)
            level = "committee"
        elif sub_members[top] >= rules.general_branch_at and sub_branches[top] >= 2:
            make(top, rules.general_kind)
            level = "general"
        else:
            level = "none"
        # below the top, descend to the next units where the business branches out again
        stack = [(c, level) for c in business.children.get(top, []) if sub_branches[c]]
        while stack:
            u, inside = stack.pop()
            here = inside
            if groups[u] >= 2 or branches_at[u] >= 2:
                if (
                    inside == "committee"
                    and rules.secondary_committee_at
                    and sub_members[u] >= rules.secondary_committee_at
                ):
                    make(u, rules.secondary_kind)
                    here = "secondary"
                elif (
                    inside in ("committee", "secondary")
                    and sub_members[u] >= rules.general_branch_at
                    and sub_branches[u] >= 2
                ):
                    make(u, rules.general_kind)
                    here = "general"
            if here == "general":
                continue  # a general branch has only branches under it
            stack.extend((c, here) for c in business.children.get(u, []) if sub_branches[c])
    return out


def _link_parents(business: Business, branches: list[Org], uppers: list[Org]) -> None:
    upper_at = {o.units[0]: o for o in uppers}
    for o in uppers:
        o.parent = next((upper_at[a].id for a in business.ancestors(o.units[0]) if a in upper_at), None)
    for b in branches:
        if not b.units:
            continue
        a = b.units[0]
        for u in b.units[1:]:
            a = business.lca(a, u) or a
        chain = [a] + business.ancestors(a)
        b.parent = next((upper_at[x].id for x in chain if x in upper_at), None)


# ----------------------------------------------------------------------------------------------- re-plan


@dataclass
class BusinessDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[dict] = field(default_factory=list)  # {unit, old_parent, new_parent}
    renamed: list[dict] = field(default_factory=list)
    merged: list[dict] = field(default_factory=list)  # {units: [...], into}
    split: list[dict] = field(default_factory=list)  # {unit, into: [...]}
    members_moved: int = 0

    @property
    def unchanged(self) -> bool:
        return not (
            self.added or self.removed or self.moved or self.renamed or self.merged or self.split or self.members_moved
        )

    def to_json(self) -> dict:
        d = asdict(self)
        d["unchanged"] = self.unchanged
        return d


def diff_business(old: Business, new: Business) -> BusinessDiff:
    """What changed between two versions of a business architecture: units added, removed (dissolved),
    moved (new parent), renamed, merged (removed units whose members went mostly to one unit, or units marked
    merged) and split (a unit whose members went to two or more units, at least one of them new)."""
    d = BusinessDiff()
    old_active = {u for u in old.units if old.is_active(u)}
    new_active = {u for u in new.units if new.is_active(u)}
    d.added = sorted(new_active - old_active)
    d.removed = sorted(old_active - new_active)
    for u in sorted(old_active & new_active):
        if old.units[u].parent != new.units[u].parent:
            d.moved.append({"unit": u, "old_parent": old.units[u].parent, "new_parent": new.units[u].parent})
        if old.units[u].name != new.units[u].name:
            d.renamed.append({"unit": u, "old_name": old.units[u].name, "new_name": new.units[u].name})
    # follow the members from their old unit to their new one
    flows: dict[str, Counter] = defaultdict(Counter)
    for m in old.members.values():
        nm = new.members.get(m.id)
        if nm is not None:
            flows[m.unit][nm.unit] += 1
            if nm.unit != m.unit:
                d.members_moved += 1
    into: dict[str, list[str]] = defaultdict(list)
    for u in d.removed:
        target = new.units[u].merged_into if u in new.units and new.units[u].merged_into else None
        if target is None and flows.get(u):
            dest, n = flows[u].most_common(1)[0]
            if dest != u and n * 2 >= sum(flows[u].values()):
                target = dest
        if target is not None:
            into[target].append(u)
    for target, units in sorted(into.items()):
        d.merged.append({"units": sorted(units), "into": target})
    added = set(d.added)
    for u, flow in sorted(flows.items()):
        total = sum(flow.values())
        parts = [v for v, n in flow.items() if n * 5 >= total and v != u]
        if total >= 2 and len([v for v, n in flow.items() if n * 5 >= total]) >= 2 and added & set(parts):
            d.split.append({"unit": u, "into": sorted(v for v, n in flow.items() if n * 5 >= total)})
    return d
