"""Plan: keep valid branches, form new ones bottom-up, pack joint branches, split big units.

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, compress, repeat

import numpy as np

from ..rules import RuleSet
from .audit import _audit
from .levels import _anchor_of, _branch_kind, _fresh_id, _kind_label, _link_parents, _new_name, _upper_levels
from .model import Business, Finding, Org, Progress, _Listing, _noop, no_gc
from .regions import _regions
from .validate import _validate_orgs

# ----------------------------------------------------------------------------------------------- plan


@dataclass
class Plan:
    organizations: list[Org]
    findings: list[Finding]  # the current tree's findings (what the plan addresses)
    remaining: list[Finding]  # findings of the planned tree
    stats: dict
    unplaced: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        with no_gc():  # hundreds of thousands of small dicts at national scale
            return {
                "organizations": [o.to_json() for o in self.organizations],
                "findings": [f.to_json() for f in self.findings],
                "remaining_findings": [f.to_json() for f in self.remaining],
                "stats": self.stats,
                "unplaced": self.unplaced,
            }


class _Piece:
    """Unorganized members waiting for a branch: on `units` (none: their units are dissolved)."""

    __slots__ = ("units", "members", "formal", "division", "total", "at")

    def __init__(self, units: tuple[str, ...], members: Sequence[str], formal: int, division: str, at: int = -1):
        self.units = units
        self.members = members
        self.formal = formal
        self.division = division
        self.total = len(members)
        self.at = at  # the position of its unit (-1: none)


@dataclass(slots=True)
class _NewBranch:
    units: tuple[str, ...]
    members: Sequence[str]  # its own list, or one of `members_of` when `ordered` (then never modified)
    joint: bool
    part: int = 0  # for balanced parts of one unit
    ordered: bool = False  # members in id order already
    formal: int = 0  # formal members among `members`
    at: int = -1  # position of its first unit (-1: not known)
    anchor: int = -1  # position of its anchor: its unit, or the units' lowest common ancestor (-1: not known)


class _Kept:
    """A kept branch while planning: its units, the members it covers now (its region) and the formal ones."""

    __slots__ = ("units", "members", "formal")

    def __init__(self, units: tuple[str, ...], members: list[str], formal: int):
        self.units, self.members, self.formal = units, members, formal


#: English texts of why members fit no branch: (reason, suggestion) templates over an entry's `params`, keyed
#: by its `text`. The web pages translate the same templates (xinye.organizations.findings.UNPLACED_TEMPLATES).
UNPLACED_MESSAGES: dict[str, tuple[str, str]] = {
    "units_dissolved": ("their units are dissolved and no active unit above them has room", ""),
    "no_branch_with_room": (
        "fewer than {floor} formal members in reach, and no branch nearby with room (at most {units} units and "
        "{cap} members)",
        "join a neighbouring street's branch, or a community-based joint branch",
    ),
}


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
    with no_gc():
        return _plan(business, orgs, rules, today=today, progress=progress, findings=findings)


def _plan(business: Business, orgs: Sequence[Org], rules: RuleSet, *, today, progress, findings) -> Plan:
    # the members the current organizations list, by index: made once for validation, audit and churn
    listing = _Listing.of(business, orgs) if any(o.members for o in orgs) else None
    _validate_orgs(orgs, business, rules, file="organizations", listing=listing)
    if findings is None:
        findings = _audit(business, orgs, rules, today=today, listing=listing)
    progress("audit", 1, 4)

    # 1. keep the valid existing branches (re-checking as dropped regions flow to enclosing branches)
    branch_kinds = rules.branch_kinds
    candidates = [o for o in orgs if o.kind in branch_kinds]
    company_formal = len(business.formal)
    while True:
        chosen = set(map(id, candidates))
        regions, region_formal, covered = _regions(
            business, candidates, listing.subset([id(o) in chosen for o in orgs]) if listing is not None else None
        )
        invalid = {
            b.id
            for b in candidates
            if not _valid_branch(business, b, region_formal[b.id], len(regions[b.id]), rules, company_formal)
        }
        if not invalid:
            break
        candidates = [b for b in candidates if b.id not in invalid]
    kept = candidates
    progress("kept", 2, 4)

    # 2. organize the rest bottom-up (the kept branches cover whole units: the rest is the other units)
    new_branches, leftovers = _form(business, covered, rules)
    unplaced: list[dict] = []
    # kept branches carry the members they cover now (their region), not the lists they came with
    branch_list: list[tuple[str | None, _NewBranch | _Kept]] = [
        (b.id, _Kept(b.units, regions[b.id], region_formal[b.id])) for b in kept
    ] + [(None, nb) for nb in new_branches]
    if leftovers:
        if not branch_list:
            members = [m for p in leftovers for m in p.members]
            root_units = tuple(
                sorted({business.roots[0]} if len(business.roots) == 1 else {u for p in leftovers for u in p.units})
            )
            formal = sum(p.formal for p in leftovers)
            branch_list.append((None, _NewBranch(root_units, members, joint=len(root_units) > 1, formal=formal)))
        else:
            unplaced = _attach_leftovers(business, leftovers, branch_list, rules)
    progress("branches", 3, 4)

    # 3. ids, upper levels, parents
    planned, formal_of, anchor_of = _finish(business, orgs, branch_list, regions, rules)
    churn, newly = _churn(business, orgs, listing, planned, rules)
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
    # the planned tree places everyone once but the unplaced, and the planner counted each branch's formal
    # members as it went: the audit takes both from here instead of looking up a million ids again
    placement = (
        [formal_of[o.id] for o in planned if o.kind in branch_kinds],
        {m for u in unplaced for m in u["members"]},
    )
    remaining = _audit(business, planned, rules, today=today, placement=placement, anchor_of=anchor_of)
    stats["findings_after"] = len(remaining)
    progress("done", 4, 4)
    return Plan(planned, findings, remaining, stats, unplaced)


def _same(a: Org, b: Org) -> bool:
    if a.parent != b.parent or a.kind != b.kind:
        return False
    if a.units != b.units and tuple(sorted(a.units)) != tuple(sorted(b.units)):
        return False
    return a.members == b.members or tuple(sorted(a.members)) == tuple(sorted(b.members))


def _churn(
    business: Business, orgs: Sequence[Org], listing: _Listing | None, planned: list[Org], rules: RuleSet
) -> tuple[int, int]:
    """Members whose branch changes, and members newly placed: a member's current branch is the first branch
    of `orgs` that lists them."""
    branch_kinds = rules.branch_kinds
    new_branches = [o for o in planned if o.kind in branch_kinds]
    is_old = [o.kind in branch_kinds for o in orgs]
    before = listing.subset(is_old) if listing is not None else None
    if before is None or not len(before.flat):
        return 0, sum(len(o.members) for o in new_branches)
    old_branches = list(compress(orgs, is_old))
    known = before.flat >= 0
    n_members = len(business._members_index().ids)
    if not (np.bincount(before.flat[known], minlength=n_members) > 1).any():
        # nobody was in two branches: a planned branch that lists what the old branch of its id listed moves
        # nobody, and nobody else was in that old branch
        old_by_id = {o.id: o for o in old_branches}
        new_branches = [
            o for o in new_branches if (b := old_by_id.get(o.id)) is None or not _same_members(o.members, b.members)
        ]
        if not new_branches:
            return 0, 0
    now = _Listing.of(business, new_branches)
    owner = np.repeat(np.arange(len(old_branches)), before.lens)
    members, first = np.unique(before.flat[known], return_index=True)
    was = np.full(n_members, -1, dtype=np.int64)
    was[members] = owner[known][first]
    # the old branch of each planned member, as the number of the planned branch with the same id (-2: none)
    same = {o.id: j for j, o in enumerate(new_branches)}
    old_as_new = np.asarray([same.get(o.id, -2) for o in old_branches] + [-1], dtype=np.int64)
    was_new = old_as_new[was[now.flat]]  # was == -1 picks the final -1: no branch before
    newly = int((was_new == -1).sum())
    placed_in = np.repeat(np.arange(len(new_branches)), now.lens)
    churn = int(((was_new != -1) & (was_new != placed_in)).sum())
    return churn, newly


def _same_members(a: Sequence[str], b: Sequence[str]) -> bool:
    """The same members in the same order (tuples compare item by item, the same strings by identity)."""
    return type(a) is type(b) and a == b


def _posts(o: Org) -> tuple[bool | None, bool | None, int | None]:
    """What an organization keeps of its posts when the plan keeps its id: committee, secretary, committee size."""
    return o.committee, o.secretary, o.committee_size


def _valid_branch(business: Business, b: Org, formal: int, total: int, rules: RuleSet, company_formal: int) -> bool:
    if not b.units or not all(business.is_active(u) for u in b.units):
        return False
    if len(b.units) > rules.joint_max_units:
        return False
    if total > rules.branch_cap and _splittable(business, b, formal, rules):
        return False
    return formal >= rules.min_formal_members or (company_formal < rules.min_formal_members and total > 0)


def _splittable(business: Business, b: Org, formal: int, rules: RuleSet) -> bool:
    """Whether an over-cap branch could be split: into two parts each reaching the floor, or along units."""
    return formal >= 2 * rules.min_formal_members or len(b.units) > 1


def _joined(pieces: Iterable[_Piece], head: Iterable[str] = ()) -> list[str]:
    out = list(head)
    for p in pieces:
        out.extend(p.members)
    return out


def _form(business: Business, covered: list[bool] | None, rules: RuleSet) -> tuple[list[_NewBranch], list[_Piece]]:
    """Bottom-up formation over the members of the units that no kept branch covers (`covered`, by position in
    the pre-order; None: no unit is covered); returns new branches and leftover pieces."""
    ix = business._index()
    floor, cap = rules.min_formal_members, rules.branch_cap
    order, mem, ufor, end, active, division = business.order, ix.mem, ix.ufor, ix.end, ix.active, ix.division
    pending: dict[int, list[_Piece]] = {}
    out: list[_NewBranch] = []
    for i in range(ix.n - 1, -1, -1):  # children before parents
        if covered is not None and covered[i]:
            own: Sequence[str] = ()
            own_formal = 0
        else:
            own = mem[i]
            own_formal = ufor[i]
        kids: list[_Piece] = []
        c, last = i + 1, end[i]
        while c <= last:  # the children of i
            got = pending.pop(c, None)
            if got:
                kids.extend(got)
            c = end[c] + 1
        if not own and not kids:
            continue
        u = order[i]
        if not kids:  # members of its own only (most units): the general case below, in short
            # (`own` is the unit's list in members_of here: pieces and branches share it, read only)
            if not active[i]:
                pending[i] = [_Piece((), own, own_formal, division[i])]
            elif own_formal < floor:
                pending[i] = [_Piece((u,), own, own_formal, division[i], i)]
            elif len(own) <= cap:
                out.append(_NewBranch((u,), own, joint=False, ordered=True, formal=own_formal, at=i))
            else:
                out.extend(_split(u, own, business, rules, at=i, ordered=True))
            continue
        own = list(own)
        if active[i] and any(not p.units for p in kids):
            # members of dissolved sub-units reach their first active unit: they count as its own
            for p in kids:
                if not p.units:
                    own.extend(p.members)
                    own_formal += p.formal
            kids = [p for p in kids if p.units]
        if not active[i]:
            # a dissolved or merged unit anchors nothing: its members wait at the parent
            pending[i] = kids + ([_Piece((), own, own_formal, division[i])] if own else [])
            continue
        pool_formal = own_formal + sum(p.formal for p in kids)
        pool_total = len(own) + sum(p.total for p in kids)
        if pool_formal >= floor and pool_total <= cap:
            out.append(_NewBranch((u,), _joined(kids, own), joint=False, formal=pool_formal, at=i))
            continue
        if pool_formal < floor:
            pending[i] = _merge_up(u, own, own_formal, kids, division[i], i)
            continue
        # too many for one branch: joint branches of small sub-units first, then the unit's own members
        groups, rest = _pack(kids, rules, business)
        for g in groups:
            # (each piece in a group is on one unit)
            at = sorted((p.units[0], p.at) for p in g)
            units = tuple(x for x, _ in at)
            nb = _NewBranch(units, _joined(g), True, 0, False, sum(p.formal for p in g), at[0][1])
            nb.anchor = _anchor_of(ix, [a for _, a in at])
            out.append(nb)
        rest_formal = own_formal + sum(p.formal for p in rest)
        rest_total = len(own) + sum(p.total for p in rest)
        if rest_formal >= floor and rest_total <= cap:
            out.append(_NewBranch((u,), _joined(rest, own), joint=False, formal=rest_formal, at=i))
        elif own_formal >= floor and rest_formal >= floor:
            out.extend(_split(u, _joined(rest, own), business, rules, at=i))
        elif rest_total:
            pending[i] = _merge_up(u, own, own_formal, rest, division[i], i)
    leftovers = [p for ps in pending.values() for p in ps]
    return out, leftovers


def _merge_up(u: str, own: list[str], own_formal: int, kids: list[_Piece], division: str, at: int) -> list[_Piece]:
    """Leftovers of unit u (at position `at`) for its parent. If u has unorganized members of its own, u
    becomes one piece (a branch on u would take its whole remaining subtree anyway); otherwise the sub-units'
    pieces go up."""
    if own:
        return [_Piece((u,), _joined(kids, own), own_formal + sum(p.formal for p in kids), division, at)]
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
    n_units = n_total = n_formal = 0  # of the open group
    rest: list[_Piece] = [p for p in pieces if not p.units or p.total > cap]
    for p in ordered:
        if open_group and (n_units + len(p.units) > max_units or n_total + p.total > cap):
            if n_formal >= floor:
                groups.append(open_group)
            else:
                rest.extend(open_group)
            open_group = []
            n_units = n_total = n_formal = 0
        open_group.append(p)
        n_units += len(p.units)
        n_total += p.total
        n_formal += p.formal
        if n_formal >= floor:
            groups.append(open_group)
            open_group = []
            n_units = n_total = n_formal = 0
    rest.extend(open_group)
    # a group under the floor may still join the last formed group if that keeps within the limits
    if rest and groups:
        last = groups[-1]
        n_units = sum(len(x.units) for x in last)
        n_total = sum(x.total for x in last)
        for p in list(rest):
            if p.units and n_units + len(p.units) <= max_units and n_total + p.total <= cap:
                last.append(p)
                rest.remove(p)
                n_units += len(p.units)
                n_total += p.total
    return groups, rest


def _split(
    u: str, members: Sequence[str], business: Business, rules: RuleSet, *, at: int = -1, ordered: bool = False
) -> list[_NewBranch]:
    """Balanced parts of one unit too big for one branch: as few parts as the cap allows, each with at least
    the floor of formal members; formal and probationary members spread evenly, in id order. (`ordered`:
    `members` are in id order already; `at`: the unit's position.)"""
    flags = list(map(business.formal.__contains__, members))
    formal = list(compress(members, flags))
    prob = list(compress(members, map(operator.not_, flags)))
    k = max(1, math.ceil(len(members) / rules.branch_cap))
    k = max(1, min(k, len(formal) // max(1, rules.min_formal_members)))
    if not ordered:
        formal.sort()
        prob.sort()
    spread = formal + prob
    parts = [spread[i::k] for i in range(k)]
    return [
        _NewBranch((u,), p, joint=False, part=i + 1 if k > 1 else 0, formal=len(range(i, len(formal), k)), at=at)
        for i, p in enumerate(parts)
    ]


def _attach_leftovers(business: Business, leftovers: list[_Piece], branch_list: list, rules: RuleSet) -> list[dict]:
    """Put the last small pieces into the nearest branch with room (the deepest common ancestor first, then
    the same division, then the smallest); report those that fit nowhere."""
    # candidates for a piece are the branches anchored in the subtree of its nearest ancestors; subtrees are
    # ranges of the pre-order, and each ancestor's list is built only when a piece asks for it
    ix = business._index()
    pos, end = ix.pos, ix.end
    # (position, branch) of every unit of every branch, by position; units that pieces bring come in `extra`
    counts = [len(b.units) for _, b in branch_list]
    unit_pos = np.fromiter(
        map(pos.get, chain.from_iterable(b.units for _, b in branch_list), repeat(-1)),
        dtype=np.int64,
        count=sum(counts),
    )
    owner = np.repeat(np.arange(len(branch_list), dtype=np.int64), counts)[unit_pos >= 0]
    unit_pos = unit_pos[unit_pos >= 0]
    by_pos = np.argsort(unit_pos, kind="stable")
    unit_pos, owner = unit_pos[by_pos], owner[by_pos]
    extra: list[tuple[int, int]] = []
    cache: dict[str, set[int]] = {}

    def near(a: str) -> set[int]:
        got = cache.get(a)
        if got is None:
            lo, hi = pos[a], end[pos[a]]
            left, right = np.searchsorted(unit_pos, [lo, hi + 1]).tolist()
            got = set(owner[left:right].tolist())
            got.update(idx for p, idx in extra if lo <= p <= hi)
            cache[a] = got
        return got

    unplaced = []
    for piece in leftovers:
        if not piece.units:
            unplaced.append(
                {
                    "members": list(piece.members),
                    "units": [],
                    "reason": UNPLACED_MESSAGES["units_dissolved"][0],
                    "text": "units_dissolved",
                    "params": {},
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
            params = {
                "floor": str(rules.min_formal_members),
                "units": str(rules.joint_max_units),
                "cap": str(rules.branch_cap),
            }
            reason, suggestion = (t.format(**params) for t in UNPLACED_MESSAGES["no_branch_with_room"])
            unplaced.append(
                {
                    "members": list(piece.members),
                    "units": list(piece.units),
                    "reason": reason,
                    "suggestion": suggestion,
                    "text": "no_branch_with_room",
                    "params": params,
                }
            )
            continue
        idx = best[1]
        old_id, b = branch_list[idx]
        if isinstance(b, _Kept):
            b = _NewBranch(tuple(b.units), list(b.members), joint=True, formal=b.formal)
            # an enlarged kept branch is a changed organization: it keeps its id through matching
            branch_list[idx] = (old_id, b)
        b.units = tuple(sorted(set(b.units) | set(piece.units)))
        b.members = b.members + piece.members
        b.joint = len(b.units) > 1
        b.ordered = False
        b.formal += piece.formal
        b.at = b.anchor = -1
        for u in piece.units:
            if u in pos:
                extra.append((pos[u], idx))
            for a in [u, *business.ancestors(u)]:
                if a in cache:
                    cache[a].add(idx)
    return unplaced


def _finish(
    business: Business, orgs: Sequence[Org], branch_list: list, regions: dict[str, list[str]], rules: RuleSet
) -> tuple[list[Org], dict[str, int], dict[str, int]]:
    """Ids for new branches, upper levels at the units where the business branches out, parents; the number
    of formal members of each branch and the position of its anchor (by id)."""
    ix = business._index()
    pos, depth, unit_at = ix.pos, ix.depth, ix.unit
    old = {o.id: o for o in orgs}
    used: set[str] = set()
    branches: list[Org] = []
    anchors: list[int] = []  # position of each branch's anchor (-1: none)
    firsts: list[int] = []  # position of each branch's first unit (-1: none), for the order of the result
    formal_of: dict[str, int] = {}
    # kept branches first: they keep their ids and names
    for old_id, b in branch_list:
        if old_id is not None and isinstance(b, _Kept):
            o = old[old_id]
            region = regions[o.id]
            region.sort()  # the planner's own list
            kind = _branch_kind(business, o.units, region, rules)
            name = o.name if kind == o.kind else _new_name(business, tuple(o.units), kind, 0, rules)
            term = o.term_ends if kind == o.kind else None
            branches.append(Org(o.id, None, kind, tuple(o.units), tuple(region), name, term, *_posts(o)))
            formal_of[o.id] = b.formal
            used.add(o.id)
            first = pos[o.units[0]]
            firsts.append(first)
            anchors.append(first if len(o.units) == 1 else _anchor_of(ix, [pos[u] for u in o.units]))
    branch_kinds = rules.branch_kinds
    dropped = [o for o in orgs if o.kind in branch_kinds and o.id not in used]
    member_owner: dict[str, str] = {}
    for o in dropped:
        member_owner.update(dict.fromkeys(o.members, o.id))
    anchor_index = {tuple(sorted(o.units)): o for o in dropped}
    counter: dict[str, int] = {}
    labels = {k: _kind_label(k) for k in rules.branch_kinds}
    for old_id, nb in branch_list:
        if old_id is not None and isinstance(nb, _Kept):
            continue
        units = nb.units
        kind = _branch_kind(business, units, nb.members, rules)
        key = tuple(sorted(units)) if len(units) > 1 else units
        match = old[old_id] if old_id is not None else None
        if match is None and anchor_index:
            cand = anchor_index.get(key)
            if cand is not None and cand.id not in used and not nb.part:
                match = cand
        if match is None and nb.members and member_owner:
            overlap = Counter(map(member_owner.get, nb.members))
            overlap.pop(None, None)
            best = max(((n, oid) for oid, n in overlap.items() if oid not in used), default=(0, None))
            if best[1] is not None and best[0] * 2 >= len(nb.members):
                match = old[best[1]]
        if not nb.ordered:
            assert isinstance(nb.members, list)  # the planner's own list (a shared one is `ordered`)
            nb.members.sort()
        members = tuple(nb.members)
        if not key:
            first = at = -1
        elif len(key) == 1:
            first = at = nb.at if nb.at >= 0 else pos[key[0]]
        elif nb.anchor >= 0:
            first, at = nb.at, nb.anchor
        else:
            first, at = pos[key[0]], _anchor_of(ix, [pos[u] for u in key])
        if match is not None and match.id not in used:
            oid = match.id
            used.add(oid)
            same = kind == match.kind
            name = match.name if same else _new_name(business, key, kind, 0, rules)
            branches.append(Org(oid, None, kind, key, members, name, match.term_ends if same else None, *_posts(match)))
        else:
            base = "+".join(key) if len(key) <= 2 else f"{key[0]}+{len(key) - 1}"
            n = counter[base] = counter.get(base, 0) + 1
            suffix = f"-{nb.part}" if nb.part else ("" if n == 1 else f"-{n}")
            # the name, as _new_name makes it
            u0 = unit_at[first] if first >= 0 else None
            name = (u0.name or u0.id) if u0 else "?"
            if len(key) > 1:
                name = f"{name} +{len(key) - 1}"
            name = f"{name} {labels[kind]}" + (f" {nb.part}" if nb.part else "")
            oid = f"new:{base}{suffix}"
            if oid in old or oid in used:
                oid = _fresh_id(oid, old, used)
            used.add(oid)
            # no committee and no secretary yet: the audit of the plan says what to elect, as it will after
            # approval
            branches.append(Org(oid, None, kind, key, members, name, None, False, False))
        formal_of[oid] = nb.formal
        firsts.append(first)
        anchors.append(at)
    uppers = _upper_levels(business, branches, anchors, orgs, rules, used)
    _link_parents(business, branches, anchors, uppers)
    # the result by the depth of the first unit, upper levels first, then by id (ids are unique): sorted by id,
    # then (stably) by depth and level as one number, rather than on a tuple for each of 100,000 organizations
    result = uppers + branches
    upper_kinds = rules.upper_kinds
    levels = [2 * depth[pos[o.units[0]]] + (o.kind not in upper_kinds) for o in uppers]
    levels += [
        2 * (depth[f] if f >= 0 else 0) + (o.kind not in upper_kinds) for o, f in zip(branches, firsts, strict=True)
    ]
    result_ids = [o.id for o in result]
    ordered = sorted(range(len(result)), key=result_ids.__getitem__)
    ordered.sort(key=levels.__getitem__)
    anchor_of = {b.id: a for b, a in zip(branches, anchors, strict=True)}
    return [result[k] for k in ordered], formal_of, anchor_of
