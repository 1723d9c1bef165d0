"""Liaison assignment (issue #6) against an exact min-cost flow (OR-Tools) on the same instance, in one run.

    .venv/bin/pip install -r benchmarks/requirements.txt
    cd benchmarks && ../.venv/bin/python liaison_bench.py --workers 1000000 --members 50000
    cd benchmarks && ../.venv/bin/python liaison_bench.py --workers 100000 --members 5000 --highs

Instance (seeded): a city of Gaussian clusters of uneven weight around Shenzhen (22.45-22.80 N, 113.75-114.40
E), workers and members drawn from the same clusters and snapped to H3 resolution-9 cell centres (about
0.1 km2, so many share a point), occupations as in `people.Occupation` with one or two platforms of that
trade; capacity 10 (min 5) per member, 5 km at most.

Ours: `xinye.algorithms.liaison.assign` (greedy by cost, minimum loads, improving chains and swaps on the
candidate graph), timed from objects in to result out. Peer: the same objective on the same candidate graph
(every edge `assign` generated) as a min-cost flow, solved exactly by OR-Tools `SimpleMinCostFlow` (costs in
decimetres), timed from arrays in to flow out (building the graph is not counted); optionally also HiGHS
(the LP of the same flow).
Wall and CPU seconds are both printed: the machine may be shared. "Total cost" is distance plus the
occupation/platform penalties, what both minimise once coverage and minimum loads are equal.
"""

from __future__ import annotations

import argparse
import time

import h3
import numpy as np

from xinye.algorithms.liaison import Member, Worker, assign_with_graph

OCCUPATIONS = {
    "courier": (0.30, ["sf", "jd", "zto", "yto", "cainiao"]),
    "delivery_rider": (0.40, ["meituan", "eleme"]),
    "ride_hailing_driver": (0.20, ["didi", "caocao", "amap"]),
    "truck_driver": (0.05, ["huolala", "manbang"]),
    "other": (0.05, ["dada"]),
}


def city(n_workers: int, n_members: int, seed: int = 1, clusters: int = 80):
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(22.45, 22.80, clusters), rng.uniform(113.75, 114.40, clusters)])
    spread = rng.uniform(0.01, 0.05, clusters)
    weight = rng.pareto(1.5, clusters) + 0.2
    weight /= weight.sum()

    def points(n):
        which = rng.choice(clusters, size=n, p=weight)
        pts = centres[which] + rng.normal(0, 1, (n, 2)) * spread[which, None]
        cells = [h3.latlng_to_cell(a, b, 9) for a, b in pts.tolist()]
        uniq = {c: h3.cell_to_latlng(c) for c in set(cells)}
        return [uniq[c] for c in cells]

    names = list(OCCUPATIONS)
    p_occ = np.array([OCCUPATIONS[o][0] for o in names])

    def trades(n):
        occ = rng.choice(len(names), size=n, p=p_occ)
        two = rng.random(n) < 0.25
        pick = rng.random((n, 2))
        out = []
        for o, t, (a, b) in zip(occ.tolist(), two.tolist(), pick.tolist(), strict=True):
            plats = OCCUPATIONS[names[o]][1]
            first = plats[int(a * len(plats))]
            second = plats[int(b * len(plats))]
            out.append((names[o], (first, second) if t and second != first else (first,)))
        return out

    workers = [
        Worker(f"w{i:07d}", lat, lon, occ, plats)
        for i, ((lat, lon), (occ, plats)) in enumerate(zip(points(n_workers), trades(n_workers), strict=True))
    ]
    members = [
        Member(f"m{i:06d}", lat, lon, occ, plats)
        for i, ((lat, lon), (occ, plats)) in enumerate(zip(points(n_members), trades(n_members), strict=True))
    ]
    return members, workers


def flow_arrays(extra: dict):
    """The candidate graph as a min-cost flow with non-negative integer costs (decimetres):
    worker -> member (cost), member -> sink (min slots at 0, further slots at the bonus), worker -> sink
    (leave-out cost + bonus). Same optimum as `assign`'s objective (shifted by bonus x workers)."""
    g = extra["graph"]
    free = extra["free"]
    w, m, c, _ = g.edges()
    pos = np.full(g.n_workers, -1, dtype=np.int64)
    pos[free] = np.arange(len(free))
    return {
        "n_free": len(free),
        "n_members": len(g.lo),
        "w": pos[w],
        "m": m,
        "cost": np.rint(c * 10).astype(np.int64),
        "lo": g.lo,
        "hi": g.hi,
        "bonus": int(round(g.bonus * 10)),
        "leave_out": int(round(g.leave_out * 10)),
    }


def solve_ortools(a: dict) -> tuple[np.ndarray, tuple[float, float]]:
    """member index per free worker (-1 left out) and (wall, CPU) seconds."""
    from ortools.graph.python import min_cost_flow

    nw, nm = a["n_free"], a["n_members"]
    sink = nw + nm
    t0, c0 = time.perf_counter(), time.process_time()
    f = min_cost_flow.SimpleMinCostFlow()
    members = nw + np.arange(nm)
    tails = np.concatenate([a["w"], np.arange(nw), members, members])
    heads = np.concatenate([nw + a["m"], np.full(nw, sink), np.full(nm, sink), np.full(nm, sink)])
    caps = np.concatenate([np.ones(len(a["w"]) + nw, dtype=np.int64), a["lo"], a["hi"]])
    costs = np.concatenate([a["cost"], np.full(nw, a["leave_out"] + a["bonus"]), np.zeros(nm, np.int64)])
    costs = np.concatenate([costs, np.full(nm, a["bonus"], dtype=np.int64)])
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:nw] = 1
    supplies[sink] = -nw
    f.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = f.solve()
    if status != f.OPTIMAL:
        raise RuntimeError(f"OR-Tools min cost flow: status {status}")
    ne = len(a["w"])
    flows = f.flows(np.arange(ne))
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    out = np.full(nw, -1, dtype=np.int64)
    on = flows > 0
    out[a["w"][on]] = a["m"][on]
    return out, elapsed


def solve_highs(a: dict) -> tuple[np.ndarray, tuple[float, float]]:
    """The same flow as an LP for HiGHS (its solution is integral: a network matrix)."""
    import highspy
    import scipy.sparse as sp

    nw, nm = a["n_free"], a["n_members"]
    ne = len(a["w"])
    t0, c0 = time.perf_counter(), time.process_time()
    # variables: edges, leave-out per worker, low slots per member, high slots per member
    nv = ne + nw + 2 * nm
    cost = np.concatenate([a["cost"], np.full(nw, a["leave_out"] + a["bonus"]), np.zeros(nm), np.full(nm, a["bonus"])])
    upper = np.concatenate([np.ones(ne + nw), a["lo"], a["hi"]]).astype(float)
    # rows: worker: sum edges + leave-out = 1; member: sum edges - low - high = 0
    rows = np.concatenate([a["w"], np.arange(nw), nw + a["m"], nw + np.arange(nm), nw + np.arange(nm)])
    cols = np.concatenate([np.arange(ne), ne + np.arange(nw), np.arange(ne), ne + nw + np.arange(2 * nm)])
    vals = np.concatenate([np.ones(ne + nw), np.ones(ne), -np.ones(2 * nm)])
    A = sp.csc_matrix((vals, (rows, cols)), shape=(nw + nm, nv))
    rhs = np.concatenate([np.ones(nw), np.zeros(nm)])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = nv, nw + nm
    lp.col_cost_ = cost.astype(float)
    lp.col_lower_ = np.zeros(nv)
    lp.col_upper_ = upper
    lp.row_lower_ = rhs
    lp.row_upper_ = rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    h.passModel(lp)
    h.run()
    x = np.asarray(h.getSolution().col_value)[:ne]
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    out = np.full(nw, -1, dtype=np.int64)
    on = x > 0.5
    out[a["w"][on]] = a["m"][on]
    return out, elapsed


def measure(extra: dict, member_of: np.ndarray) -> dict:
    free = extra["free"]
    g = extra["graph"]
    on = member_of >= 0
    w, m = free[on], member_of[on]
    d = extra["dist"](w, m)
    load = np.bincount(m, minlength=len(g.lo))
    return {
        "assigned": int(on.sum()),
        "distance_km": float(d.sum()) / 1000,
        "cost_km": float(extra["cost_of"](w, m).sum()) / 1000,
        "objective": _objective(g, free, member_of, extra["cost_of"]),
        "below_min": int((load < g.lo).sum()),
    }


def _objective(g, free, member_of, cost_of) -> float:
    on = member_of >= 0
    c = float(cost_of(free[on], member_of[on]).sum())
    load = np.bincount(member_of[on], minlength=len(g.lo))
    return c + g.leave_out * float((~on).sum()) - g.bonus * float(np.minimum(load, g.lo).sum())


def run(n_workers: int, n_members: int, seed: int, peers: list[str], candidates: int) -> None:
    t0 = time.perf_counter()
    members, workers = city(n_workers, n_members, seed)
    gen = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    result, extra = assign_with_graph(members, workers, min_load=5, max_load=10, max_km=5.0, candidates=candidates)
    ours_t, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    ours = measure(extra, extra["member_of"])
    s = result.stats
    n_edges = len(extra["graph"].edges()[0])
    print(
        f"\n### {n_workers:,} workers, {n_members:,} members (seed {seed}; generated in {gen:.1f} s); "
        f"{n_edges:,} candidate edges, {s['rounds']} rounds, {s['second_chances']} second chances\n"
    )
    print(
        "| method | wall s | CPU s | assigned | left out | total distance km | mean m | total cost km "
        "| members below min | objective |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def line(name, t, r):
        t, cpu = t
        mean = 1000 * r["distance_km"] / max(1, r["assigned"])
        left = len(extra["free"]) - r["assigned"]
        print(
            f"| {name} | {t:.1f} | {cpu:.1f} | {r['assigned']:,} | {left:,} | {r['distance_km']:,.1f} | {mean:.1f} "
            f"| {r['cost_km']:,.1f} | {r['below_min']:,} | {r['objective'] / 1000:,.1f} k |",
            flush=True,
        )

    line("ours (greedy + chains)", (ours_t, ours_cpu), ours)
    peers_out = {}
    a = flow_arrays(extra)
    for peer in peers:
        member_of, t = (solve_ortools if peer == "ortools" else solve_highs)(a)
        peers_out[peer] = (measure(extra, member_of), t)
        line(f"exact: {peer}", t, peers_out[peer][0])
    for peer, (r, t) in peers_out.items():
        print(
            f"\nours / {peer}: distance {ours['distance_km'] / r['distance_km']:.4f}, cost (distance + penalties) "
            f"{ours['cost_km'] / r['cost_km']:.4f}, objective gap "
            f"{(ours['objective'] - r['objective']) / abs(r['objective']):.2e} (relative), assigned "
            f"{ours['assigned'] - r['assigned']:+,}, wall time {ours_t / t[0]:.3f}, CPU time {ours_cpu / t[1]:.3f}"
        )
    print(f"\nours' summary: {s}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1_000_000)
    ap.add_argument("--members", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--no-ortools", action="store_true")
    ap.add_argument("--highs", action="store_true", help="also HiGHS on the LP of the same flow")
    a = ap.parse_args()
    peers = ([] if a.no_ortools else ["ortools"]) + (["highs"] if a.highs else [])
    run(a.workers, a.members, a.seed, peers, a.candidates)
