"""`xinye demands escalate`: escalate overdue demands one level up (run it from cron every few minutes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinye.demands import services


class Command(BaseCommand):
    help = "Demands: escalate those past their due date one level up the organization tree."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("escalate", help="escalate overdue demands (idempotent; run every few minutes)")

    def handle(self, *args, action, **options):
        if action == "escalate":
            n = services.demands_escalate()
            self.stdout.write(f"{n} overdue demand(s) escalated")
