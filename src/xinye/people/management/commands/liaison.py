"""`xinye liaison assign MEMBERS.csv WORKERS.csv -o PAIRS.csv`: liaison pairs (member keeps in touch with workers),
files in and files out, no database. Issue #6."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms import liaison
from xinye.algorithms.errors import XinyeError
from xinye.common.progress import progress_bar


class Command(BaseCommand):
    help = "Assign workers to members who keep in touch with them (files in, files out)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("assign", help="pair workers with members by nearness, occupation and platform")
        p.add_argument(
            "members", type=Path, help="MEMBERS.csv: id, lat, lon, occupation; optional platform (a;b), capacity"
        )
        p.add_argument("workers", type=Path, help="WORKERS.csv: id, lat, lon, occupation; optional platform (a;b)")
        p.add_argument("-o", "--output", type=Path, required=True, help="PAIRS.csv: member, worker, distance_m, reason")
        p.add_argument("--existing", type=Path, help="PAIRS.csv of the last run: pairs still valid are kept")
        p.add_argument("--min", dest="min_load", type=int, default=5, help="workers a member should have (default 5)")
        p.add_argument("--max", dest="max_load", type=int, default=10, help="workers a member may have (default 10)")
        p.add_argument("--max-km", type=float, default=5.0, help="longest member-worker distance (default 5 km)")
        p.add_argument(
            "--occupation-penalty-m",
            type=float,
            default=300.0,
            help="a member of another occupation counts as this much farther (default 300 m)",
        )
        p.add_argument(
            "--platform-penalty-m",
            type=float,
            default=150.0,
            help="a member sharing no platform counts as this much farther (default 150 m)",
        )
        p.add_argument("--candidates", type=int, default=8, help="nearest members considered per worker (default 8)")
        p.add_argument("--summary", type=Path, help="write the statistics as JSON here")

    def handle(self, *args, action, **o):
        try:
            members = liaison.load_members_csv(o["members"])
            workers = liaison.load_workers_csv(o["workers"])
            existing = []
            if o["existing"]:
                existing = liaison.load_pairs_csv(o["existing"], (m.id for m in members), (w.id for w in workers))
            with progress_bar(o["verbosity"] > 0 and len(workers) > 100_000) as bar:
                result = liaison.assign(
                    members,
                    workers,
                    min_load=o["min_load"],
                    max_load=o["max_load"],
                    max_km=o["max_km"],
                    existing=existing,
                    progress=bar,
                    occupation_penalty_m=o["occupation_penalty_m"],
                    platform_penalty_m=o["platform_penalty_m"],
                    candidates=o["candidates"],
                    files=(str(o["members"]), str(o["workers"]), str(o["existing"] or "existing")),
                )
        except XinyeError as exc:
            raise CommandError(str(exc)) from exc
        liaison.write_pairs_csv(o["output"], result)
        s = result.stats
        if o["summary"]:
            o["summary"].write_text(json.dumps(s, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        self.stdout.write(
            f"{s['assigned']} of {s['workers']} workers paired with {s['members']} members ({s['kept']} pairs kept); "
            f"{s['unassigned']} left out; mean distance {s['mean_distance_m']:.0f} m; "
            f"{s['members_below_min']} members below {s['min_load']}"
        )
        self.stdout.write(f"written to {o['output']}")
