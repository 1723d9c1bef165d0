"""`xinye worker`: the background worker: jobs from the pages and the API, and the schedules."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from xinye.common.jobs import jobs_recover
from xinye.common.schedules import ensure_schedules


class Command(BaseCommand):
    help = (
        "Run the background worker (django-q2 on the project's database): queued jobs, then the schedules "
        "(escalation of late demands every 5 minutes, member flags and term reminders daily, recovery of "
        "jobs whose worker stopped every minute). Run one per machine; more run side by side safely."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, help="worker processes (default XINYE_WORKER_PROCESSES, 2)")

    def handle(self, *args, **o):
        if o.get("processes"):
            from django_q.conf import Conf

            Conf.WORKERS = o["processes"]
        made = ensure_schedules()
        if made:
            self.stdout.write(f"schedules created: {', '.join(made)}")
        # jobs a killed worker left running: run them again (or end them with the reason) before anything else
        recovered = jobs_recover()
        if any(recovered.values()):
            self.stdout.write(f"jobs recovered: {recovered}")
        call_command("qcluster")
