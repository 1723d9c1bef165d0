"""`xinye demo --city 4403 --workers 50000 --seed 1`: build a demo city on real divisions."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from xinye.common.commands import run_or_fail
from xinye.common.progress import progress_bar
from xinye.demo import services


class Command(BaseCommand):
    help = "Build a deterministic demo city (companies, workers, members, organizations, stations)."

    def add_arguments(self, parser):
        parser.add_argument("--city", default="4403", help="4-digit city code (default 4403, Shenzhen)")
        parser.add_argument("--workers", type=int, default=50000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reset", action="store_true", help="delete an existing demo first")
        parser.add_argument("--if-missing", action="store_true", help="do nothing if a demo of this city exists")

    def handle(self, *args, **o):
        if settings.PRODUCTION:
            # the demo's logins have a published password: never on a server people's data is on
            raise CommandError("the demo city is for development and trials; it is refused when XINYE_PRODUCTION=1")
        existing = services.demo_exists(city=o["city"])
        if existing and o["if_missing"] and not o["reset"]:
            self.stdout.write(f"demo of {o['city']} already built ({existing.workers} workers, seed {existing.seed})")
            run = existing
        else:
            if o["reset"]:
                services.demo_reset()
            with progress_bar(o["verbosity"] > 0) as bar:
                run = run_or_fail(
                    services.demo_build, city=o["city"], workers=o["workers"], seed=o["seed"], progress=bar
                )
            from django.db import connection

            if connection.vendor == "postgresql":  # a bulk load: fresh statistics, or the planner guesses
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            s = run.summary
            self.stdout.write(
                f"demo city {o['city']}: {s['companies']} companies, {s['business_units']} business units, "
                f"{s['workers']} workers, {s['members']} members, {s['organizations']} organizations, "
                f"{s['stations']} stations"
            )
        self.stdout.write(f"logins (password for all: {services.DEMO_PASSWORD}):")
        for login in run.summary["logins"]:
            self.stdout.write(f"  {login['username']:<10} {login['role']}")
