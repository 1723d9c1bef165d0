"""Liaison assignment: each member keeps in touch with a few workers near where they work. Pure numpy/scipy.

Every worker gets at most one member (their liaison); every member gets at most `max_load` workers (or
the `capacity` given for that member, the per-branch k of the app), and the method tries to give every
member at least `min_load` when enough workers are near. Existing pairs that are still valid are kept, so
a re-run with nothing changed changes nothing. Coordinates are WGS-84 (lat, lon) degrees; distances are
great-circle metres.

Cost of a pair (metres)
-----------------------
    cost(member, worker) = distance
                         + occupation_penalty_m  unless both name the same occupation (default 300 m)
                         + platform_penalty_m    when both list platforms and share none (default 150 m)

A pair further apart than `max_km` (default 5 km) is not allowed. Objective, minimised over all
assignments of the candidate graph (below):

    sum of pair costs + leave_out_cost * (workers left out) - min_bonus * sum over members of min(load, min)

with ``min_bonus = 1000 x max_km + both penalties`` (a member below `min_load` takes a worker from a member
above it, or one left out, whatever the extra distance within `max_km`) and ``leave_out_cost = 4 x
min_bonus``: covering workers comes first, then minimum loads, then distance. When capacity is short (50,000
members x 10 < 1,000,000 workers) the workers covered are the ones closest to members.

Method
------
1. Kept pairs: an existing pair is kept when both ids still exist, they are within `max_km` and the member
   is not over capacity (then its cheapest pairs are kept, ties by worker id). Kept pairs are fixed.
2. Candidate graph: for each other worker, the `candidates` (default 8) nearest members with room within
   `max_km`, and each member's 2 x capacity nearest workers (so no member is in nobody's list), from k-d trees
   over unit vectors (chord order = great-circle order); a worker keeps its `candidates` + 4 cheapest.
3. Greedy by cost as deferred acceptance (Gale and Shapley 1962): workers propose to their candidates
   cheapest first, a member keeps its cheapest proposals up to its capacity; all workers at once in numpy,
   at most `candidates` rounds. This is the greedy matching (cheapest pair first) of the candidate graph.
4. Room left: members with room look for the nearest workers left out within `max_km` (beyond the lists of
   step 2), who then propose to them; repeated until no member with room has a worker left out in reach.
   So a worker left out either has no member within `max_km`, or all of those are full.
5. Minimum loads: a member below `min_load` takes the worker whose move costs least from a member above its
   minimum (if the move adds at most the bonus); members who gave one away take workers left out.
6. Improving chains (augmenting paths of the min-cost flow, found by Bellman-Ford over members): a worker left
   out joins member m1, m1 passes a worker to m2, ... until a member with room takes one (one more worker
   covered) or the last member lets its costliest worker go (less cost in total). Then swaps: two workers
   of two members trade places, or one moves to a member with room, when that costs less. Loads never fall
   below the minimum on the way. Then steps 5 and 4 again.

The result is not proven optimal: against an exact min-cost flow on the same candidate graph it covers as
many workers, and its total cost is within 0.2 % of the optimum's on the benchmark city of 1,000,000 workers
(about 2 x faster than OR-Tools there; benchmarks/results/liaison.md); on random small cases the tests hold
it to the optimum's coverage and 5 % of its distance (worst seen 3.2 % over 200 cases).

Continuity: kept pairs are fixed, so a re-run with the previous pairs changes nothing; a worker whose pair is
no longer valid is placed again, and the slot it frees may go to a worker who had no liaison.
Deterministic: inputs are ordered by id and ties go to the lower member id, then the lower worker id.

References
----------
Gale, D., & Shapley, L. S. (1962). College admissions and the stability of marriage. The American
Mathematical Monthly, 69(1), 9-15. Ahuja, R. K., Magnanti, T. L., & Orlin, J. B. (1993). Network Flows,
ch. 9 (min-cost flow, negative cycles and augmenting paths).

Examples
--------
>>> ms = [Member("m1", 22.5, 114.0, "courier", capacity=1), Member("m2", 22.5, 114.02, "courier", capacity=1)]
>>> ws = [Worker("w1", 22.5, 114.001, "courier"), Worker("w2", 22.5, 114.019, "courier")]
>>> r = assign(ms, ws, min_load=0, max_load=1)
>>> [(p.member, p.worker) for p in r.pairs]
[('m1', 'w1'), ('m2', 'w2')]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .errors import InputError, RowError
from .geo import chord_of, chord_to_m, unit_vectors
from .tabular import csv_dict_writer, read_csv_rows

Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class Member:
    id: str
    lat: float
    lon: float
    occupation: str = ""
    platforms: tuple[str, ...] = ()
    capacity: int | None = None  # overrides max_load for this member (the per-branch k)


@dataclass(frozen=True)
class Worker:
    id: str
    lat: float
    lon: float
    occupation: str = ""
    platforms: tuple[str, ...] = ()


class Pair(NamedTuple):
    member: str
    worker: str
    distance_m: float
    kept: bool = False


class LeftOut(NamedTuple):
    worker: str
    reason: str


@dataclass
class AssignmentResult:
    pairs: list[Pair]
    unassigned: list[LeftOut]
    stats: dict = field(default_factory=dict)

    def to_rows(self) -> list[dict]:
        """Rows of PAIRS.csv: member, worker, distance_m, reason; a worker left out has an empty member."""
        rows = [
            {"member": p.member, "worker": p.worker, "distance_m": f"{p.distance_m:.0f}", "reason": ""}
            for p in self.pairs
        ]
        rows += [{"member": "", "worker": u.worker, "distance_m": "", "reason": u.reason} for u in self.unassigned]
        return rows


# ----------------------------------------------------------------------------------------------- graph


class Graph:
    """The instance as arrays, in id order: the candidate edges (worker, member, cost, distance), the
    members' remaining slots and the objective's constants. Used by `assign` and by exact solvers that
    check it (tests, benchmarks)."""

    def __init__(self, n_workers: int, lo: np.ndarray, hi: np.ndarray, bonus: float, leave_out: float):
        self.n_workers = n_workers
        self.lo = lo  # slots with the min-load bonus, per member
        self.hi = hi  # further slots, per member
        self.bonus = bonus
        self.leave_out = leave_out
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, w: np.ndarray, m: np.ndarray, cost: np.ndarray, dist: np.ndarray) -> None:
        self._parts.append((w, m, cost, dist))

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(worker, member, cost, distance) of every distinct candidate edge, sorted by worker then member."""
        if not self._parts:
            e = np.array([], dtype=np.int64)
            return e, e, np.array([]), np.array([])
        w, m, c, d = (np.concatenate(x) for x in zip(*self._parts, strict=True))
        key = w.astype(np.int64) * (len(self.lo) + 1) + m
        _, first = np.unique(key, return_index=True)
        return w[first], m[first], c[first], d[first]


# ----------------------------------------------------------------------------------------------- method


def _propose(
    workers: np.ndarray, cand: np.ndarray, cost: np.ndarray, cap: np.ndarray, member_of: np.ndarray, held_cost
) -> int:
    """Greedy by cost, as deferred acceptance: free workers propose to their candidates cheapest first; a member
    keeps its cheapest proposals up to its capacity (ties: lower worker id) and rejects the rest, who propose
    to their next candidate. All free workers propose at once (numpy); at most `cand.shape[1]` rounds. The
    result is the greedy matching (cheapest pair first) of the candidate graph; `member_of`/`held_cost` are
    updated in place. Returns the number of rounds."""
    n_m = len(cap)
    width = max(1, int(cap.max()) if n_m else 1)
    # each member's workers, cheapest first, as rows of a table (padding: worker -1 at cost inf)
    slot_w = np.full((n_m, width), -1, dtype=np.int64)
    slot_c = np.full((n_m, width), np.inf)
    on = np.flatnonzero(member_of >= 0)
    if len(on):
        m = member_of[on]
        order = np.lexsort((on, held_cost[on], m))
        m, w = m[order], on[order]
        start = np.flatnonzero(np.r_[True, m[1:] != m[:-1]])
        rank = np.arange(len(m)) - np.repeat(start, np.diff(np.r_[start, len(m)]))
        slot_w[m, rank] = w
        slot_c[m, rank] = held_cost[w]
    nxt = np.zeros(len(member_of), dtype=np.int64)  # next column to propose to
    bidders = np.sort(workers[member_of[workers] < 0])
    kwidth = cand.shape[1]
    rounds = 0
    while len(bidders):
        rounds += 1
        col = nxt[bidders]
        alive = col < kwidth
        bidders, col = bidders[alive], col[alive]
        m = cand[bidders, col]
        alive = m < n_m
        bidders, col, m = bidders[alive], col[alive], m[alive]
        if not len(bidders):
            break
        nxt[bidders] = col + 1
        c = cost[bidders, col]
        # the members' current workers plus the proposals; keep the cheapest cap of each member
        ms = np.flatnonzero(np.bincount(m, minlength=n_m))
        held = slot_w[ms] >= 0
        ent_m = np.concatenate([np.repeat(ms, width).reshape(-1, width)[held], m])
        ent_c = np.concatenate([slot_c[ms][held], c])
        ent_w = np.concatenate([slot_w[ms][held], bidders])
        order = np.lexsort((ent_w, ent_c, ent_m))
        ent_m, ent_c, ent_w = ent_m[order], ent_c[order], ent_w[order]
        start = np.flatnonzero(np.r_[True, ent_m[1:] != ent_m[:-1]])
        rank = np.arange(len(ent_m)) - np.repeat(start, np.diff(np.r_[start, len(ent_m)]))
        keep = rank < cap[ent_m]
        slot_w[ms] = -1
        slot_c[ms] = np.inf
        slot_w[ent_m[keep], rank[keep]] = ent_w[keep]
        slot_c[ent_m[keep], rank[keep]] = ent_c[keep]
        member_of[ent_w[keep]] = ent_m[keep]
        held_cost[ent_w[keep]] = ent_c[keep]
        lost = ent_w[~keep]
        member_of[lost] = -1
        held_cost[lost] = np.inf
        bidders = np.sort(lost)
    return rounds


def _fill_minimum(
    workers: np.ndarray,
    cand: np.ndarray,
    cost: np.ndarray,
    cap: np.ndarray,
    min_cap: np.ndarray,
    member_of: np.ndarray,
    held_cost: np.ndarray,
    bonus: float,
    limit: int = 100,
) -> int:
    """Members below their minimum take workers from members above theirs (or workers left out), the move that
    adds the least cost first, if it adds at most `bonus`; members who gave a worker away then take workers
    left out with `_propose`. Repeated until nothing moves. Returns the number of moves."""
    n_m = len(cap)
    moves = 0
    for _ in range(limit):
        load = np.bincount(member_of[member_of >= 0], minlength=n_m)
        under = np.append(load < min_cap, False)
        if not under[:-1].any():
            break
        sub = cand[workers]
        rows, cols = np.nonzero(under[sub])
        w, m = workers[rows], sub[rows, cols]
        donor = member_of[w]
        spare = np.append(load - min_cap, 0)[donor]  # donor -1: a worker left out (no donor)
        ok = (donor < 0) | (spare > 0)
        w, m, donor, c = w[ok], m[ok], donor[ok], cost[w[ok], cols[ok]]
        delta = c - np.where(donor >= 0, held_cost[w], np.inf)
        ok = delta <= bonus
        w, m, donor, c, delta = w[ok], m[ok], donor[ok], c[ok], delta[ok]
        if not len(w):
            break
        order = np.lexsort((m, w, delta))
        need = (min_cap - load).tolist()
        spare_left = (load - min_cap).tolist()
        taken: set[int] = set()
        moved = []
        for wi, mi, di, ci in zip(
            w[order].tolist(), m[order].tolist(), donor[order].tolist(), c[order].tolist(), strict=True
        ):
            if wi in taken or need[mi] <= 0 or (di >= 0 and spare_left[di] <= 0):
                continue
            taken.add(wi)
            need[mi] -= 1
            if di >= 0:
                spare_left[di] -= 1
            moved.append((wi, mi, ci))
        if not moved:
            break
        mw, mm, mc = (np.array(x) for x in zip(*moved, strict=True))
        member_of[mw] = mm
        held_cost[mw] = mc
        moves += len(moved)
        load = np.bincount(member_of[member_of >= 0], minlength=n_m)
        out = workers[member_of[workers] < 0]
        out = out[np.append(load < cap, False)[cand[out]].any(axis=1)]
        _propose(out, cand, cost, cap, member_of, held_cost)
    return moves


def _min_chains(
    workers: np.ndarray,
    cand: np.ndarray,
    cost: np.ndarray,
    cap: np.ndarray,
    min_cap: np.ndarray,
    member_of: np.ndarray,
    held_cost: np.ndarray,
    bonus: float,
    rounds: int = 8,
    depth: int = 6,
) -> int:
    """Chains for members below their minimum: member u takes a worker from member x1, x1 takes one from x2,
    ... from a member above its minimum, when the added cost is below the bonus. Cheapest chains by
    Bellman-Ford over members (a step that lowers the cost counts as free), each member in at most one chain
    per round. Returns the number of chains."""
    n_m = len(cap)
    applied = 0
    for _ in range(rounds):
        on = workers[member_of[workers] >= 0]
        if not len(on):
            break
        a = member_of[on]
        load = np.bincount(a, minlength=n_m)
        under = load < min_cap
        spare = load > min_cap
        if not under.any() or not spare.any():
            break
        sub = cand[on]
        step = np.maximum(cost[on] - held_cost[on][:, None], 0.0)
        step[(sub == a[:, None]) | (sub >= n_m)] = np.inf
        rows, cols = np.nonzero(np.isfinite(step))
        if not len(rows):
            break
        o = np.lexsort((rows, sub[rows, cols]))  # entries grouped by target member, then by row
        rows, cols = rows[o], cols[o]
        tgt, es, ea = sub[rows, cols], step[rows, cols], a[rows]
        first = np.flatnonzero(np.r_[True, tgt[1:] != tgt[:-1]])
        t = tgt[first]
        sizes = np.diff(np.r_[first, len(tgt)])
        idx = np.arange(len(tgt))
        g = np.full(n_m, np.inf)  # cost to bring one more worker into a member
        via = np.full(n_m, -1, dtype=np.int64)
        for _ in range(depth):
            v = es + np.where(spare[ea], 0.0, g[ea])
            vmin = np.minimum.reduceat(v, first)
            better = vmin < g[t] - 1e-9
            if not better.any():
                break
            pos = np.minimum.reduceat(np.where(v == np.repeat(vmin, sizes), idx, len(v)), first)
            g[t[better]] = vmin[better]
            via[t[better]] = rows[pos[better]]
        us = np.flatnonzero(under & (g < bonus))
        if not len(us):
            break
        us = us[np.argsort(g[us], kind="stable")]
        used = [False] * n_m
        via_l, a_l, on_l, spare_l = via.tolist(), a.tolist(), on.tolist(), spare.tolist()
        moves: list[tuple[int, int]] = []
        count = 0
        for u in us.tolist():
            chain: list[tuple[int, int]] = []  # (worker, member) moves along the path
            x, seen = u, {u}
            while True:
                row = via_l[x]
                if row < 0:
                    chain = []
                    break
                frm = a_l[row]
                chain.append((on_l[row], x))
                if spare_l[frm] or frm in seen or len(chain) > depth:
                    ok = spare_l[frm] and frm not in seen
                    if not ok:
                        chain = []
                    seen.add(frm)
                    break
                seen.add(frm)
                x = frm
            if not chain or any(used[m] for m in seen):
                continue
            for m in seen:
                used[m] = True
            moves += chain
            count += 1
        if not count:
            break
        mw = np.array([w for w, _ in moves], dtype=np.int64)
        mm = np.array([m for _, m in moves], dtype=np.int64)
        member_of[mw] = mm
        held_cost[mw] = cost[mw, (cand[mw] == mm[:, None]).argmax(axis=1)]
        applied += count
    return applied


def _improve(
    workers: np.ndarray,
    cand: np.ndarray,
    cost: np.ndarray,
    cap: np.ndarray,
    member_of: np.ndarray,
    held_cost: np.ndarray,
    leave_out: float,
    rounds: int | None = None,
    depth: int | None = None,
) -> int:
    """Improving chains for workers left out: a worker left out joins member m1, who passes one of its workers to
    m2, ... until a member with room takes one (one more worker covered) or the last member lets its costliest
    worker go (cheaper in total). Shortest chains by Bellman-Ford over members (numpy, `depth` steps), then
    applied cheapest first, each member in at most one chain per round. Up to 100,000 workers the search goes
    on until no chain is left (at most 200 rounds of 50 steps); above, 20 rounds of 6 steps (within 0.01 % of
    the optimum on the benchmark city). Returns the number of chains."""
    n_m = len(cap)
    small = len(workers) <= 100_000
    rounds = rounds or (200 if small else 20)
    depth = depth or (50 if small else 6)
    applied = 0
    for _ in range(rounds):
        mo = member_of[workers]
        on, off = workers[mo >= 0], workers[mo < 0]
        if not len(off) or not len(on):
            break
        a = member_of[on]
        load = np.bincount(a, minlength=n_m)
        # the costliest worker of each member (ties: higher worker id) and the value of letting it go
        order = np.lexsort((on, held_cost[on], a))
        last = np.r_[a[order][1:] != a[order][:-1], True]
        eject_w = np.full(n_m, -1, dtype=np.int64)
        eject_w[a[order][last]] = on[order][last]
        dist = np.full(n_m + 1, np.inf)
        has = eject_w >= 0
        dist[:n_m][has] = leave_out - held_cost[eject_w[has]]
        nxt = np.full(n_m, -2, dtype=np.int64)  # -2: let the costliest worker go; -1: has room; else next member
        nxt[~has] = -3  # nothing to do
        room = load < cap
        dist[:n_m][room] = 0.0
        nxt[room] = -1
        via = np.full(n_m, -1, dtype=np.int64)
        sub = cand[on]
        # a step that lowers the cost counts as free: no negative cycles, and a chain found is no worse than
        # computed (swaps between full members are not searched)
        step = np.maximum(cost[on] - held_cost[on][:, None], 0.0)
        step[sub == a[:, None]] = np.inf
        r = np.arange(len(on))
        by_member = np.argsort(a, kind="stable")
        a_sorted = a[by_member]
        first = np.r_[0, np.flatnonzero(a_sorted[1:] != a_sorted[:-1]) + 1]
        members = a_sorted[first]
        sizes = np.diff(np.r_[first, len(on)])
        sub_s, step_s = sub[by_member], step[by_member]  # rows grouped by member
        for _ in range(depth):
            val = step_s + dist[sub_s]
            j = val.argmin(axis=1)
            best = val[r, j]
            mins = np.minimum.reduceat(best, first)
            better = (mins < dist[members] - 1e-9) & ~room[members]
            if not better.any():
                break
            # the row achieving the minimum (lowest position = lowest worker id among ties)
            hit = best == np.repeat(mins, sizes)
            pos = np.minimum.reduceat(np.where(hit, r, len(on)), first)
            upd = members[better]
            dist[upd] = mins[better]
            via[upd] = on[by_member[pos[better]]]
            nxt[upd] = sub_s[pos[better], j[pos[better]]]
        sub0 = cand[off]
        val0 = cost[off] + dist[sub0]
        j0 = val0.argmin(axis=1)
        gain = leave_out - val0[np.arange(len(off)), j0]
        good = np.flatnonzero(gain > 1e-6)
        if not len(good):
            break
        # the best worker left out for each first member (chains from one member share the rest)
        first_m = sub0[good, j0[good]]
        good = good[np.lexsort((off[good], -gain[good], first_m))]
        first_m = sub0[good, j0[good]]
        good = good[np.r_[True, first_m[1:] != first_m[:-1]]]
        good = good[np.lexsort((off[good], -gain[good]))]
        used = [False] * n_m
        nxt_l, via_l, eject_l = nxt.tolist(), via.tolist(), eject_w.tolist()
        moves: list[tuple[int, int]] = []
        count = 0
        for w0, m in zip(off[good].tolist(), sub0[good, j0[good]].tolist(), strict=True):
            path = [m]
            seen = {m}
            while nxt_l[m] >= 0 and len(path) <= depth:
                m = nxt_l[m]
                if m in seen:
                    break
                seen.add(m)
                path.append(m)
            end = nxt_l[path[-1]]
            if end not in (-1, -2) or any(used[x] for x in path):
                continue
            for x in path:
                used[x] = True
            moves.append((w0, path[0]))
            for x, y in zip(path[:-1], path[1:], strict=True):
                moves.append((via_l[x], y))
            if end == -2:
                moves.append((eject_l[path[-1]], -1))
            count += 1
        if not count:
            break
        mw = np.array([x for x, _ in moves], dtype=np.int64)
        mm = np.array([y for _, y in moves], dtype=np.int64)
        member_of[mw] = mm
        ok = mm >= 0
        cols = (cand[mw[ok]] == mm[ok][:, None]).argmax(axis=1)
        held_cost[mw[ok]] = cost[mw[ok], cols]
        held_cost[mw[~ok]] = np.inf
        applied += count
    return applied


def _swap(
    workers: np.ndarray,
    cand: np.ndarray,
    cost: np.ndarray,
    cap: np.ndarray,
    min_cap: np.ndarray,
    member_of: np.ndarray,
    held_cost: np.ndarray,
    rounds: int = 6,
) -> int:
    """Two workers of two members trade places when that is cheaper in total; a worker moves to a member with
    room when that is cheaper and its member stays at its minimum. Best first, each member once per round.
    Returns the number of moves."""
    n_m = len(cap)
    done = 0
    for _ in range(rounds):
        on = workers[member_of[workers] >= 0]
        if not len(on):
            break
        a = member_of[on]
        load = np.bincount(a, minlength=n_m)
        sub = cand[on]
        step = cost[on] - held_cost[on][:, None]
        rows, cols = np.nonzero((sub < n_m) & (sub != a[:, None]))
        if not len(rows):
            break
        ea, eb, es, ew = a[rows], sub[rows, cols], step[rows, cols], on[rows]
        key = ea * n_m + eb
        # only a move that lowers the cost can start a swap or a move to room: keep those and their reverses
        neg = es < -1e-6
        if not neg.any():
            break
        want = np.unique(np.concatenate([key[neg], eb[neg] * n_m + ea[neg]]))
        pos = np.minimum(np.searchsorted(want, key), len(want) - 1)
        sel = want[pos] == key
        key, ea, eb, es, ew = key[sel], ea[sel], eb[sel], es[sel], ew[sel]
        order = np.lexsort((ew, es, key))
        key, ea, eb, es, ew = key[order], ea[order], eb[order], es[order], ew[order]
        first = np.r_[True, key[1:] != key[:-1]]
        key, ea, eb, es, ew = key[first], ea[first], eb[first], es[first], ew[first]
        # moves to a member with room
        room = load < cap
        spare = load > min_cap
        mv = np.flatnonzero(room[eb] & spare[ea] & (es < -1e-6))
        # swaps: the best worker a -> b with the best worker b -> a
        rev = np.searchsorted(key, eb * n_m + ea)
        rev = np.minimum(rev, len(key) - 1)
        has = key[rev] == eb * n_m + ea
        gain = np.where(has, es + es[rev], np.inf)
        sw = np.flatnonzero((gain < -1e-6) & (ea < eb))
        cand_moves = [(float(es[i]), 0, int(i)) for i in mv.tolist()] + [
            (float(gain[i]), 1, int(i)) for i in sw.tolist()
        ]
        if not cand_moves:
            break
        cand_moves.sort(key=lambda t: (t[0], t[1], int(ew[t[2]])))
        used: set[int] = set()
        mw: list[int] = []
        mm: list[int] = []
        for _g, kind, i in cand_moves:
            x, y = int(ea[i]), int(eb[i])
            if x in used or y in used:
                continue
            used.update((x, y))
            mw.append(int(ew[i]))
            mm.append(y)
            if kind:
                mw.append(int(ew[rev[i]]))
                mm.append(x)
        mw_a, mm_a = np.array(mw, dtype=np.int64), np.array(mm, dtype=np.int64)
        member_of[mw_a] = mm_a
        held_cost[mw_a] = cost[mw_a, (cand[mw_a] == mm_a[:, None]).argmax(axis=1)]
        done += len(mw)
    return done


# ----------------------------------------------------------------------------------------------- assign


class _People:
    """Members or workers as arrays, ordered by id; `errors` collects what is wrong with them."""

    def __init__(
        self,
        people: Sequence,
        codes: dict[str, int],
        platforms: dict[str, int],
        file: str,
        kind: str,
        errors: list[RowError],
    ):
        ids = [p.id for p in people]
        lat = np.array([p.lat for p in people], dtype=float) if _all_numbers(people, "lat") else None
        lon = np.array([p.lon for p in people], dtype=float) if _all_numbers(people, "lon") else None
        caps = [getattr(p, "capacity", None) for p in people]
        bad_ll = (
            np.ones(len(people), dtype=bool)
            if lat is None or lon is None
            else ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
        )
        if len(set(ids)) != len(ids) or not all(ids) or bad_ll.any() or any(c is not None for c in caps):
            seen: set[str] = set()
            for i, p in enumerate(people):
                where = f"{kind}[{i}] (id {p.id!r})"
                if not p.id:
                    errors.append(RowError(file, f"{kind}[{i}]", "id", p.id, "an id is required"))
                elif p.id in seen:
                    errors.append(RowError(file, where, "id", p.id, "duplicate id"))
                seen.add(p.id)
                if bad_ll[i] and not _valid_latlon(p.lat, p.lon):
                    errors.append(
                        RowError(file, where, "lat/lon", f"{p.lat},{p.lon}", "not a WGS-84 latitude/longitude")
                    )
                cap = caps[i]
                if cap is not None and (not isinstance(cap, int) or cap < 0):
                    errors.append(RowError(file, where, "capacity", cap, "capacity must be a whole number >= 0"))
        if errors:
            return
        # without errors every latitude and longitude is a number (else `bad_ll` flagged every row)
        assert lat is not None and lon is not None
        order = sorted(range(len(ids)), key=ids.__getitem__)
        oi = np.array(order, dtype=np.int64)
        self.ids = [ids[i] for i in order]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.xyz = unit_vectors(lat[oi], lon[oi]) if len(oi) else np.zeros((0, 3))
        self.capacity = [caps[i] for i in order]
        occ_code: dict[str, int] = {}
        for p in people:  # distinct spellings first, then one code per occupation
            if p.occupation not in occ_code:
                o = p.occupation.strip().lower()
                occ_code[p.occupation] = codes.setdefault(o, len(codes)) if o else -1
        self.occ = np.array([occ_code[people[i].occupation] for i in order], dtype=np.int64)
        plat_row: dict[tuple[str, ...], int] = {}
        rows = []
        for i in order:
            key = tuple(people[i].platforms)
            if key not in plat_row:
                plat_row[key] = len(plat_row)
                for x in key:
                    if x.strip():
                        platforms.setdefault(x.strip().lower(), len(platforms))
            rows.append(plat_row[key])
        self._plat_keys = list(plat_row)
        self._plat_rows = np.array(rows, dtype=np.int64)
        self.platform_names = platforms

    def platform_mask(self) -> np.ndarray:
        words = max(1, (len(self.platform_names) + 63) // 64)
        table = np.zeros((max(1, len(self._plat_keys)), words), dtype=np.uint64)
        for r, key in enumerate(self._plat_keys):
            for x in key:
                if x.strip():
                    b = self.platform_names[x.strip().lower()]
                    table[r, b // 64] |= np.uint64(1) << np.uint64(b % 64)
        return table[self._plat_rows] if len(self._plat_rows) else np.zeros((0, words), dtype=np.uint64)


def _all_numbers(people: Sequence, attr: str) -> bool:
    return all(isinstance(getattr(p, attr), int | float) and not isinstance(getattr(p, attr), bool) for p in people)


def _valid_latlon(lat, lon) -> bool:
    ok = isinstance(lat, int | float) and isinstance(lon, int | float)
    return ok and math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def assign(
    members: Sequence[Member],
    workers: Sequence[Worker],
    *,
    min_load: int = 5,
    max_load: int = 10,
    max_km: float = 5.0,
    existing: Iterable[tuple[str, str]] = (),
    progress: Progress | None = None,
    occupation_penalty_m: float = 300.0,
    platform_penalty_m: float = 150.0,
    candidates: int = 8,
    improve: bool = True,
    files: tuple[str, str, str] = ("members", "workers", "existing"),
) -> AssignmentResult:
    """Assign workers to members; see the module docstring. `existing`: (member id, worker id) pairs."""
    result, _ = _assign(
        members,
        workers,
        min_load=min_load,
        max_load=max_load,
        max_km=max_km,
        existing=existing,
        progress=progress or _noop,
        occupation_penalty_m=occupation_penalty_m,
        platform_penalty_m=platform_penalty_m,
        candidates=candidates,
        improve=improve,
        files=files,
    )
    return result


def assign_with_graph(members, workers, **kw) -> tuple[AssignmentResult, dict]:
    """`assign`, also returning the instance as arrays (for checking against an exact solver), indices in id
    order: {"graph": Graph, "members": ids, "workers": ids, "free": indices of the workers not in a kept pair,
    "member_of": member index per free worker (-1 left out), "cost_of"(workers, members) and
    "dist"(workers, members): pair costs and distances in metres}."""
    kw.setdefault("progress", _noop)
    kw["progress"] = kw["progress"] or _noop
    return _assign(members, workers, **kw)


def _assign(
    members,
    workers,
    *,
    min_load=5,
    max_load=10,
    max_km=5.0,
    existing=(),
    progress=_noop,
    occupation_penalty_m=300.0,
    platform_penalty_m=150.0,
    candidates=8,
    improve=True,
    files=("members", "workers", "existing"),
):
    from scipy.spatial import cKDTree

    errors: list[RowError] = []
    if not (0 <= min_load <= max_load):
        errors.append(RowError("--min/--max", None, None, f"{min_load}/{max_load}", "need 0 <= min <= max"))
    if not (max_km > 0 and math.isfinite(max_km)):
        errors.append(RowError("--max-km", None, None, max_km, "must be a positive number"))
    if candidates < 1 or occupation_penalty_m < 0 or platform_penalty_m < 0:
        errors.append(RowError("options", None, None, None, "need candidates >= 1 and penalties >= 0"))
    existing = list(existing)
    seen_w: set[str] = set()
    for i, (_m, w) in enumerate(existing):
        if w in seen_w:
            errors.append(RowError(files[2], f"existing[{i}]", "worker", w, "worker paired twice"))
        seen_w.add(w)
    codes: dict[str, int] = {}
    plat_names: dict[str, int] = {}
    M = _People(members, codes, plat_names, files[0], "members", errors)
    W = _People(workers, codes, plat_names, files[1], "workers", errors)
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in the input; nothing was written")

    progress("liaison", 0, 6)
    m_plat, w_plat = M.platform_mask(), W.platform_mask()
    m_has_plat, w_has_plat = np.asarray(m_plat.any(axis=1)), np.asarray(w_plat.any(axis=1))
    n_m, n_w = len(M.ids), len(W.ids)
    cap = np.array([max_load if c is None else c for c in M.capacity], dtype=np.int64).reshape(n_m)
    min_m = np.minimum(cap, min_load)
    max_m = 1000.0 * max_km
    cmax = max_m + occupation_penalty_m + platform_penalty_m
    bonus, leave_out = cmax, 4 * cmax

    def dist(wi: np.ndarray, mi: np.ndarray) -> np.ndarray:
        return chord_to_m(np.linalg.norm(W.xyz[wi] - M.xyz[mi], axis=-1))

    def cost_of(wi: np.ndarray, mi: np.ndarray, d: np.ndarray | None = None) -> np.ndarray:
        d = dist(wi, mi) if d is None else d
        wo, mo = W.occ[wi], M.occ[mi]
        c = d + occupation_penalty_m * ((wo < 0) | (wo != mo))
        both = w_has_plat[wi] & m_has_plat[mi]
        shared = (w_plat[wi] & m_plat[mi]).any(axis=-1)
        return c + platform_penalty_m * (both & ~shared)

    # 1. kept pairs
    member_of = np.full(n_w, -1, dtype=np.int64)
    kept = np.zeros(n_w, dtype=bool)
    ex_w, ex_m = [], []
    dropped = 0
    for m_id, w_id in existing:
        mi, wi = M.index.get(m_id), W.index.get(w_id)
        if mi is None or wi is None:
            dropped += 1
            continue
        ex_w.append(wi)
        ex_m.append(mi)
    if ex_w:
        ew, em = np.array(ex_w, dtype=np.int64), np.array(ex_m, dtype=np.int64)
        d = dist(ew, em)
        ok = d <= max_m
        dropped += int((~ok).sum())
        ew, em, d = ew[ok], em[ok], d[ok]
        c = cost_of(ew, em, d)
        order = np.lexsort((ew, c, em))
        ew, em = ew[order], em[order]
        start = np.flatnonzero(np.r_[True, em[1:] != em[:-1]]) if len(em) else np.array([], dtype=np.int64)
        rank = np.arange(len(em)) - np.repeat(start, np.diff(np.r_[start, len(em)]))
        fit = rank < cap[em]
        dropped += int((~fit).sum())
        member_of[ew[fit]] = em[fit]
        kept[ew[fit]] = True
    kept_load = np.bincount(member_of[kept], minlength=n_m)
    lo = np.maximum(min_m - kept_load, 0)
    hi = np.maximum(cap - np.maximum(kept_load, min_m), 0)
    graph = Graph(n_w, lo, hi, bonus, leave_out)

    # 2. candidate graph: nearest members with room
    free = np.flatnonzero(~kept)
    max_chord = chord_of(max_m) * (1 + 1e-9)
    k_max = max(1, candidates)
    room_cap = cap - kept_load
    width = k_max + 4  # room for members who found the worker among their nearest
    cand = np.full((n_w, width), n_m, dtype=np.int64)
    ccost = np.full((n_w, width), np.inf)

    def set_rows(wi: np.ndarray, mi: np.ndarray, dd: np.ndarray) -> np.ndarray:
        """Candidate rows from edges (worker, member, distance): each worker's cheapest `width` distinct members,
        cheapest first (ties: lower member id). Returns the workers concerned."""
        key = wi * (n_m + 1) + mi
        _, first = np.unique(key, return_index=True)
        wi, mi, dd = wi[first], mi[first], dd[first]
        c = cost_of(wi, mi, dd)
        graph.add(wi, mi, c, dd)
        # merged with the candidates the workers already have
        ws = np.unique(wi)
        r, col = np.nonzero(cand[ws] < n_m)
        if len(r):
            wi = np.concatenate([wi, ws[r]])
            mi = np.concatenate([mi, cand[ws[r], col]])
            c = np.concatenate([c, ccost[ws[r], col]])
            order = np.lexsort((c, mi, wi))
            wi, mi, c = wi[order], mi[order], c[order]
            one = np.r_[True, (wi[1:] != wi[:-1]) | (mi[1:] != mi[:-1])]
            wi, mi, c = wi[one], mi[one], c[one]
        order = np.lexsort((mi, c, wi))
        wi, mi, c = wi[order], mi[order], c[order]
        start = np.flatnonzero(np.r_[True, wi[1:] != wi[:-1]])
        rank = np.arange(len(wi)) - np.repeat(start, np.diff(np.r_[start, len(wi)]))
        keep = rank < width
        ws = wi[start]
        cand[ws] = n_m
        ccost[ws] = np.inf
        cand[wi[keep], rank[keep]] = mi[keep]
        ccost[wi[keep], rank[keep]] = c[keep]
        return ws

    def near(tree_pts: np.ndarray, tree_idx: np.ndarray, q_pts: np.ndarray, k: int):
        """(query row, tree index, metres) of the k nearest within max_km."""
        chord, j = cKDTree(tree_pts).query(q_pts, k=list(range(1, k + 1)), distance_upper_bound=max_chord, workers=-1)
        d = chord_to_m(np.where(np.isfinite(chord), chord, 0.0))
        rows, cols = np.nonzero(np.isfinite(chord) & (d <= max_m))
        return rows, tree_idx[j[rows, cols]], d[rows, cols]

    def set_candidates(ws: np.ndarray, room: np.ndarray) -> np.ndarray:
        """Candidates of workers `ws` among members `room`: each worker's `candidates` nearest members, and each
        member's 2 x capacity nearest workers (so that no member is out of every worker's list)."""
        if not len(ws) or not len(room):
            return ws[:0]
        k = min(k_max, len(room))
        chord, j = cKDTree(M.xyz[room]).query(
            W.xyz[ws], k=list(range(1, k + 1)), distance_upper_bound=max_chord, workers=-1
        )
        d = chord_to_m(np.where(np.isfinite(chord), chord, 0.0))
        ok = np.isfinite(chord) & (d <= max_m)
        mm = np.where(ok, room[np.minimum(j, len(room) - 1)], n_m)
        # members' nearest workers that are not already in those workers' lists
        pos = np.full(n_w, -1, dtype=np.int64)
        pos[ws] = np.arange(len(ws))
        r2, w2, d2 = near(W.xyz[ws], ws, M.xyz[room], int(min(len(ws), 2 * max(1, room_cap[room].max()))))
        m2 = room[r2]
        new = ~(mm[pos[w2]] == m2[:, None]).any(axis=1)
        w2, m2, d2 = w2[new], m2[new], d2[new]
        extra = width - k_max
        order = np.lexsort((m2, d2, w2))
        w2, m2, d2 = w2[order], m2[order], d2[order]
        start = np.flatnonzero(np.r_[True, w2[1:] != w2[:-1]]) if len(w2) else np.array([], dtype=np.int64)
        rank = np.arange(len(w2)) - np.repeat(start, np.diff(np.r_[start, len(w2)]))
        fit = rank < extra
        w2, m2, d2, rank = w2[fit], m2[fit], d2[fit], rank[fit]
        # rows: the worker's own nearest, then the members who found it; all at once, sorted by cost
        mrow = np.full((len(ws), width), n_m, dtype=np.int64)
        drow = np.zeros((len(ws), width))
        mrow[:, :k] = mm
        drow[:, :k] = np.where(ok, d, 0.0)
        mrow[pos[w2], k_max + rank] = m2
        drow[pos[w2], k_max + rank] = d2
        rows, cols = np.nonzero(mrow < n_m)
        wi, mi, dd = ws[rows], mrow[rows, cols], drow[rows, cols]
        c = cost_of(wi, mi, dd)
        graph.add(wi, mi, c, dd)
        crow = np.full((len(ws), width), np.inf)
        crow[rows, cols] = c
        order = np.lexsort((mrow, crow), axis=1)
        cand[ws] = np.take_along_axis(mrow, order, axis=1)
        ccost[ws] = np.take_along_axis(crow, order, axis=1)
        return ws[(mrow < n_m).any(axis=1)]

    room = np.flatnonzero(room_cap > 0)
    progress("liaison", 1, 6)
    bidders = set_candidates(free, room)
    progress("liaison", 2, 6)

    # 3. greedy, 4. minimum loads, 5. second chance
    owner = np.full(n_w, -1, dtype=np.int64)
    held_cost = np.full(n_w, np.inf)
    rounds = _propose(bidders, cand, ccost, room_cap, owner, held_cost)

    def fill_room() -> int:
        """Members with room take the nearest workers left out within `max_km` (a few per free slot, more each
        time), who propose to them as above; until no member with room has a worker left out in reach.
        Returns the number of times."""
        nonlocal rounds, bidders
        times = 0
        load = np.bincount(owner[owner >= 0], minlength=n_m)
        room = np.flatnonzero(load < room_cap)
        out = np.flatnonzero((owner < 0) & ~kept)
        if not len(out) or not len(room):
            return 0
        # the workers left out within reach of a member with room (members only ever have less room)
        chord, _ = cKDTree(M.xyz[room]).query(W.xyz[out], k=1, distance_upper_bound=max_chord, workers=-1)
        pool = out[np.isfinite(chord)]
        if not len(pool):
            return 0
        tree = cKDTree(W.xyz[pool])
        factor = 3
        while True:
            load = np.bincount(owner[owner >= 0], minlength=n_m)
            room = np.flatnonzero(load < room_cap)
            if not len(room) or not (owner[pool] < 0).any():
                return times
            k = int(min(len(pool), factor * (room_cap[room] - load[room]).max()))
            chord, j = tree.query(M.xyz[room], k=list(range(1, k + 1)), distance_upper_bound=max_chord, workers=-1)
            d = chord_to_m(np.where(np.isfinite(chord), chord, 0.0))
            ok = np.isfinite(chord) & (d <= max_m)
            ok[ok] = owner[pool[j[ok]]] < 0
            r, col = np.nonzero(ok)
            if not len(r):
                if k >= len(pool) or np.isfinite(chord[:, -1]).sum() == 0:
                    return times
                factor *= 4  # the nearest were all taken: look further
                continue
            again = set_rows(pool[j[r, col]], room[r], d[r, col])
            times += 1
            before = int((owner >= 0).sum())
            rounds += _propose(again, cand, ccost, room_cap, owner, held_cost)
            bidders = np.union1d(bidders, again)
            if int((owner >= 0).sum()) == before:
                return times
            factor *= 2

    chances = fill_room()
    min_room = np.maximum(min_m - kept_load, 0)
    moves = _fill_minimum(bidders, cand, ccost, room_cap, min_room, owner, held_cost, bonus)
    progress("liaison", 3, 6)
    chains = swaps = 0
    for _ in range(3 if improve else 0):
        ch = _improve(bidders, cand[:, :k_max], ccost[:, :k_max], room_cap, owner, held_cost, leave_out)
        sw = _swap(bidders, cand, ccost, room_cap, min_room, owner, held_cost)
        mv = _fill_minimum(bidders, cand, ccost, room_cap, min_room, owner, held_cost, bonus)
        mv += _min_chains(bidders, cand, ccost, room_cap, min_room, owner, held_cost, bonus)
        chains, swaps, moves = chains + ch, swaps + sw, moves + mv
        if not mv:
            break
    progress("liaison", 4, 6)
    chances += fill_room()
    progress("liaison", 5, 6)

    on = owner >= 0
    member_of[on] = owner[on]
    left = np.flatnonzero(member_of < 0)
    near_any = np.zeros(len(left), dtype=bool)
    if len(left) and n_m:
        chord, _ = cKDTree(M.xyz).query(W.xyz[left], k=1, distance_upper_bound=max_chord, workers=-1)
        near_any = np.isfinite(chord) & (chord_to_m(np.where(np.isfinite(chord), chord, 0.0)) <= max_m)
    km = f"{max_km:g}"
    reasons = {
        False: f"no member within {km} km",
        True: f"all members within {km} km are at capacity",
    }

    # result
    assigned = np.flatnonzero(member_of >= 0)
    d_all = dist(assigned, member_of[assigned])
    order = np.lexsort((assigned, member_of[assigned]))
    m_ids, w_ids = M.ids, W.ids
    pairs = list(
        map(
            Pair._make,
            zip(
                [m_ids[i] for i in member_of[assigned][order].tolist()],
                [w_ids[i] for i in assigned[order].tolist()],
                d_all[order].tolist(),
                kept[assigned][order].tolist(),
                strict=True,
            ),
        )
    )
    unassigned = list(
        map(LeftOut._make, zip([w_ids[i] for i in left.tolist()], [reasons[n] for n in near_any.tolist()], strict=True))
    )
    load = np.bincount(member_of[assigned], minlength=n_m)
    total_m = float(d_all.sum())
    free_member_of = np.where(kept, -1, member_of)[free]
    stats = {
        "members": n_m,
        "workers": n_w,
        "assigned": len(pairs),
        "kept": int(kept.sum()),
        "existing_dropped": dropped,
        "unassigned": len(unassigned),
        "unassigned_by_reason": dict(sorted(Counter(u.reason for u in unassigned).items())),
        "total_distance_m": round(total_m, 1),
        "mean_distance_m": round(total_m / len(pairs), 1) if pairs else 0.0,
        "same_occupation": int(((W.occ[assigned] >= 0) & (W.occ[assigned] == M.occ[member_of[assigned]])).sum()),
        "members_below_min": int((load < min_m).sum()),
        "members_full": int((load >= cap).sum()),
        "load_histogram": {str(k): int(v) for k, v in sorted(Counter(load.tolist()).items())},
        "capacity": int(cap.sum()),
        "min_load": min_load,
        "max_load": max_load,
        "max_km": max_km,
        "rounds": rounds,
        "min_load_moves": moves,
        "improving_chains": chains,
        "swaps": swaps,
        "second_chances": chances,
    }
    progress("liaison", 6, 6)
    extra = {
        "graph": graph,
        "members": M.ids,
        "workers": W.ids,
        "free": free,
        "member_of": free_member_of,
        "cost_of": cost_of,
        "dist": dist,
    }
    return AssignmentResult(pairs, unassigned, stats), extra


# ----------------------------------------------------------------------------------------------- files


def _split(v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(";") if x.strip())


def _load_people(path, kind: str) -> list:
    errors: list[RowError] = []
    out: list[Member | Worker] = []
    seen: dict[str, int] = {}
    for row, r in read_csv_rows(path, ["id", "lat", "lon", "occupation"]):
        values = {}
        for col in ("lat", "lon"):
            try:
                values[col] = float(r[col])
                if not math.isfinite(values[col]):
                    raise ValueError
            except ValueError:
                errors.append(RowError(str(path), row, col, r[col], "not a number"))
        if "lat" in values and not -90 <= values["lat"] <= 90:
            errors.append(RowError(str(path), row, "lat", r["lat"], "latitude outside -90..90"))
            values.pop("lat")
        if "lon" in values and not -180 <= values["lon"] <= 180:
            errors.append(RowError(str(path), row, "lon", r["lon"], "longitude outside -180..180"))
            values.pop("lon")
        if not r["id"]:
            errors.append(RowError(str(path), row, "id", "", "id is required"))
        elif r["id"] in seen:
            errors.append(RowError(str(path), row, "id", r["id"], f"duplicate id (first on row {seen[r['id']]})"))
        else:
            seen[r["id"]] = row
        capacity = None
        if kind == "members" and r.get("capacity", ""):
            try:
                capacity = int(r["capacity"])
                if capacity < 0:
                    raise ValueError
            except ValueError:
                errors.append(RowError(str(path), row, "capacity", r["capacity"], "not a whole number >= 0"))
        if len(values) == 2 and r["id"] and not errors:
            plats = _split(r.get("platform", ""))
            if kind == "members":
                out.append(Member(r["id"], values["lat"], values["lon"], r["occupation"], plats, capacity))
            else:
                out.append(Worker(r["id"], values["lat"], values["lon"], r["occupation"], plats))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {path}; nothing was written")
    return out


def load_members_csv(path) -> list[Member]:
    """MEMBERS.csv: id, lat, lon, occupation (free text), optional platform (`;`-separated) and capacity."""
    return _load_people(path, "members")


def load_workers_csv(path) -> list[Worker]:
    """WORKERS.csv: id, lat, lon, occupation (free text), optional platform (`;`-separated)."""
    return _load_people(path, "workers")


def load_pairs_csv(path, member_ids: Iterable[str], worker_ids: Iterable[str]) -> list[tuple[str, str]]:
    """PAIRS.csv (a previous output): member, worker. Rows with an empty member (workers left out) are skipped;
    an unknown id or a worker paired twice is an error naming the row."""
    members, workers = set(member_ids), set(worker_ids)
    errors: list[RowError] = []
    out = []
    seen: dict[str, int] = {}
    for row, r in read_csv_rows(path, ["member", "worker"]):
        m, w = r["member"], r["worker"]
        if not m:
            continue
        if m not in members:
            errors.append(RowError(str(path), row, "member", m, "not in the members file"))
        if w not in workers:
            errors.append(RowError(str(path), row, "worker", w, "not in the workers file"))
        elif w in seen:
            errors.append(RowError(str(path), row, "worker", w, f"worker paired twice (first on row {seen[w]})"))
        else:
            seen[w] = row
        out.append((m, w))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {path}; nothing was written")
    return out


def write_pairs_csv(path, result: AssignmentResult) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv_dict_writer(fh, ["member", "worker", "distance_m", "reason"])
        writer.writeheader()
        writer.writerows(result.to_rows())
