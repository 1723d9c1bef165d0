"""The structure planner against an exact optimum (a MIP solved by HiGHS) on small random instances.

Objective (the planner's: as many branches as the rules allow, so branches sit close to members):
maximise the number of branches, where every unit with members sends them all to one branch anchored at
the unit itself or at one of its ancestors (a branch on a unit covers its subtree), and every branch has
at least `min_formal_members` formal members and at most `branch_cap` members.

    y_a  in {0, 1}          a branch anchored at unit a
    x_ua in {0, 1}          unit u's members go to the branch at a (a = u or an ancestor of u)
    sum_a x_ua = 1                      for every unit u with members
    sum_u F_u x_ua >= floor * y_a       formal members
    sum_u T_u x_ua <= cap * y_a         all members
    max sum_a y_a

The planner's branches are mapped to this space by their anchor (the lowest common ancestor of their
units). Units hold at most `cap` members, so no unit has to be split. The gap is (optimum - planner) /
optimum, over instances the rules can satisfy (at least `floor` formal members in all).
"""

from __future__ import annotations

import statistics
import time

import highspy
import numpy as np

from xinye.algorithms.rules import get_rules
from xinye.algorithms.structure import Business, Member, Unit, plan


def random_instance(rng: np.random.Generator, n_units: int) -> Business:
    units = [Unit("u0", None)]
    for i in range(1, n_units):
        units.append(Unit(f"u{i}", f"u{int(rng.integers(0, i))}", division=f"d{int(rng.integers(0, 3))}"))
    members = []
    for u in units:
        if rng.random() < 0.7:
            n = int(rng.integers(1, 13))
            for j in range(n):
                members.append(Member(f"{u.id}-{j}", u.id, "formal" if rng.random() < 0.85 else "probationary"))
    return Business.build(units, members)


def exact_branches(b: Business, floor: int, cap: int, time_limit: float = 60.0) -> tuple[float, str]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", time_limit)
    with_members = [u for u in b.order if b.members_of.get(u)]
    y = {a: h.addBinary() for a in b.order}
    x = {}
    for u in with_members:
        for a in [u, *b.ancestors(u)]:
            x[u, a] = h.addBinary()
        h.addConstr(sum(x[u, a] for a in [u, *b.ancestors(u)]) == 1)
    by_anchor: dict[str, list[str]] = {}
    for u, a in x:
        by_anchor.setdefault(a, []).append(u)
    for a, us in by_anchor.items():
        formal = sum(b.unit_formal.get(u, 0) * x[u, a] for u in us)
        total = sum(len(b.members_of[u]) * x[u, a] for u in us)
        h.addConstr(formal - floor * y[a] >= 0)
        h.addConstr(total - cap * y[a] <= 0)
        for u in us:
            h.addConstr(x[u, a] - y[a] <= 0)
    for a in b.order:
        if a not in by_anchor:
            h.addConstr(y[a] <= 0)
    h.maximize(sum(y.values()))
    status = h.modelStatusToString(h.getModelStatus())
    return h.getInfo().objective_function_value, status


def planner_branches(b: Business) -> int:
    rules = get_rules("cpc")
    result = plan(b, [], rules)
    branches = [o for o in result.organizations if o.kind in rules.branch_kinds]
    assert result.stats["unplaced"] == 0
    return len(branches)


def compare(n_instances: int, max_units: int = 60, seed: int = 7) -> None:
    rules = get_rules("cpc")
    rng = np.random.default_rng(seed)
    gaps, t_plan, t_mip = [], 0.0, 0.0
    worse = 0
    for _ in range(n_instances):
        b = random_instance(rng, int(rng.integers(5, max_units + 1)))
        if len(b.formal) < rules.min_formal_members:
            continue
        t0 = time.perf_counter()
        mine = planner_branches(b)
        t1 = time.perf_counter()
        best, status = exact_branches(b, rules.min_formal_members, rules.branch_cap)
        t2 = time.perf_counter()
        t_plan += t1 - t0
        t_mip += t2 - t1
        gap = (best - mine) / best if best else 0.0
        gaps.append(gap)
        worse += mine < round(best)
        print(
            f"units {len(b.units):3d} members {len(b.members):4d}: planner {mine:3d} branches, "
            f"optimum {best:5.0f} ({status}), gap {gap:6.1%}"
        )
    print(
        f"\n{len(gaps)} instances: mean gap {statistics.mean(gaps):.1%}, max gap {max(gaps):.1%}, "
        f"planner below optimum on {worse}; planner {t_plan:.2f} s in all, HiGHS {t_mip:.2f} s in all"
    )


if __name__ == "__main__":
    compare(30)
