"""Upper levels and naming: general branches and committees above the branches, ids and names.

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from ..rules import RuleSet
from .model import Business, Org, _Index


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


def _kind_label(kind: str) -> str:
    return _KIND_LABELS.get(kind, kind) if kind in _KIND_LABELS else kind.replace("_", " ")


def _new_name(business: Business, units: tuple[str, ...], kind: str, part: int, rules: RuleSet) -> str:
    first = business.units.get(units[0]) if units else None
    base = (first.name or first.id) if first else "?"
    if len(units) > 1:
        base = f"{base} +{len(units) - 1}"
    return f"{base} {_kind_label(kind)}" + (f" {part}" if part else "")


def _branch_kind(business: Business, units: Sequence[str], members: Sequence[str], rules: RuleSet) -> str:
    """A branch over several units is a joint branch only when each of its units falls under the floor on its
    own (its formal members in the branch, those of its sub-units included, counted at the deepest of the
    branch's units above them); a unit with enough formal members that takes in a small neighbour's members
    keeps an ordinary branch (Regulations on the Work of Party Branches, art. 5)."""
    if len(units) <= 1:
        return rules.branch_kind
    return (
        rules.joint_kind
        if _each_under_floor(business, units, members, rules.min_formal_members)
        else (rules.branch_kind)
    )


def _each_under_floor(business: Business, units: Sequence[str], members: Sequence[str], floor: int) -> bool:
    ix = business._index()
    pos, end = ix.pos, ix.end
    below = ix.formal_below_list()
    if all(below[pos[u]] < floor for u in units if u in pos):
        return True  # no unit has that many formal members in its whole subtree
    spans = sorted(((pos[u], end[pos[u]]) for u in units if u in pos), reverse=True)  # deepest first on a path
    counts = [0] * len(spans)
    formal = business.formal
    unit_pos = _unit_positions(business, spans, len(members))
    for m in members:
        if m not in formal:
            continue
        p = unit_pos(m)
        for k, (lo, hi) in enumerate(spans):
            if lo <= p <= hi:
                counts[k] += 1
                if counts[k] >= floor:
                    return False
                break
    return True


def _unit_positions(business: Business, spans: list[tuple[int, int]], n: int) -> Callable[[str], int]:
    """How to find the position of a member's unit, for the members of the units in `spans` (subtrees, as ranges
    of positions; -1 for any other member): from those units' member lists when they hold few members beside
    the `n` members to look up (a joint branch of small units, the usual case), else from the business's
    members by id (on a business read from a file, that makes an index of all of them, once)."""
    ix = business._index()
    mem, below = ix.mem, ix.members_below()
    if sum(int(below[lo]) for lo, _ in spans) <= 4 * n + 1000:
        at = {m: p for lo, hi in spans for p in range(lo, hi + 1) for m in mem[p]}
        return lambda m: at.get(m, -1)
    pos, members = ix.pos, business.members
    return lambda m: pos.get(members[m].unit, -1)


def _anchor_of(ix: _Index, at: list[int]) -> int:
    """Position of the anchor of a branch on units at positions `at` (in the order of their ids): the lowest
    common ancestor of the first and each next one in turn, as `Business.lca` finds it (one in another tree
    is passed over)."""
    parent, depth = ix.parent, ix.depth
    a = at[0]
    for b in at[1:]:
        x, y = a, b
        while depth[x] > depth[y]:
            x = parent[x]
        while depth[y] > depth[x]:
            y = parent[y]
        while x != y and x >= 0 and y >= 0:
            x, y = parent[x], parent[y]
        if x >= 0 and y >= 0:
            a = x
    return a


def _desired_uppers(
    business: Business, anchors: Sequence[int], sizes: Sequence[int], kept: dict[int, str], rules: RuleSet
) -> list[tuple[int, str, bool, int, int]]:
    """The upper levels the rules call for over branches anchored at `anchors` (unit positions, -1: none) with
    `sizes` members: (unit position, kind, kept below its threshold, members and branches in its subtree), in
    the pre-order (outermost first).

    At the first unit where the business branches out, a committee when the company has
    `primary_committee_at` members, else a general branch when it has `general_branch_at` members over two or
    more branches. Below a committee, at every unit where the business branches out again, down to the lowest
    unit that gathers branches: a secondary committee at `secondary_committee_at` members, else a general
    branch at `general_branch_at` members over two or more branches; a general branch leads branches only.
    `kept` names the units that hold an approved committee (of either committee kind) now: such a committee is
    kept, though its body fell below the threshold, as long as branches remain under it (the rules let a
    committee be approved below its figure); the third field says so. Both the planner and the audit use this
    one function, so that the audit reports every upper level the plan would add, change or drop."""
    ix = business._index()
    n = ix.n
    anchors_a = np.asarray(anchors, dtype=np.int64)
    at = anchors_a[anchors_a >= 0]
    sizes_a = np.asarray(sizes, dtype=np.int64)[anchors_a >= 0]
    members_at = np.zeros(n, dtype=np.int64)
    np.add.at(members_at, at, sizes_a)
    branches_at_a = np.bincount(at, minlength=n)
    sub_branches_a = ix.subtree_sums(branches_at_a)
    parent = np.asarray(ix.parent, dtype=np.int64)
    # groups: branches at the unit, and sub-units with branches below them
    groups_a = branches_at_a + np.bincount(parent[(parent >= 0) & (sub_branches_a > 0)], minlength=n)
    sub_members_a = ix.subtree_sums(members_at)
    sub_members = sub_members_a.tolist()
    sub_branches, branches_at, groups = sub_branches_a.tolist(), branches_at_a.tolist(), groups_a.tolist()
    kids_of, pos = ix.kids, ix.pos
    committee, secondary, general = rules.committee_kind, rules.secondary_kind, rules.general_kind
    made: list[tuple[int, str, bool]] = []
    # a subtree with fewer members than the smallest figure, and no approved committee, holds no upper level:
    # the descent skips it (most units: the stations under a city)
    least = min(x for x in (rules.general_branch_at, rules.secondary_committee_at) if x > 0)
    kept_flags = np.zeros(n, dtype=np.int64)
    kept_flags[list(kept)] = 1
    worth = (sub_branches_a > 0) & ((sub_members_a >= least) | (ix.subtree_sums(kept_flags) > 0))
    # the children worth descending to, by parent, in order (found at once rather than by looking at every
    # child of every unit the descent passes: the stations under a city are most units)
    worth_kids: dict[int, list[int]] = defaultdict(list)
    for c in np.flatnonzero(worth & (parent >= 0)).tolist():
        worth_kids[ix.parent[c]].append(c)

    for root in business.roots:
        r = pos[root]
        if not sub_branches[r]:
            continue
        top = r
        while groups[top] == 1 and branches_at[top] == 0 and top not in kept:
            top = next(c for c in kids_of(top) if sub_branches[c])
        if sub_members[r] >= rules.primary_committee_at:
            made.append((top, committee, False))
        elif top in kept:
            made.append((top, committee, True))
        elif sub_members[top] >= rules.general_branch_at and sub_branches[top] >= 2:
            made.append((top, general, False))
        else:
            continue  # nothing is set up below the top either
        # below the top, descend to the next units where the business branches out again
        stack = list(worth_kids.get(top, ())) if made[-1][1] != general else []
        while stack:
            i = stack.pop()
            level = None
            if i in kept:
                below = not (rules.secondary_committee_at and sub_members[i] >= rules.secondary_committee_at)
                level = (i, secondary, below)
            elif groups[i] >= 2 or branches_at[i] >= 2:
                if rules.secondary_committee_at and sub_members[i] >= rules.secondary_committee_at:
                    level = (i, secondary, False)
                elif sub_members[i] >= rules.general_branch_at and sub_branches[i] >= 2:
                    level = (i, general, False)
            if level is not None:
                made.append(level)
                if level[1] == general:
                    continue  # a general branch has only branches under it
            stack.extend(worth_kids.get(i, ()))
    made.sort()
    return [(i, kind, below, sub_members[i], sub_branches[i]) for i, kind, below in made]


def _kept_committees(business: Business, orgs: Sequence[Org], rules: RuleSet) -> dict[int, str]:
    """Unit position -> id of the committee (either committee kind) on that one active unit, among `orgs`."""
    ix = business._index()
    out: dict[int, str] = {}
    for o in orgs:
        if o.kind in (rules.committee_kind, rules.secondary_kind) and len(o.units) == 1:
            p = ix.pos.get(o.units[0])
            if p is not None and business.is_active(o.units[0]):
                out.setdefault(p, o.id)
    return out


def _upper_levels(
    business: Business, branches: list[Org], anchors: list[int], orgs: Sequence[Org], rules: RuleSet, used: set[str]
) -> list[Org]:
    sizes = [len(b.members) for b in branches]
    kept = _kept_committees(business, orgs, rules)
    order = business.order
    old_upper: dict[str, Org] = {}
    upper_kinds = rules.upper_kinds
    for o in orgs:
        if o.kind in upper_kinds and len(o.units) == 1:
            old_upper.setdefault(o.units[0], o)
    out: list[Org] = []
    old_ids = {x.id: x for x in orgs}
    for i, kind, *_ in _desired_uppers(business, anchors, sizes, kept, rules):
        u = order[i]
        old = old_upper.get(u)
        if old is not None and old.id not in used:
            o = old
            used.add(o.id)
            if o.kind == kind:
                out.append(
                    Org(o.id, None, kind, (u,), (), o.name, o.term_ends, o.committee, o.secretary, o.committee_size)
                )
            else:  # a new kind: named by the rule, a new term (the stored tree starts it on approval)
                name = _new_name(business, (u,), kind, 0, rules)
                out.append(Org(o.id, None, kind, (u,), (), name, None, o.committee, o.secretary, o.committee_size))
        else:
            oid = _fresh_id(f"new:{u}:{kind}", old_ids, used)
            used.add(oid)
            out.append(Org(oid, None, kind, (u,), (), _new_name(business, (u,), kind, 0, rules), secretary=False))
    return out


def _link_parents(business: Business, branches: list[Org], anchors: list[int], uppers: list[Org]) -> None:
    """Each organization's parent: the nearest upper level at or above its anchor (strictly above, for an
    upper level)."""
    upper_at = {o.units[0]: o for o in uppers}
    if not upper_at:
        return  # no upper levels: every parent stays None
    ix = business._index()
    # nearest upper level at or above each position: subtrees are nested ranges of the pre-order, so
    # writing them outermost first leaves the nearest one on each position
    nearest = np.full(ix.n, -1, dtype=np.int64)
    ids: list[str] = []
    for p, o in sorted((ix.pos[u], o) for u, o in upper_at.items()):
        nearest[p : ix.end[p] + 1] = len(ids)
        ids.append(o.id)
    near = nearest.tolist()
    parent = ix.parent
    for o in uppers:
        p = parent[ix.pos[o.units[0]]]
        k = near[p] if p >= 0 else -1
        o.parent = ids[k] if k >= 0 else None
    for b, a in zip(branches, anchors, strict=True):
        if a >= 0:
            k = near[a]
            b.parent = ids[k] if k >= 0 else None
