"""`xinye stations place WORKERS.csv STATIONS.csv CANDIDATES.csv -k 50 --radius-km 4 -o PICKS.csv`:
where to open new service stations (maximal coverage with a certified bound), files in, files out."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms import placement
from xinye.algorithms.errors import XinyeError
from xinye.algorithms.geo import CRS_CHOICES
from xinye.common.progress import progress_bar


class Command(BaseCommand):
    help = "Service stations on files, without the database: choose where to open new stations."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser(
            "place",
            help="choose k candidate sites that cover the most workers no existing station covers",
        )
        p.add_argument(
            "workers", type=Path, help="WORKERS.csv: id, lat, lon[, weight] (weight: workers there, default 1)"
        )
        p.add_argument("stations", type=Path, help="STATIONS.csv: id, lat, lon of the existing stations (may be empty)")
        p.add_argument("candidates", type=Path, help="CANDIDATES.csv: id, lat, lon of the candidate sites")
        p.add_argument("-k", type=int, required=True, help="number of new stations")
        p.add_argument("--radius-km", type=float, default=4.0, help="a station covers workers this close (default 4)")
        p.add_argument("-o", "--output", type=Path, required=True, help="PICKS.csv: id, rank, gain")
        p.add_argument("--summary", type=Path, help="S.json: coverage before and after, the certified bound")
        p.add_argument(
            "--crs", default="wgs84", choices=CRS_CHOICES, help="coordinate system of the three files (default wgs84)"
        )

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_place(self, **o):
        if o["k"] < 0:
            raise CommandError(f"-k {o['k']}: the number of new stations must be 0 or more")
        if not o["radius_km"] > 0:
            raise CommandError(f"--radius-km {o['radius_km']}: the radius must be more than 0")
        try:
            workers = placement.load_sites_csv(o["workers"], weighted=True, crs=o["crs"])
            stations = placement.load_sites_csv(o["stations"], crs=o["crs"])
            candidates = placement.load_sites_csv(o["candidates"], crs=o["crs"])
            with progress_bar(o["verbosity"] > 0 and len(workers.ids) > 200_000) as bar:
                result = placement.place(
                    workers.lat,
                    workers.lon,
                    workers.weight,
                    stations.lat,
                    stations.lon,
                    candidates.lat,
                    candidates.lon,
                    k=o["k"],
                    radius_m=o["radius_km"] * 1000.0,
                    progress=bar,
                )
        except XinyeError as exc:
            raise CommandError(str(exc)) from exc
        for path, write in ((o["output"], placement.write_picks_csv), (o["summary"], placement.write_summary_json)):
            try:
                if path:
                    write(path, result, candidates.ids)
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
        total = result.total_weight or 1.0
        why = {
            "no_more_gain": "each further station would reach no additional worker within the radius",
            "few_candidates": f"there are only {len(result.picks)} candidate sites, and every one is picked",
        }.get(result.stop_reason)
        self.stdout.write(f"{len(result.picks)} of the {o['k']} new stations requested" + (f": {why}" if why else ""))
        self.stdout.write(
            f"covered: {result.covered_before:,.0f} of {result.total_weight:,.0f} workers "
            f"({result.covered_before / total:.1%}) before, {result.covered_after:,.0f} "
            f"({result.covered_after / total:.1%}) after"
        )
        self.stdout.write(
            f"certified: no {o['k']} candidates cover more than {result.upper_bound:,.0f} "
            f"({result.upper_bound / total:.1%}); the new coverage is at least {result.guarantee:.1%} "
            "of the best possible"
        )
        self.stdout.write(f"written to {o['output']}" + (f" and {o['summary']}" if o["summary"] else ""))
