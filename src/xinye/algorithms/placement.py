"""Placement of new service stations: maximal coverage of the workers that no station covers yet.

Pure numpy/scipy. Coordinates are WGS-84 (lat, lon) degrees; a worker point is covered by a site within
`radius_m` metres of it (great-circle distance, boundary included). Workers are weighted points; identical
points (H3 work-cell centres shared by many workers) are aggregated first. Only the weight that the existing
stations leave uncovered counts: the objective is the newly covered weight of k new stations chosen among the
candidate sites (the maximal covering location problem, Church and ReVelle 1974).

Method
------
1. Coverage sets. Points and sites become unit vectors; the radius becomes a chord, 2 sin(r / 2R), so a
   k-d tree finds every pair within the radius exactly (chord length grows with the great-circle distance).
   Points covered by an existing station are dropped; each candidate keeps the sparse set of uncovered points
   it reaches (a CSR matrix, one row per candidate).
2. Lazy greedy (CELF; Minoux 1978, Leskovec et al. 2007). Coverage is monotone submodular, so a candidate's
   last computed marginal gain is an upper bound on its current one: the candidate on top of a max-heap of
   these bounds is re-evaluated, and taken when its bound is up to date. Ties go to the lower candidate index.
   Picks stop early when no candidate covers any uncovered weight.
3. Improvement (1-swap local search). Each pass estimates, for every candidate j outside the choice, its best
   exchange with a chosen site s: gain(j) + (weight that only s covers and j also covers) - loss(s), with
   sparse products; then it goes through the candidates best first, finds each one's exact best exchange with
   the bookkeeping (cover counts, each site's sole weight) kept up to date, and applies it when it gains.
   Passes repeat until none gains (at most `max_passes`).
4. Certified bound on the best possible new coverage OPT with k sites (upper_bound adds covered_before):
   - online bound (Leskovec et al. 2007, eq. 2): at every greedy step i, OPT <= f(S_i) + the sum of the k
     largest marginal gains, each a (stale) heap bound; the smallest over the steps is kept; the same with
     exact marginal gains is computed for the improved and the final choice;
   - a priori: the greedy choice is within (1 - 1/e) of OPT (Nemhauser, Wolsey and Fisher 1978), so
     OPT <= f(greedy) / (1 - 1/e);
   - Lagrangian bound: relaxing "a point counts only if a chosen site covers it" with multipliers
     0 <= lam_p <= w_p gives OPT <= sum_p (w_p - lam_p) + the sum of the k largest sum_{p in N(j)} lam_p for
     any lam (lam = the weight a choice leaves uncovered gives its online bound). Projected subgradient
     steps (at most `bound_iterations`, fewer on very large instances) lower it towards the value of the LP
     relaxation, which for these instances is usually within a fraction of a percent of OPT.
   The smallest is `gain_bound`; `guarantee` = new coverage / gain_bound is a proven lower bound on the ratio
   of the choice to the best possible one.
5. More starting points: the subgradient steps also give choices (each step's k candidates of largest
   sum lam; and the k candidates most often among them lately, a rounding of an approximate LP solution as in
   the volume algorithm of Barahona and Anbil 2000). The local search starts again from those, and the best
   choice is kept. Its picks are ranked greedily again, so that each pick's gain is its marginal gain given
   the picks ranked before it (the gains add up to the new coverage). Fewer than k picks are returned when no
   other candidate covers any uncovered weight.

Memory grows with the number of candidate-point pairs within the radius (about 30 bytes a pair at the peak);
more than MAX_PAIRS is refused with an InputError. Identical points count once, so workers on H3 res-9
cells fit: a million workers over a city, 20,000 candidates and a 4 km radius make about 2 million pairs.

References
----------
Church, R., & ReVelle, C. (1974). The maximal covering location problem. Papers of the Regional Science
Association, 32(1), 101-118. Nemhauser, G. L., Wolsey, L. A., & Fisher, M. L. (1978). An analysis of
approximations for maximizing submodular set functions. Mathematical Programming, 14, 265-294. Minoux, M.
(1978). Accelerated greedy algorithms for maximizing submodular set functions. Leskovec, J. et al. (2007).
Cost-effective outbreak detection in networks. KDD, 420-429. Barahona, F., & Anbil, R. (2000). The volume
algorithm: producing primal solutions with a subgradient method. Mathematical Programming, 87, 385-399.

Examples
--------
>>> step = 0.009  # about 1 km of latitude
>>> r = place([22.5, 22.5 + step, 22.5 + 2 * step], [114.0] * 3, [5, 3, 4], [], [],
...           [22.5, 22.5 + 2 * step], [114.0] * 2, k=1, radius_m=1500)
>>> [(p.candidate, p.rank, p.gain) for p in r.picks], r.covered_after, r.guarantee
([(0, 1, 8.0)], 8.0, 1.0)
"""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError, RowError
from .geo import CRS_CHOICES, CoordinateError, chord_of, pairs_within, to_wgs84
from .geo import unit_vectors as _unit_vectors
from .tabular import csv_writer, read_csv_rows

Progress = Callable[[str, int, int], None]
GREEDY_RATIO = 1.0 - 1.0 / math.e
MAX_PAIRS = 50_000_000  # candidate-point pairs within the radius: about 12 bytes each, twice, plus the build
LAGRANGIAN_WORK = 2_500_000_000  # pairs visited by the subgradient steps at most (each step visits all once)


def _noop(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class Pick:
    candidate: int  # index into the candidate arrays
    rank: int  # 1-based
    gain: float  # weight newly covered by this pick, given the picks ranked before it


@dataclass
class PlacementResult:
    """The picks and what they achieve, in the unit of the workers' weights (workers, when a row is one).

    `bounds` holds each certified upper bound on the best possible new coverage by k candidates, by method:
    uncovered_weight (all there is to cover), all_candidates (k >= the number of candidates), no_pick (k = 0),
    exhausted (every coverable point is covered), online_greedy (the smallest over the greedy steps),
    a_priori_greedy (greedy / (1 - 1/e)), online_local and online_final (with exact gains, after the first
    local search and for the final choice), lagrangian. `gain_bound` is the smallest of them.
    `stats` has sizes, work counts, where the final choice came from (`source`) and seconds per stage."""

    picks: list[Pick]
    k: int
    radius_m: float
    total_weight: float  # all workers' weight
    covered_before: float  # weight within the radius of an existing station
    covered_after: float  # ... of an existing station or a pick
    gain_bound: float  # certified: no k candidates cover more new weight than this
    bounds: dict[str, float]  # each certified bound on the new weight, by method
    stats: dict = field(default_factory=dict)

    @property
    def gain(self) -> float:
        """Weight the picks newly cover."""
        return self.covered_after - self.covered_before

    @property
    def upper_bound(self) -> float:
        """Certified: no choice of k candidates leaves more weight covered than this (existing stations included)."""
        return self.covered_before + self.gain_bound

    @property
    def guarantee(self) -> float:
        """Proven lower bound on (new weight covered by the picks) / (the best possible with k candidates)."""
        return 1.0 if self.gain_bound <= 0 else min(1.0, self.gain / self.gain_bound)

    @property
    def candidates(self) -> list[int]:
        return [p.candidate for p in self.picks]

    @property
    def stop_reason(self) -> str | None:
        """Why fewer than k sites were picked (issue 16), else None.

        "no_more_gain": each further candidate would reach no worker not already within the radius of a
        station or an earlier pick; "few_candidates": there are fewer candidates than k and every one was
        picked."""
        if len(self.picks) >= self.k:
            return None
        n_cand = self.stats.get("candidates")
        if n_cand is not None and len(self.picks) >= n_cand:
            return "few_candidates"
        return "no_more_gain"

    def summary(self) -> dict:
        """Everything but the picks (coverage before and after, the bound), JSON-ready."""
        total = self.total_weight

        def share(x: float) -> float | None:
            return round(x / total, 6) if total > 0 else None

        return {
            "k": self.k,
            "radius_m": self.radius_m,
            "picked": len(self.picks),
            "stop_reason": self.stop_reason,
            "total_weight": self.total_weight,
            "covered_before": self.covered_before,
            "covered_after": self.covered_after,
            "gain": self.gain,
            "share_before": share(self.covered_before),
            "share_after": share(self.covered_after),
            "upper_bound": self.upper_bound,
            "gain_bound": self.gain_bound,
            "guarantee": round(self.guarantee, 6),
            "certified_gap": round(1.0 - self.guarantee, 6),
            "greedy_ratio": round(GREEDY_RATIO, 6),
            "bounds": self.bounds,
            "stats": self.stats,
        }

    def to_json(self, candidate_ids: Sequence[str] | None = None) -> dict:
        picks = [
            {"candidate": p.candidate, "rank": p.rank, "gain": p.gain}
            | ({"id": candidate_ids[p.candidate]} if candidate_ids is not None else {})
            for p in self.picks
        ]
        return {"picks": picks} | self.summary()


# ------------------------------------------------------------------------------------------ public API


def coverage_counts(w_lat, w_lon, s_lat, s_lon, radius_m: float) -> np.ndarray:
    """For each worker point, the number of sites within `radius_m` metres (0: uncovered, 2+: double coverage).

    >>> coverage_counts([22.5, 22.6], [114.0, 114.0], [22.5, 22.505], [114.0, 114.0], 1000).tolist()
    [2, 0]
    """
    w_lat, w_lon, _ = _validated("workers", w_lat, w_lon)
    s_lat, s_lon, _ = _validated("sites", s_lat, s_lon)
    _check_radius(radius_m)
    if not len(w_lat) or not len(s_lat):
        return np.zeros(len(w_lat), dtype=np.int64)
    u_lat, u_lon, _, inverse = _aggregate(w_lat, w_lon, np.ones(len(w_lat)))
    i, _j = pairs_within(u_lat, u_lon, s_lat, s_lon, radius_m)
    return np.bincount(i, minlength=len(u_lat)).astype(np.int64)[inverse]


def place(
    w_lat,
    w_lon,
    w_weight,
    s_lat,
    s_lon,
    c_lat,
    c_lon,
    *,
    k: int,
    radius_m: float,
    improve: bool = True,
    max_passes: int = 50,
    bound_iterations: int = 500,
    progress: Progress = _noop,
) -> PlacementResult:
    """Choose up to k candidates (c_lat, c_lon) that newly cover the most worker weight, given the existing
    stations (s_lat, s_lon); see the module docstring. Raises InputError on bad input (naming the array,
    index and value). `progress(stage, done, total)` is called as the work goes on."""
    t_start = time.perf_counter()
    w_lat, w_lon, w_weight = _validated("workers", w_lat, w_lon, w_weight)
    s_lat, s_lon, _ = _validated("stations", s_lat, s_lon)
    c_lat, c_lon, _ = _validated("candidates", c_lat, c_lon)
    _check_radius(radius_m)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise InputError([RowError("k", None, None, k, "k must be a whole number >= 0")])
    k = int(k)
    from scipy import sparse
    from scipy.spatial import cKDTree

    progress("coverage", 0, 3)
    chord = chord_of(radius_m)
    total_weight = float(w_weight.sum())
    keep = w_weight > 0
    p_lat, p_lon, p_w, _ = _aggregate(w_lat[keep], w_lon[keep], w_weight[keep])
    p_vec = _unit_vectors(p_lat, p_lon)
    covered = np.zeros(len(p_w), dtype=bool)
    if len(s_lat) and len(p_w):
        covered[pairs_within(p_lat, p_lon, s_lat, s_lon, radius_m)[0]] = True
    covered_before = float(p_w[covered].sum())
    progress("coverage", 1, 3)
    u_vec, w = p_vec[~covered], p_w[~covered]
    n_cand = len(c_lat)
    if len(w) and n_cand:
        c_tree, u_tree = cKDTree(_unit_vectors(c_lat, c_lon)), cKDTree(u_vec)
        n_pairs = int(c_tree.count_neighbors(u_tree, chord))
        if n_pairs > MAX_PAIRS:
            raise InputError(
                [
                    RowError(
                        "workers",
                        None,
                        None,
                        n_pairs,
                        f"{n_pairs:,} candidate-worker pairs within {radius_m:g} m is more than the {MAX_PAIRS:,} "
                        "this method holds in memory; put workers on H3 cells (identical points are merged), "
                        "or use fewer candidates or a smaller radius",
                    )
                ]
            )
        del c_tree, u_tree
        u_lat, u_lon = p_lat[~covered], p_lon[~covered]
        rows, cols = pairs_within(c_lat, c_lon, u_lat, u_lon, radius_m)
        cols = cols.astype(np.int32)
    else:
        rows, cols = np.zeros(0, np.int64), np.zeros(0, np.int32)
    progress("coverage", 2, 3)
    order = np.argsort(rows, kind="stable")
    indices = np.ascontiguousarray(cols[order])
    indptr = np.zeros(n_cand + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_cand), out=indptr[1:])
    del rows, cols, order
    A = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n_cand, len(w)))
    progress("coverage", 3, 3)
    t_sets = time.perf_counter()

    sets = _Sets(A, w)
    k_eff = min(k, n_cand)
    greedy, greedy_gains, f_greedy, online, evaluations = _lazy_greedy(sets, np.arange(n_cand), k_eff, k, progress)
    t_greedy = time.perf_counter()
    bounds = {"uncovered_weight": float(w.sum())}
    if k_eff < k or not n_cand:
        bounds["all_candidates"] = float(w[np.unique(indices)].sum()) if len(indices) else 0.0
    if not k_eff:
        bounds["no_pick"] = 0.0
    if online is not None:
        bounds["online_greedy"] = online
        bounds["a_priori_greedy"] = f_greedy / GREEDY_RATIO
    chosen, f = greedy, f_greedy
    swaps = passes = 0
    source = "greedy"
    if len(chosen) < k_eff:  # stopped early: every coverable point is covered
        bounds["exhausted"] = f_greedy
    elif k_eff:
        if improve:
            chosen, f, swaps, passes = _local_search(A, sets, chosen, max_passes, progress)
            source = "greedy + local search" if swaps else "greedy"
        resid = _residual(sets, chosen)
        bounds["online_local"] = f + _top_sum(A @ resid, k_eff)
        if min(bounds.values()) > f * (1 + 1e-9) and bound_iterations > 0:
            bounds["lagrangian"], starts = _lagrangian(A, w, k_eff, f, bound_iterations, progress)
            for start, name in zip(starts, ("Lagrangian", "LP rounding"), strict=False):
                if not improve or set(start) == set(chosen):
                    continue
                other, f_other, s2, p2 = _local_search(A, sets, start, max_passes, progress)
                swaps, passes = swaps + s2, passes + p2
                if f_other > f * (1 + 1e-12):
                    chosen, f, source = other, f_other, f"{name} + local search"

    # the picks in greedy order within the final choice, each with its marginal gain
    if set(chosen) == set(greedy):
        chosen, gains = greedy, greedy_gains
    else:
        chosen, gains, _, _, _ = _lazy_greedy(sets, np.array(sorted(chosen)), len(chosen), None, _noop)
    resid = _residual(sets, chosen)
    f = float(w[resid == 0].sum())  # every point kept has weight > 0
    if k_eff and len(chosen) == k_eff:
        bounds["online_final"] = f + _top_sum(A @ resid, k_eff)
    gain_bound = max(f, min(bounds.values()))
    t_end = time.perf_counter()

    picks = [Pick(int(j), r, float(g)) for r, (j, g) in enumerate(zip(chosen, gains, strict=True), start=1)]
    stats = {
        "worker_rows": int(len(w_lat)),
        "worker_points": int(len(p_w)),
        "uncovered_points": int(len(w)),
        "stations": int(len(s_lat)),
        "candidates": int(n_cand),
        "coverage_pairs": int(len(indices)),
        "evaluations": int(evaluations),
        "greedy_gain": float(f_greedy),
        "swaps": int(swaps),
        "passes": int(passes),
        "source": source,
        "seconds": {
            "coverage_sets": round(t_sets - t_start, 3),
            "greedy": round(t_greedy - t_sets, 3),
            "improvement_and_bound": round(t_end - t_greedy, 3),
            "total": round(t_end - t_start, 3),
        },
    }
    progress("done", 1, 1)
    return PlacementResult(
        picks=picks,
        k=k,
        radius_m=float(radius_m),
        total_weight=total_weight,
        covered_before=covered_before,
        covered_after=covered_before + f,
        gain_bound=float(gain_bound),
        bounds={name: float(v) for name, v in bounds.items()},
        stats=stats,
    )


# ------------------------------------------------------------------------------------------- the core


class _Sets:
    """Coverage sets: the uncovered points (indices into w) each candidate reaches."""

    def __init__(self, A, w: np.ndarray):
        self.A, self.indptr, self.indices, self.w = A, A.indptr, A.indices, w

    def of(self, j: int) -> np.ndarray:
        return self.indices[self.indptr[j] : self.indptr[j + 1]]


def _top_sum(values: np.ndarray, k: int) -> float:
    """Sum of the k largest values."""
    if k <= 0 or not len(values):
        return 0.0
    if k >= len(values):
        return float(values.sum())
    return float(np.partition(values, len(values) - k)[len(values) - k :].sum())


def _lazy_greedy(sets: _Sets, candidates: np.ndarray, k: int, bound_k: int | None, progress: Progress):
    """CELF over `candidates`: (chosen, gains, value, best online bound or None, evaluations).

    With bound_k, the online bound f(S_i) + sum of the bound_k largest heap bounds is kept at every step."""
    resid = sets.w.copy()
    n = len(sets.indptr) - 1
    ub = np.zeros(n)
    stamp = np.full(n, -1, dtype=np.int64)
    ub[candidates] = (sets.A @ resid)[candidates]
    stamp[candidates] = 0
    heap = [(-g, j) for g, j in zip(ub[candidates].tolist(), candidates.tolist(), strict=True) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    f = 0.0
    evaluations = len(candidates)
    online = _top_sum(ub, bound_k) if bound_k is not None else None
    every = max(1, k // 100)
    for it in range(k):
        while heap:
            j = heap[0][1]
            if stamp[j] == it:
                break
            g = float(resid[sets.of(j)].sum())
            evaluations += 1
            ub[j], stamp[j] = g, it
            if g > 0:
                heapq.heapreplace(heap, (-g, j))
            else:
                heapq.heappop(heap)
        if not heap:
            break
        neg, j = heapq.heappop(heap)
        chosen.append(j)
        gains.append(-neg)
        f += -neg
        resid[sets.of(j)] = 0.0
        ub[j] = 0.0
        stamp[j] = -2
        if bound_k is not None:
            online = min(online, f + _top_sum(ub, bound_k))
        if it % every == 0 or it == k - 1:
            progress("greedy", it + 1, k)
    return chosen, gains, f, online, evaluations


def _residual(sets: _Sets, chosen) -> np.ndarray:
    """The weight of each point that no chosen site covers."""
    resid = sets.w.copy()
    for j in chosen:
        resid[sets.of(j)] = 0.0
    return resid


def _local_search(A, sets: _Sets, chosen, max_passes: int, progress: Progress, patience: int = 100):
    """1-swap improvement of `chosen`. Each pass estimates every candidate's best exchange at once (sparse
    products), then goes through the candidates best first and applies each one's exact best exchange (with
    the bookkeeping kept up to date) when it still gains. Returns (chosen, value, swaps, passes)."""
    from scipy import sparse

    w = sets.w
    n_pts, n_cand = len(w), A.shape[0]
    chosen = [int(j) for j in chosen]
    k = len(chosen)
    count = np.zeros(n_pts, dtype=np.int64)  # chosen sites covering each point
    slots = np.zeros(n_pts, dtype=np.int64)  # sum of their slots in `chosen`: the only one when count == 1
    for t, j in enumerate(chosen):
        idx = sets.of(j)
        count[idx] += 1
        slots[idx] += t
    in_choice = np.zeros(n_cand, dtype=bool)
    in_choice[chosen] = True
    tol = 1e-9 * max(float(w[count > 0].sum()), 1e-12)
    swaps = passes = 0
    for passes in range(1, max_passes + 1):  # noqa: B007 (the count is returned)
        progress("local search", passes - 1, max_passes)
        add = A @ np.where(count == 0, w, 0.0)
        single = np.flatnonzero(count == 1)
        loss = np.bincount(slots[single], weights=w[single], minlength=k)  # weight only this slot covers
        overlap = (A @ sparse.csr_matrix((w[single], (single, slots[single])), shape=(n_pts, k))).tocsr()
        # estimated best exchange per candidate: the slot with least loss, or one whose sole points it covers
        best = add - loss.min()
        if overlap.nnz:
            rows = np.repeat(np.arange(n_cand), np.diff(overlap.indptr))
            vals = add[rows] + overlap.data - loss[overlap.indices]
            np.maximum.at(best, rows, vals)
        best[in_choice] = -np.inf
        todo = np.flatnonzero(best > tol)
        applied = misses = 0
        for j in todo[np.lexsort((todo, -best[todo]))].tolist():
            if applied and misses >= patience:
                break  # the estimates have gone stale: make new ones (a pass that applies nothing sees every one)
            nj = sets.of(j)
            c = count[nj]
            gain = float(w[nj][c == 0].sum())
            m1 = c == 1
            owners = slots[nj][m1]
            t, value = int(np.argmin(loss)), gain - float(loss.min())
            if len(owners):
                shared = np.bincount(owners, weights=w[nj][m1], minlength=k)
                cand = np.unique(owners)
                v = shared[cand] - loss[cand]
                i = int(np.argmax(v))
                if gain + v[i] > value:
                    t, value = int(cand[i]), gain + float(v[i])
            if value <= tol:
                misses += 1
                continue
            misses = 0
            s = chosen[t]
            ns = sets.of(s)
            two = count[ns] == 2  # covered by s and one other slot, which becomes the only one
            np.add.at(loss, slots[ns][two] - t, w[ns][two])
            count[ns] -= 1
            slots[ns] -= t
            loss[t] = 0.0
            c = count[nj]
            loss[t] += float(w[nj][c == 0].sum())
            one = c == 1  # covered by one other slot, which shares it from now on
            np.subtract.at(loss, slots[nj][one], w[nj][one])
            count[nj] += 1
            slots[nj] += t
            chosen[t] = j
            in_choice[s], in_choice[j] = False, True
            applied += 1
        swaps += applied
        if not applied:
            break
    progress("local search", max_passes, max_passes)
    return chosen, float(w[count > 0].sum()), swaps, passes


def _lagrangian(A, w, k: int, lower: float, iterations: int, progress: Progress):
    """Lagrangian bound, and starting points for the local search: (bound, [choices]).

    Minimises L(lam) = sum(w - lam) + (sum of the k largest of A @ lam) over 0 <= lam <= w by projected
    subgradient steps from lam = w: Polyak's step towards the best known coverage (its factor halved after 10
    steps without progress), each point's step scaled by sqrt(w_p); at most `iterations` steps, and at most
    LAGRANGIAN_WORK / (number of pairs) of them (at least 50). Every L computed is a certified
    upper bound on the best coverage; the smallest is returned. Each step's k candidates of largest A @ lam
    are a choice too: the best one met is returned, and the k candidates most often among them lately (an
    exponential average, as in the volume algorithm of Barahona and Anbil 2000, approximates an optimal
    solution of the LP relaxation; ties go to the larger A @ lam)."""
    lam = w.astype(float)
    sqrt_w = np.sqrt(w)
    n = A.shape[0]
    iterations = min(iterations, max(50, LAGRANGIAN_WORK // max(A.nnz, 1)))
    theta, stall = 1.0, 0
    found = math.inf
    best_set, best_value = None, -math.inf
    xbar = np.zeros(n)
    r = np.zeros(n)
    for it in range(iterations):
        r = A @ lam
        top = np.argpartition(r, n - k)[n - k :] if k < n else np.arange(n)
        value = float((w - lam).sum() + r[top].sum())
        if not value >= found - 1e-12 * abs(found):  # also the first value (found is inf)
            found, stall = value, 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        x = np.zeros(n)
        x[top] = 1.0
        xbar = x if it == 0 else 0.9 * xbar + 0.1 * x
        hits = np.bincount(A[top].indices, minlength=len(w)).astype(float)  # the top-k sites covering each point
        covered = float(w[hits > 0].sum())
        if covered > best_value:
            best_set, best_value = np.sort(top).tolist(), covered
        lower = max(lower, covered)
        if found - lower <= 1e-7 * max(lower, 1e-12) or theta < 1e-4:
            break
        g = hits - 1.0
        g[((lam <= 0) & (g > 0)) | ((lam >= w) & (g < 0))] = 0.0
        d = sqrt_w * g  # steps scaled by sqrt(w): heavy and light points both move at a useful pace
        norm = float((d * d).sum())  # not d @ d: BLAS threads crawl on a busy machine
        if norm == 0:
            break
        lam = np.clip(lam - theta * (value - lower) / norm * sqrt_w * d, 0.0, w)
        if it % 10 == 0:
            progress("bound", it, iterations)
    progress("bound", iterations, iterations)
    starts = [] if best_set is None else [best_set]
    if iterations > 0 and k < n:
        rounded = np.sort(np.lexsort((np.arange(n), -r, -xbar))[:k]).tolist()
        if rounded != best_set:
            starts.append(rounded)
    return found, starts


def _aggregate(lat: np.ndarray, lon: np.ndarray, weight: np.ndarray):
    """Identical points merged: (lat, lon, summed weight, index of each input row's point)."""
    n = len(lat)
    if not n:
        return lat, lon, weight, np.zeros(0, dtype=np.int64)
    order = np.lexsort((lon, lat))
    sl, so = lat[order], lon[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (sl[1:] != sl[:-1]) | (so[1:] != so[:-1])
    group = np.cumsum(new) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group
    return sl[new], so[new], np.bincount(group, weights=weight[order]), inverse


def _validated(name: str, lat, lon, weight=None):
    """Float arrays, or InputError naming the array, index, column and value of each bad entry (first 50)."""
    try:
        lat = np.asarray(lat, dtype=float).ravel()
        lon = np.asarray(lon, dtype=float).ravel()
        weight = None if weight is None else np.asarray(weight, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError([RowError(name, None, None, None, f"coordinates must be numbers: {exc}")]) from exc
    if len(lat) != len(lon) or (weight is not None and len(weight) != len(lat)):
        sizes = f"{len(lat)} latitudes, {len(lon)} longitudes" + ("" if weight is None else f", {len(weight)} weights")
        raise InputError([RowError(name, None, None, None, f"arrays differ in length ({sizes})")])
    errors: list[RowError] = []
    checks = [
        ("lat", lat, ~(np.isfinite(lat) & (np.abs(lat) <= 90)), "latitude must be within -90..90"),
        ("lon", lon, ~(np.isfinite(lon) & (np.abs(lon) <= 180)), "longitude must be within -180..180"),
    ]
    if weight is not None:
        checks.append(("weight", weight, ~(np.isfinite(weight) & (weight >= 0)), "weight must be a number >= 0"))
    for col, values, bad, message in checks:
        for i in np.flatnonzero(bad)[:50].tolist():
            errors.append(RowError(name, f"{name}[{i}]", col, float(values[i]), message))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} bad value(s) in {name}")
    return lat, lon, (np.ones(len(lat)) if weight is None else weight)


def _check_radius(radius_m) -> None:
    if not (isinstance(radius_m, int | float | np.floating | np.integer) and math.isfinite(radius_m) and radius_m > 0):
        raise InputError([RowError("radius", None, None, radius_m, "the radius must be a number of metres > 0")])


# ----------------------------------------------------------------------------------------------- files


@dataclass
class Sites:
    """Points read from a CSV file: ids, WGS-84 lat/lon arrays and weights (1 where the file has none)."""

    ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray


def load_sites_csv(path, *, weighted: bool = False, crs: str = "wgs84") -> Sites:
    """SITES.csv: id, lat, lon[, weight] in `crs` ("wgs84", "gcj02" or "bd09"); returned in WGS-84.

    The weight column is read when `weighted` (workers) and the file has it; it must be a number >= 0.
    Raises InputError naming the file, row, column and value of every bad cell."""
    fname = str(path)
    if crs not in CRS_CHOICES:
        raise InputError(
            [RowError(fname, None, "--crs", crs, f"unknown coordinate system; use {', '.join(CRS_CHOICES)}")]
        )
    rows = read_csv_rows(path, ["id", "lat", "lon"])
    errors: list[RowError] = []
    has_weight = weighted and bool(rows) and "weight" in rows[0][1]
    ids: list[str] = []
    lat = np.empty(len(rows))
    lon = np.empty(len(rows))
    weight = np.ones(len(rows))
    seen: dict[str, int] = {}
    for n, (row, r) in enumerate(rows):
        if not r["id"]:
            errors.append(RowError(fname, row, "id", "", "id is required"))
        elif r["id"] in seen:
            errors.append(RowError(fname, row, "id", r["id"], f"duplicate id (first on row {seen[r['id']]})"))
        else:
            seen[r["id"]] = row
        ids.append(r["id"])
        values = {}
        for col, limit in (("lat", 90.0), ("lon", 180.0)):
            try:
                x = float(r[col])
            except ValueError:
                errors.append(RowError(fname, row, col, r[col], "not a number"))
                continue
            if not (math.isfinite(x) and -limit <= x <= limit):
                kind = "latitude" if col == "lat" else "longitude"
                errors.append(RowError(fname, row, col, r[col], f"{kind} must be within -{limit:g}..{limit:g}"))
                continue
            values[col] = x
        if len(values) == 2:
            try:
                lat[n], lon[n] = to_wgs84(values["lat"], values["lon"], crs)
            except CoordinateError as exc:
                errors.append(RowError(fname, row, "lat/lon", f"{values['lat']},{values['lon']}", str(exc)))
        if has_weight:
            try:
                weight[n] = float(r["weight"])
                if not (math.isfinite(weight[n]) and weight[n] >= 0):
                    raise ValueError
            except ValueError:
                errors.append(RowError(fname, row, "weight", r["weight"], "weight must be a number >= 0"))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {fname}; nothing was written")
    return Sites(ids, lat, lon, weight)


def write_picks_csv(path, result: PlacementResult, candidate_ids: Sequence[str]) -> None:
    """PICKS.csv: id, rank, gain (one row per pick, in rank order). Written whole or not at all."""

    def write(fh) -> None:
        out = csv_writer(fh, lineterminator="\n")
        out.writerow(["id", "rank", "gain"])
        for p in result.picks:
            out.writerow([candidate_ids[p.candidate], p.rank, f"{p.gain:.10g}"])

    _atomic_write(path, write)


def write_summary_json(path, result: PlacementResult, candidate_ids: Sequence[str] | None = None) -> None:
    """S.json: coverage before and after, the certified bound and statistics; with candidate_ids, the picked
    ids in rank order too. Written whole or not at all."""
    summary = result.summary()
    if candidate_ids is not None:
        summary["picks"] = [candidate_ids[p.candidate] for p in result.picks]
    text = json.dumps(summary, ensure_ascii=False, indent=1) + "\n"
    _atomic_write(path, lambda fh: fh.write(text))


def _atomic_write(path, write: Callable) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
