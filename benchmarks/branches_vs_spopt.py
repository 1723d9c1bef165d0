"""Community-based branch formation against PySAL spopt's MaxPHeuristic, on the same instances, in one run.

    .venv/bin/pip install -r benchmarks/requirements.txt
    cd benchmarks && ../.venv/bin/python branches_vs_spopt.py --sizes 2500 10000 --timeout 900

Instances: a lattice (communities 500 m apart) and clustered points (Gaussian clusters), each community with
0..10 members (uniformly), 92 % formal. Both methods get the same areas (communities with members) and the
same neighbour graph (Xinye's Delaunay graph with its edge limit), the threshold "formal members >= 3";
spopt with its defaults (top_n=2 as in its documentation). A region counts as valid when it has at least
3 formal members and at most 50 members (spopt has no cap, so its regions are checked for it).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import numpy as np

from xinye.algorithms.branches import Community, Member, _City, form_branches

FLOOR, CAP = 3, 50


def lattice(n: int, rng) -> tuple[list[Community], list[Member]]:
    side = int(round(n**0.5))
    step = 0.0045  # degrees latitude: about 500 m
    cs = [
        Community(
            f"L{i:05d}",
            22.5 + step * (i // side),
            114.0 + step * (i % side) / np.cos(np.radians(22.5)),
            f"s{(i // side) // 10}-{(i % side) // 10}",
        )
        for i in range(side * side)
    ]
    return cs, _members(cs, rng)


def clustered(n: int, rng) -> tuple[list[Community], list[Member]]:
    k = max(1, n // 250)
    centres = np.column_stack([rng.uniform(22.4, 22.8, k), rng.uniform(113.8, 114.4, k)])
    which = rng.integers(0, k, n)
    pts = centres[which] + rng.normal(0, 0.02, (n, 2))
    cs = [Community(f"C{i:05d}", float(a), float(b), f"s{which[i]}") for i, (a, b) in enumerate(pts)]
    return cs, _members(cs, rng)


def _members(cs, rng):
    ms = []
    for c, k in zip(cs, rng.integers(0, 11, len(cs)).tolist(), strict=True):
        for j in range(k):
            ms.append(Member(f"{c.code}-{j}", c.code, "formal" if rng.random() < 0.92 else "probationary"))
    return ms


def count_valid(groups: list[list[int]], formal: np.ndarray, total: np.ndarray) -> tuple[int, int, int]:
    valid = under = over = 0
    for g in groups:
        f, t = int(formal[g].sum()), int(total[g].sum())
        under += f < FLOOR
        over += t > CAP
        valid += f >= FLOOR and t <= CAP
    return valid, under, over


def run_spopt(city_xy, neighbours, formal, total, queue):
    import geopandas as gpd
    import libpysal
    from shapely.geometry import Point
    from spopt.region import MaxPHeuristic

    gdf = gpd.GeoDataFrame({"formal": formal, "total": total}, geometry=[Point(x, y) for x, y in city_xy])
    w = libpysal.weights.W({i: list(nb) for i, nb in enumerate(neighbours)}, silence_warnings=True)
    t0 = time.perf_counter()
    model = MaxPHeuristic(gdf, w, ["total"], "formal", FLOOR, top_n=2)
    model.solve()
    elapsed = time.perf_counter() - t0
    labels = np.asarray(model.labels_)
    groups = [np.flatnonzero(labels == lab).tolist() for lab in np.unique(labels) if lab >= 0]
    queue.put((elapsed, groups))


def compare(kind: str, n: int, timeout: float, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    cs, ms = (lattice if kind == "lattice" else clustered)(n, rng)
    t0 = time.perf_counter()
    plan = form_branches(cs, ms, floor=FLOOR, cap=CAP)
    ours_t = time.perf_counter() - t0
    city = _City({c.code: c for c in cs}, {m.id: m for m in ms}, 6000.0)
    status = {m.id: m.status for m in ms}
    ours_valid = sum(
        1 for b in plan.branches if sum(status[m] == "formal" for m in b.members) >= FLOOR and len(b.members) <= CAP
    )
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=run_spopt, args=(city.xy, city.neighbours, city.formal, city.total, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        spopt = None
    else:
        spopt = queue.get()
    row = {
        "instance": f"{kind} {len(cs):,}",
        "areas": len(city.codes),
        "ours_branches": len(plan.branches),
        "ours_valid": ours_valid,
        "ours_unplaced": plan.stats["unplaced"],
        "ours_s": ours_t,
    }
    if spopt:
        elapsed, groups = spopt
        valid, under, over = count_valid(groups, city.formal, city.total)
        row.update(
            spopt_regions=len(groups),
            spopt_valid=valid,
            spopt_under=under,
            spopt_over=over,
            spopt_s=elapsed,
            speedup=elapsed / ours_t,
        )
    else:
        row.update(spopt_regions=None, spopt_s=f"> {timeout:.0f}", speedup=f"> {timeout / ours_t:.0f}")
    return row


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2500, 10000])
    ap.add_argument("--kinds", nargs="+", default=["lattice", "clustered"])
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()
    # warm up: the first call pays for importing scipy's spatial module and starting Qhull
    warm = [Community(f"w{i}", 22.5 + 0.001 * (i % 5), 114.0 + 0.001 * (i // 5)) for i in range(25)]
    form_branches(warm, [Member(f"m{i}", f"w{i}") for i in range(25)])
    for n in a.sizes:
        for kind in a.kinds:
            r = compare(kind, n, a.timeout)
            print(r, flush=True)
