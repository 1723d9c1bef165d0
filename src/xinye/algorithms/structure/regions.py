"""Regions: which members each branch covers (nearest branch up the business tree).

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import Business, Org, _Listing

# ----------------------------------------------------------------------------------------------- regions


def _regions(
    business: Business, branches: Sequence[Org], listing: _Listing | None = None
) -> tuple[dict[str, list[str]], dict[str, int], list[bool] | None]:
    """Members of each branch under the nearest-anchor rule (see module docstring), with the number of formal
    members of each, and for each unit position whether a branch covers it (None: no branch covers any).
    `listing` may pass the members `branches` list, made already."""
    ix = business._index()
    pos, active = ix.pos, ix.active
    anchored: dict[int, list[Org]] = {}
    for b in branches:
        for u in b.units:
            i = pos.get(u)
            if i is not None and active[i]:
                anchored.setdefault(i, []).append(b)
    out: dict[str, list[str]] = {b.id: [] for b in branches}
    formal_of = dict.fromkeys(out, 0)
    if not anchored:
        return out, formal_of, None
    parent, mem, ufor = ix.parent, ix.mem, ix.ufor
    is_formal = business.formal.__contains__
    owner: list[list[Org] | None] = [None] * ix.n
    listed: dict[str, str] | None = None
    first: list[int] | None = None  # by member index (with a listing): the first branch that lists each
    by_index = listing is not None and not (listing.flat < 0).any()
    for i in range(ix.n):  # pre-order: a unit's parent comes first
        cands = anchored.get(i)
        if cands is None:
            p = parent[i]
            if p < 0:
                continue
            cands = owner[p]
            if cands is None:
                continue
        owner[i] = cands
        ms = mem[i]
        if not ms:
            continue
        if len(cands) == 1:
            bid = cands[0].id
            out[bid].extend(ms)
            formal_of[bid] += ufor[i]
            continue
        ids = {c.id for c in cands}
        if by_index and listing is not None:
            # the branch that lists a member first, by member index (a unit's members are a range of them)
            mx = business._members_index()
            if first is None:
                owner_no = np.repeat(np.arange(len(branches)), listing.lens)
                indices, at = np.unique(listing.flat, return_index=True)
                first_a = np.full(len(mx.ids), -1, dtype=np.int64)
                first_a[indices] = owner_no[at]
                first = first_a.tolist()
            j = int(mx.starts[mx.unit_k[business.order[i]]])
            listed_by = [branches[k].id if k >= 0 else None for k in first[j : j + len(ms)]]
            formal_flags = mx.formal[j : j + len(ms)].tolist()
        else:
            if listed is None:  # the branch that lists a member first
                listed = {}
                for b in reversed(branches):
                    listed.update(dict.fromkeys(b.members, b.id))
            listed_by = list(map(listed.get, ms))
            formal_flags = list(map(is_formal, ms))
        for m, chosen, formal in zip(ms, listed_by, formal_flags, strict=True):
            if chosen not in ids:
                chosen = min(cands, key=lambda c: (len(out[c.id]), c.id)).id
            out[chosen].append(m)
            if formal:
                formal_of[chosen] += 1
    return out, formal_of, [c is not None for c in owner]
