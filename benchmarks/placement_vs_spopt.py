"""Placement of new stations (maximal coverage) against PySAL spopt's MCLP solved exactly, in one run.

    .venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/placement_vs_spopt.py

Instances (seeded, the same for both): demand points in a Shenzhen-sized box, 85 % of them in Gaussian
clusters (spread 0.6-3 km) and 15 % uniform, each with 1..40 workers (long-tailed); candidate sites uniform
in the box; no existing station; radius 1.5 km. spopt builds its MCLP from a cost matrix (great-circle metres,
computed with numpy and counted in its build time) and solves it with HiGHS through PuLP (PuLP's default
relative MIP gap, 1e-4); spopt's time is building + solving (without its result tables). Coverage of both
choices is counted from the same distance matrix. Xinye's time is `place` on the coordinates (it builds its
own coverage sets); its certified guarantee is its proven lower bound on coverage / optimum.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from xinye.algorithms.geo import haversine_m_array
from xinye.algorithms.placement import place

BOX = (22.45, 113.75, 22.85, 114.62)


def instance(n_demand: int, n_sites: int, seed: int):
    rng = np.random.default_rng(seed)
    lat0, lon0, lat1, lon1 = BOX
    n_hot = max(4, n_demand // 100)
    centres = np.column_stack([rng.uniform(lat0, lat1, n_hot), rng.uniform(lon0, lon1, n_hot)])
    spread = rng.uniform(0.006, 0.03, n_hot)
    n_bg = int(n_demand * 0.15)
    which = rng.integers(0, n_hot, n_demand - n_bg)
    pts = centres[which] + rng.normal(0.0, 1.0, (len(which), 2)) * spread[which, None]
    pts = np.vstack([pts, np.column_stack([rng.uniform(lat0, lat1, n_bg), rng.uniform(lon0, lon1, n_bg)])])
    weight = np.minimum(40, np.ceil(rng.pareto(1.5, n_demand) * 3)).astype(float) + 1
    sites = np.column_stack([rng.uniform(lat0, lat1, n_sites), rng.uniform(lon0, lon1, n_sites)])
    return pts[:, 0], pts[:, 1], weight, sites[:, 0], sites[:, 1]


def covered(dist: np.ndarray, weight: np.ndarray, chosen, radius_m: float) -> float:
    return float(weight[(dist[:, list(chosen)] <= radius_m).any(axis=1)].sum()) if len(chosen) else 0.0


def run_spopt(w_lat, w_lon, weight, c_lat, c_lon, p: int, radius_m: float, time_limit: float):
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    dist = haversine_m_array(w_lat[:, None], w_lon[:, None], c_lat[None, :], c_lon[None, :])
    model = MCLP.from_cost_matrix(dist, weight, service_radius=radius_m, p_facilities=p)
    t1 = time.perf_counter()
    model.solve(pulp.HiGHS(msg=False, timeLimit=time_limit), results=False)
    t2 = time.perf_counter()
    chosen = [j for j, x in enumerate(model.fac_vars) if x.value() > 0.5]
    status = pulp.LpStatus[model.problem.status]
    return dist, chosen, t1 - t0, t2 - t1, status


def compare(n_demand: int, n_sites: int, p: int, radius_m: float, seed: int, time_limit: float) -> dict:
    w_lat, w_lon, weight, c_lat, c_lon = instance(n_demand, n_sites, seed)
    t0 = time.perf_counter()
    r = place(w_lat, w_lon, weight, [], [], c_lat, c_lon, k=p, radius_m=radius_m)
    ours_t = time.perf_counter() - t0
    dist, chosen, build_t, solve_t, status = run_spopt(w_lat, w_lon, weight, c_lat, c_lon, p, radius_m, time_limit)
    spopt_cov = covered(dist, weight, chosen, radius_m)
    ours_cov = covered(dist, weight, r.candidates, radius_m)
    assert abs(ours_cov - r.covered_after) <= 1e-6 * max(1.0, ours_cov), (ours_cov, r.covered_after)
    spopt_t = build_t + solve_t
    return {
        "instance": f"{n_demand:,} x {n_sites:,}, p={p}",
        "total": float(weight.sum()),
        "spopt": spopt_cov,
        "status": status,
        "ours": ours_cov,
        "ratio": ours_cov / spopt_cov,
        "guarantee": r.guarantee,
        "upper_bound": r.upper_bound,
        "spopt_build": build_t,
        "spopt_solve": solve_t,
        "spopt_s": spopt_t,
        "ours_s": ours_t,
        "speedup": spopt_t / ours_t,
        "source": r.stats["source"],
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["2000,500,50", "5000,1000,100"], help="demand,sites,p")
    ap.add_argument("--radius-km", type=float, default=1.5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--time-limit", type=float, default=1800, help="HiGHS time limit (s)")
    a = ap.parse_args()
    place([22.5], [114.0], [1.0], [], [], [22.5], [114.0], k=1, radius_m=100)  # warm up: scipy imports
    rows = []
    for size in a.sizes:
        n, m, p = (int(x) for x in size.split(","))
        for seed in a.seeds:
            row = compare(n, m, p, a.radius_km * 1000, seed, a.time_limit)
            rows.append(row | {"seed": seed})
            print(row, flush=True)
    print()
    print(
        "| instance | seed | spopt coverage (HiGHS status) | Xinye coverage | Xinye / spopt | Xinye certified "
        "| spopt time (build + solve) | Xinye time | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['instance']} | {r['seed']} | {r['spopt']:,.0f} of {r['total']:,.0f} ({r['status']}) | "
            f"{r['ours']:,.0f} | **{r['ratio']:.2%}** | ≥ {r['guarantee']:.2%} of optimum | "
            f"{r['spopt_s']:.1f} s ({r['spopt_build']:.1f} + {r['spopt_solve']:.1f}) | {r['ours_s'] * 1000:.0f} ms | "
            f"**{r['speedup']:,.0f} ×** |"
        )
