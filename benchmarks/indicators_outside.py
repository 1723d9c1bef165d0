"""What reading a division from outside by platform or occupation costs, side by side with the same page without
a filter (issue 15; second outsider review, finding 4).

A district organizer reads the city. Without a filter the page counts each indicator for the city and the
districts under it (`selectors.current_counts`); by occupation or platform it counts every platform and
occupation at once (`selectors.current_grids`) and decides the whole table (`policy.indicator_table`), so no
hidden cell comes back from the others. Both with the indicator cache off (a cold page), in one run, as a ratio.

    DATABASE_URL=sqlite:////tmp/demo/x.sqlite3 ../.venv/bin/python indicators_outside.py --runs 3

The database is a demo (`xinye demo --city 4403 --workers 50000 --seed 1`) with monthly snapshots
(`xinye indicators snapshot --since 2026-06`).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--user", default="district", help="the demo organizer who reads the city from outside")
    args = parser.parse_args()

    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinye.config.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from xinye.accounts import policy
    from xinye.accounts.scope import scope_for
    from xinye.organizations.models import Company
    from xinye.reports import selectors

    settings.XINYE_INDICATOR_CACHE_SECONDS = 0
    scope = scope_for(get_user_model().objects.get(username=args.user))
    city = scope.division_prefixes[0][:4]
    assert policy.indicator_access(scope, city) == policy.OUTSIDE, "the user must read the city from outside"
    platform = Company.objects.filter(is_platform=True, workers__work_community__code__startswith=city)
    platform = platform.values_list("pk", flat=True).first()

    cases = {
        "no filter": {},
        "occupation courier": {"occupation": "courier"},
        f"platform {platform}": {"platform": platform},
        "platform and occupation": {"platform": platform, "occupation": "courier"},
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    hidden: dict[str, int] = {}
    for _ in range(args.runs):
        for name, flt in cases.items():
            start = time.perf_counter()
            board = selectors.board(scope=scope, code=city, **flt)
            times[name].append(time.perf_counter() - start)
            hidden[name] = sum(1 for f in board["figures"] if f.counted and f.suppressed)
    base = statistics.median(times["no filter"])
    print(f"{args.user} reads {city} from outside, cache off, {args.runs} runs (median):")
    for name, got in times.items():
        m = statistics.median(got)
        print(f"  {name:28s} {m:6.2f} s  x{m / base:4.2f}  ({hidden[name]} of 17 figures hidden)")


if __name__ == "__main__":
    main()
