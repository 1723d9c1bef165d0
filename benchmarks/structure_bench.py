"""Structure planner at national scale, and against an exact optimum on small instances (issue #3).

    .venv/bin/python benchmarks/structure_bench.py --members 1000000 --units 200000
    .venv/bin/python benchmarks/structure_bench.py --exact 30      # gap to a HiGHS MIP on 30 small instances

Scale: a national platform: headquarters -> 4 business lines -> 8 regions each -> cities -> stations, with
members spread over the stations with a long tail (a few big stations, many small ones), 92 % formal.
Prints wall time of Business.build, audit and plan (one core), their CPU time, and the peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from xinye.algorithms.rules import get_rules
from xinye.algorithms.structure import Business, Member, Unit, audit, plan


def national_platform(n_units: int, n_members: int, seed: int = 1) -> tuple[list[Unit], list[Member]]:
    rng = np.random.default_rng(seed)
    units = [Unit("hq", None, "HQ", "headquarters")]
    lines = [f"L{i}" for i in range(4)]
    units += [Unit(x, "hq", x, "business_line") for x in lines]
    regions = [f"{x}R{j}" for x in lines for j in range(8)]
    units += [Unit(r, r[:2], r, "region") for r in regions]
    n_cities = max(1, n_units // 600)
    cities = [f"C{i}" for i in range(n_cities)]
    units += [
        Unit(c, regions[i % len(regions)], c, "city", division=f"{4400 + i % 99:04d}") for i, c in enumerate(cities)
    ]
    n_stations = n_units - len(units)
    parents = rng.integers(0, n_cities, size=n_stations)
    units += [
        Unit(f"S{i}", cities[p], f"S{i}", "station", division=f"{4400 + p % 99:04d}{i % 20:02d}")
        for i, p in enumerate(parents)
    ]
    weights = rng.pareto(1.5, size=n_stations) + 0.2
    weights /= weights.sum()
    where = rng.choice(n_stations, size=n_members, p=weights)
    formal = rng.random(n_members) < 0.92
    members = [
        Member(f"m{i}", f"S{w}", "formal" if f else "probationary")
        for i, (w, f) in enumerate(zip(where.tolist(), formal.tolist(), strict=True))
    ]
    return units, members


def scale(n_members: int, n_units: int) -> None:
    t0 = time.perf_counter()
    units, members = national_platform(n_units, n_members)
    t1, c1 = time.perf_counter(), time.process_time()
    business = Business.build(units, members)
    t2, c2 = time.perf_counter(), time.process_time()
    rules = get_rules("cpc")
    findings = audit(business, [], rules)
    t3, c3 = time.perf_counter(), time.process_time()
    result = plan(business, [], rules, findings=findings)
    t4, c4 = time.perf_counter(), time.process_time()
    again = plan(business, result.organizations, rules)
    t5, c5 = time.perf_counter(), time.process_time()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"instance: {n_members:,} members, {n_units:,} units (generated in {t1 - t0:.1f} s)")
    print(
        f"build {t2 - t1:.2f} s, audit {t3 - t2:.2f} s ({len(findings):,} findings), plan {t4 - t3:.2f} s "
        f"({len(result.organizations):,} organizations, unplaced {result.stats['unplaced']:,})"
    )
    print(
        f"audit + plan: {t4 - t2:.2f} s (after build); re-plan of the plan: {t5 - t4:.2f} s, "
        f"churn {again.stats['churn']}"
    )
    print(
        f"CPU time of this process (less affected by other jobs on a shared machine): build {c2 - c1:.2f} s, "
        f"audit {c3 - c2:.2f} s, plan {c4 - c3:.2f} s, audit + plan {c4 - c2:.2f} s, re-plan {c5 - c4:.2f} s"
    )
    print(f"peak resident memory: {rss_mb:,.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=200_000)
    ap.add_argument("--exact", type=int, default=0, help="compare with a HiGHS MIP on N small instances")
    a = ap.parse_args()
    if a.exact:
        from structure_exact import compare

        compare(a.exact)
    else:
        scale(a.members, a.units)
