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

with ``min_bonus = max_km + both penalties`` (a member below `min_load` takes a worker from a member above
it, or one left out, whatever the extra distance within `max_km`) and ``leave_out_cost = 4 * (max_km + both
penalties)``: covering workers comes first, then minimum loads, then distance. When capacity is short (50,000
members x 10 < 1,000,000 workers) the workers covered are the ones closest to members.

Method
------
1. Kept pairs: an existing pair is kept when both ids still exist, they are within `max_km` and the member
   is not over capacity (then its cheapest pairs are kept, ties by worker id). Kept pairs are fixed.
2. Candidate graph: for each other worker, the `candidates` (default 8) nearest members with room within
   `max_km`, from a k-d tree over unit vectors (chord order = great-circle order), cheapest first.
3. Greedy by cost as deferred acceptance (Gale and Shapley 1962): workers propose to their candidates
   cheapest first, a member keeps its cheapest proposals up to its capacity; all workers at once in numpy,
   at most `candidates` rounds. This is the greedy matching (cheapest pair first) of the candidate graph.
4. Minimum loads: a member below `min_load` takes the worker whose move costs least from a member above its
   minimum (if the move adds at most the bonus); members who gave one away take workers left out.
5. Improving chains (augmenting paths of the min-cost flow, found by Bellman-Ford over members): a worker left
   out joins member m1, m1 passes a worker to m2, ... until a member with room takes one (one more worker
   covered) or the last member lets its costliest worker go (less distance in total). Then swaps: two workers
   of two members trade places, or one moves to a member with room, when that costs less. Loads never fall
   below the minimum on the way.
6. Second chance: a worker left out while a member with room is within `max_km` (beyond its first
   candidates) gets the nearest members with room as candidates; repeated until nothing changes. So a
   worker left out either has no member within `max_km`, or all of those are full.

The result is not proven optimal: measured against an exact min-cost flow on the same candidate graph it
covers as many workers and is within 0.1 % of the optimal objective on the benchmark city
(benchmarks/results/liaison.md); the tests hold it to 10 % of the optimal distance on random small cases.
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

import csv
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .errors import InputError, RowError
from .tabular import read_csv_rows

EARTH_RADIUS_M = 6_371_008.8
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
        ms = np.unique(m)
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


def _improve(
    workers: np.ndarray,
    cand: np.ndarray,
    cost: np.ndarray,
    cap: np.ndarray,
    member_of: np.ndarray,
    held_cost: np.ndarray,
    leave_out: float,
    rounds: int = 50,
    depth: int = 12,
) -> int:
    """Improving chains for workers left out: a worker left out joins member m1, who passes one of its workers to
    m2, ... until a member with room takes one (one more worker covered) or the last member lets its costliest
    worker go (cheaper in total). Shortest chains by Bellman-Ford over members (numpy, `depth` steps), then
    applied cheapest first, each member in at most one chain per round. Returns the number of chains."""
    n_m = len(cap)
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
        first = np.r_[0, np.flatnonzero(a[by_member][1:] != a[by_member][:-1]) + 1]
        for _ in range(depth):
            val = step + dist[sub]
            j = val.argmin(axis=1)
            best = val[r, j]
            b_sorted = best[by_member]
            mins = np.minimum.reduceat(b_sorted, first)
            members = a[by_member][first]
            better = (mins < dist[members] - 1e-9) & ~room[members]
            if not better.any():
                break
            # the worker achieving the minimum (lowest position = lowest worker id among ties)
            hit = b_sorted == np.repeat(mins, np.diff(np.r_[first, len(on)]))
            pos = np.minimum.reduceat(np.where(hit, np.arange(len(on)), len(on)), first)
            wpos = by_member[pos]
            upd = members[better]
            dist[upd] = mins[better]
            via[upd] = on[wpos[better]]
            nxt[upd] = sub[wpos[better], j[wpos[better]]]
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
        used = set()
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


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _chord_to_m(chord: np.ndarray) -> np.ndarray:
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2, 0, 1))


def _m_to_chord(metres: float) -> float:
    return 2 * math.sin(min(metres / (2 * EARTH_RADIUS_M), math.pi / 2))


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
        order = sorted(range(len(ids)), key=ids.__getitem__)
        oi = np.array(order, dtype=np.int64)
        self.ids = [ids[i] for i in order]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.xyz = _unit(lat[oi], lon[oi]) if len(oi) else np.zeros((0, 3))
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
    """`assign`, also returning the instance as arrays (for checking against an exact solver):
    {"graph": Graph, "members": ids, "workers": ids, "free": worker indices not in a kept pair,
    "member_of": member index per worker (-1 left out)}."""
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

    progress("candidates", 0, 3)
    m_plat, w_plat = M.platform_mask(), W.platform_mask()
    m_has_plat, w_has_plat = m_plat.any(axis=1), w_plat.any(axis=1)
    n_m, n_w = len(M.ids), len(W.ids)
    cap = np.array([max_load if c is None else c for c in M.capacity], dtype=np.int64).reshape(n_m)
    min_m = np.minimum(cap, min_load)
    max_m = 1000.0 * max_km
    cmax = max_m + occupation_penalty_m + platform_penalty_m
    bonus, leave_out = cmax, 4 * cmax

    def dist(wi: np.ndarray, mi: np.ndarray) -> np.ndarray:
        return _chord_to_m(np.linalg.norm(W.xyz[wi] - M.xyz[mi], axis=-1))

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
    max_chord = _m_to_chord(max_m) * (1 + 1e-9)
    k_max = max(1, candidates)
    room_cap = cap - kept_load
    cand = np.full((n_w, k_max), n_m, dtype=np.int64)
    ccost = np.full((n_w, k_max), np.inf)

    def set_candidates(ws: np.ndarray, room: np.ndarray) -> np.ndarray:
        """Give workers `ws` their nearest members among `room` (member indices) as candidates, cheapest first
        (ties: lower member id); returns the workers that got at least one."""
        if not len(ws) or not len(room):
            return ws[:0]
        k = min(k_max, len(room))
        tree = cKDTree(M.xyz[room])
        if k > 1 and len(ws) > 10_000:  # first keep the workers with any of these members in reach
            chord, _ = tree.query(W.xyz[ws], k=1, distance_upper_bound=max_chord, workers=-1)
            ws = ws[np.isfinite(chord)]
        chord, j = tree.query(W.xyz[ws], k=list(range(1, k + 1)), distance_upper_bound=max_chord, workers=-1)
        d = _chord_to_m(np.where(np.isfinite(chord), chord, 0.0))
        ok = np.isfinite(chord) & (d <= max_m)
        rows, cols = np.nonzero(ok)
        wi, mi = ws[rows], room[j[rows, cols]]
        c = cost_of(wi, mi, d[rows, cols])
        graph.add(wi, mi, c, d[rows, cols])
        mm = np.full(ok.shape, n_m, dtype=np.int64)
        mm[rows, cols] = mi
        cc = np.full(ok.shape, np.inf)
        cc[rows, cols] = c
        order = np.lexsort((mm, cc), axis=1)
        cand[ws] = n_m
        ccost[ws] = np.inf
        cand[ws, :k] = np.take_along_axis(mm, order, axis=1)
        ccost[ws, :k] = np.take_along_axis(cc, order, axis=1)
        return ws[ok.any(axis=1)]

    room = np.flatnonzero(room_cap > 0)
    bidders = set_candidates(free, room)
    progress("candidates", 1, 3)

    # 3. greedy, 4. minimum loads, 5. second chance
    owner = np.full(n_w, -1, dtype=np.int64)
    held_cost = np.full(n_w, np.inf)
    rounds = _propose(bidders, cand, ccost, room_cap, owner, held_cost)
    min_room = np.maximum(min_m - kept_load, 0)
    moves = _fill_minimum(bidders, cand, ccost, room_cap, min_room, owner, held_cost, bonus)
    chains = swaps = 0
    for _ in range(3 if improve else 0):
        c = _improve(bidders, cand, ccost, room_cap, owner, held_cost, leave_out)
        sw = _swap(bidders, cand, ccost, room_cap, min_room, owner, held_cost)
        mv = _fill_minimum(bidders, cand, ccost, room_cap, min_room, owner, held_cost, bonus)
        chains, swaps, moves = chains + c, swaps + sw, moves + mv
        if not mv:
            break
    chances = 0
    while True:
        load = np.bincount(owner[owner >= 0], minlength=n_m)
        room = np.flatnonzero(load < room_cap)
        out = np.setdiff1d(bidders, np.flatnonzero(owner >= 0))
        if not len(out) or not len(room):
            break
        again = set_candidates(out, room)
        if not len(again):
            break
        chances += 1
        rounds += _propose(again, cand, ccost, room_cap, owner, held_cost)
        bidders = np.union1d(bidders, again)
    progress("candidates", 2, 3)

    on = owner >= 0
    member_of[on] = owner[on]
    left = np.flatnonzero(member_of < 0)
    near_any = np.zeros(len(left), dtype=bool)
    if len(left) and n_m:
        chord, _ = cKDTree(M.xyz).query(W.xyz[left], k=1, distance_upper_bound=max_chord, workers=-1)
        near_any = np.isfinite(chord) & (_chord_to_m(np.where(np.isfinite(chord), chord, 0.0)) <= max_m)
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
    progress("candidates", 3, 3)
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


def _loads(owner: np.ndarray, n_m: int, kept_load: np.ndarray) -> np.ndarray:
    on = owner >= 0
    return kept_load + np.bincount(owner[on] // 2, minlength=n_m)


# ----------------------------------------------------------------------------------------------- files


def _split(v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(";") if x.strip())


def _load_people(path, kind: str) -> list:
    errors: list[RowError] = []
    out = []
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
        writer = csv.DictWriter(fh, fieldnames=["member", "worker", "distance_m", "reason"])
        writer.writeheader()
        writer.writerows(result.to_rows())
