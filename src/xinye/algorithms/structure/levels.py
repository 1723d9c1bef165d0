"""Upper levels and naming: general branches and committees above the branches, ids and names.

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

import operator
from collections.abc import Sequence

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


def _upper_levels(
    business: Business, branches: list[Org], anchors: list[int], orgs: Sequence[Org], rules: RuleSet, used: set[str]
) -> list[Org]:
    ix = business._index()
    n = ix.n
    anchors_a = np.asarray(anchors, dtype=np.int64)
    at = anchors_a[anchors_a >= 0]
    sizes = np.fromiter(map(len, map(operator.attrgetter("members"), branches)), dtype=np.int64, count=len(branches))
    sizes = sizes[anchors_a >= 0]
    members_at = np.zeros(n, dtype=np.int64)
    np.add.at(members_at, at, sizes)
    branches_at_a = np.bincount(at, minlength=n)
    sub_branches_a = ix.subtree_sums(branches_at_a)
    parent = np.asarray(ix.parent, dtype=np.int64)
    # groups: branches at the unit, and sub-units with branches below them
    groups_a = branches_at_a + np.bincount(parent[(parent >= 0) & (sub_branches_a > 0)], minlength=n)
    sub_members = ix.subtree_sums(members_at).tolist()
    sub_branches, branches_at, groups = sub_branches_a.tolist(), branches_at_a.tolist(), groups_a.tolist()
    kids_of, order, pos = ix.kids, business.order, ix.pos
    old_upper: dict[str, Org] = {}
    for o in orgs:
        if o.kind in rules.upper_kinds and len(o.units) == 1:
            old_upper.setdefault(o.units[0], o)
    out: list[Org] = []
    old_ids = {x.id: x for x in orgs}

    def make(i: int, kind: str) -> None:
        u = order[i]
        o = old_upper.get(u)
        if o is not None and o.id not in used:
            used.add(o.id)
            out.append(Org(o.id, None, kind, (u,), (), o.name, o.term_ends, o.committee))
        else:
            oid = _fresh_id(f"new:{u}:{kind}", old_ids, used)
            used.add(oid)
            out.append(Org(oid, None, kind, (u,), (), _new_name(business, (u,), kind, 0, rules)))

    for root in business.roots:
        r = pos[root]
        if not sub_branches[r]:
            continue
        top = r
        while groups[top] == 1 and branches_at[top] == 0:
            top = next(c for c in kids_of(top) if sub_branches[c])
        if sub_members[r] >= rules.primary_committee_at:
            make(top, rules.committee_kind)
            level = "committee"
        elif sub_members[top] >= rules.general_branch_at and sub_branches[top] >= 2:
            make(top, rules.general_kind)
            level = "general"
        else:
            continue  # nothing is set up below the top either
        # below the top, descend to the next units where the business branches out again
        stack = [(c, level) for c in kids_of(top) if sub_branches[c]]
        while stack:
            i, inside = stack.pop()
            here = inside
            if groups[i] >= 2 or branches_at[i] >= 2:
                if (
                    inside == "committee"
                    and rules.secondary_committee_at
                    and sub_members[i] >= rules.secondary_committee_at
                ):
                    make(i, rules.secondary_kind)
                    here = "secondary"
                elif (
                    inside in ("committee", "secondary")
                    and sub_members[i] >= rules.general_branch_at
                    and sub_branches[i] >= 2
                ):
                    make(i, rules.general_kind)
                    here = "general"
            if here == "general":
                continue  # a general branch has only branches under it
            stack.extend((c, here) for c in kids_of(i) if sub_branches[c])
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
