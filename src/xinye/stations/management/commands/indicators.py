"""`xinye indicators batch --workers W --stations S --out DIR`: station coverage of the whole country and the
community branch formation of every city, from files, on dask.distributed (issue 15, item 5).

`xinye indicators snapshot [--period YYYY-MM] [--since YYYY-MM]`: the monthly snapshot of every indicator in
the database (issue 15, item 2), of the current month by default; idempotent (a month taken again is
replaced). With --since, every month from that one to --period.

`xinye indicators report --division CODE --period YYYY-MM [-o DIR]`: a division's monthly report (issue 15, item
4), built and kept as the page's job does (the month's snapshot taken first if it has none), and its .xlsx and
PDF written to DIR (default: the current directory)."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms import coverage_batch
from xinye.algorithms.errors import XinyeError
from xinye.common.progress import progress_bar


def _client(scheduler: str | None, n_workers: int, threads: int, memory_limit: str):
    """A dask.distributed Client: on the scheduler given, or on a local cluster of `n_workers` processes with
    `threads` threads each and `memory_limit` per process."""
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads,
        memory_limit=memory_limit,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.WARNING,
    )
    return Client(cluster), cluster


class Command(BaseCommand):
    help = "Indicators computed from files for the whole country (station coverage, branch formation)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("batch", help="station coverage by division and occupation, and branch plans per city")
        p.add_argument("--workers", required=True, help="Parquet files of workers: a directory, a glob or one file")
        p.add_argument("--stations", required=True, type=Path, help="stations, CSV or Parquet: id, lat, lon, open_24h")
        p.add_argument("--out", required=True, type=Path, help="directory for coverage.csv and the branch plans")
        p.add_argument("--radius-km", type=float, default=1.5, help="coverage radius, great-circle (default 1.5)")
        p.add_argument(
            "--members",
            type=Path,
            help="members, CSV or Parquet: id, status (formal|probationary); with it, branches are formed per city "
            "for the members who are couriers or delivery riders",
        )
        p.add_argument("--branch-radius-km", type=float, help="branch work radius (default: the rule set's)")
        p.add_argument("--floor", type=int, help="formal members a branch needs (default and least: the rules')")
        p.add_argument("--cap", type=int, help="members a branch may have (default and most: the rules')")
        p.add_argument("--scheduler", help="tcp://HOST:PORT of a dask scheduler (default: a local cluster)")
        p.add_argument("--local", action="store_true", help="no dask: every part in this process, one by one")
        p.add_argument("--n-workers", type=int, default=1, help="local cluster: worker processes (default 1)")
        p.add_argument("--threads", type=int, default=2, help="local cluster: threads per process (default 2)")
        p.add_argument("--memory-limit", default="3GiB", help="local cluster: memory per process (default 3GiB)")
        p.add_argument("--rows-per-task", type=int, default=coverage_batch.ROWS_PER_TASK, help="rows read by one task")
        s = sub.add_parser("snapshot", help="the monthly snapshot of every indicator (idempotent per month)")
        s.add_argument("--period", help="the month, YYYY-MM (default: the current month, as of today)")
        s.add_argument("--since", help="also every month from this one (YYYY-MM) up to --period")

        r = sub.add_parser("report", help="a division's monthly report (.xlsx with charts and a PDF), kept and written")
        r.add_argument("--division", required=True, help="the division's code: province, city, district or street")
        r.add_argument("--period", required=True, help="the month, YYYY-MM")
        r.add_argument("-o", "--out", type=Path, default=Path("."), help="directory for the two files (default .)")

    def handle(self, *args, action, **o):
        if action == "snapshot":
            return self._snapshot(o)
        if action == "report":
            return self._report(o)
        from xinye.organizations.community_planning import COMMUNITY_OCCUPATIONS, community_params

        t0 = time.perf_counter()
        client = cluster = None
        try:
            params = None
            members = None
            if o["members"]:
                params = community_params(floor=o["floor"], cap=o["cap"], radius_km=o["branch_radius_km"],
                                          field_names=("--floor", "--cap", "--branch-radius-km"))  # fmt: skip
                members = coverage_batch.read_members(o["members"])
            if not o["local"]:
                client, cluster = _client(o["scheduler"], o["n_workers"], o["threads"], o["memory_limit"])
            with progress_bar(o["verbosity"] > 0) as bar:
                result = coverage_batch.run_batch(
                    o["workers"],
                    o["stations"],
                    radius_km=o["radius_km"],
                    client=client,
                    members=members,
                    member_occupations=COMMUNITY_OCCUPATIONS,
                    rows_per_task=o["rows_per_task"],
                    progress=bar,
                )
            plans = coverage_batch.plan_branches(result, params, client) if params is not None else None
        except XinyeError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"dask scheduler {o['scheduler'] or '(local)'}: {exc}") from exc
        finally:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        written = coverage_batch.write_outputs(o["out"], result, plans)
        s = result.stats | {"seconds": round(time.perf_counter() - t0, 2)}
        if plans is not None:
            s["cities"] = len(plans)
            s["branches"] = sum(len(p["branches"]) for p in plans)
            s["members_unplaced"] = sum(len(p["unplaced"]) for p in plans)
        (o["out"] / "summary.json").write_text(json.dumps(s, indent=1) + "\n", encoding="utf-8")
        share = s["covered"] / s["workers"] if s["workers"] else 0.0
        self.stdout.write(
            f"{s['workers']:,} workers in {s['files']} files, {s['stations_stations']:,} stations: "
            f"{s['covered']:,} covered ({share:.1%}), {s['covered_24h']:,} by a 24-hour station, "
            f"within {o['radius_km']:g} km; {s['seconds']:.1f} s"
        )
        if plans is not None:
            self.stdout.write(f"{s['branches']:,} branches in {s['cities']} cities; {s['members_unplaced']} unplaced")
        self.stdout.write("written: " + ", ".join(str(p) for p in [*written, o["out"] / "summary.json"]))

    def _snapshot(self, o) -> None:
        from django.utils import timezone

        from xinye.reports import services

        today = timezone.localdate()
        try:
            last = services.period_parse(o["period"]) if o["period"] else today.replace(day=1)
            first = services.period_parse(o["since"], field="since") if o["since"] else last
            if first > last:
                raise CommandError(f"--since {o['since']} is after the month {last:%Y-%m}")
            months = []
            while first <= last:
                months.append(first)
                first = (first + timedelta(days=32)).replace(day=1)
            for period in months:
                result = services.indicator_snapshot_take(period=period, today=today)
                self.stdout.write(
                    f"{result.period:%Y-%m}: {result.rows:,} rows as of {result.as_of:%Y-%m-%d}"
                    + (f" (replaced {result.replaced:,})" if result.replaced else "")
                )
        except XinyeError as exc:
            raise CommandError(str(exc)) from exc

    def _report(self, o) -> None:
        from xinye.accounts.scope import Scope
        from xinye.reports import services

        # the command line is the operator's: it reads every division as it is, as an administrator does
        operator = Scope(user_id=None, is_admin=True)
        code = o["division"].strip()
        try:
            period = services.period_parse(o["period"])
            with progress_bar(o["verbosity"] > 0) as bar:
                kept = services.monthly_report_create(scope=operator, division_code=code, period=period, progress=bar)
        except XinyeError as exc:
            raise CommandError(str(exc)) from exc
        out: Path = o["out"]
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for fmt in ("xlsx", "pdf"):
            path = out / f"report-{code}-{period:%Y-%m}.{fmt}"
            path.write_bytes(bytes(getattr(kept, fmt)))
            written.append(path)
        self.stdout.write(
            f"{kept.division.name} ({code}) {period:%Y-%m}, as of {kept.as_of:%Y-%m-%d}: report #{kept.pk} kept; "
            "written: " + ", ".join(str(p) for p in written)
        )
