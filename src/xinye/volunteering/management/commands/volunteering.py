"""`xinye volunteering remind`: text volunteers before their shifts (the worker's schedule runs it every 15
minutes; this runs it once, e.g. from cron where no worker runs). `xinye volunteering expire-points`: expire
the points due (the worker runs it daily; XINYE_POINTS_EXPIRE_YEARS)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinye.volunteering import hours, services


class Command(BaseCommand):
    help = "Volunteering: remind volunteers of their shifts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("remind", help="send the reminders due now (each once; safe to run again)")
        sub.add_parser("expire-points", help="expire the points due today (safe to run again)")

    def handle(self, *args, action, **options):
        if action == "remind":
            n = services.shift_reminders_send()
            self.stdout.write(f"{n} reminder(s) sent")
        elif action == "expire-points":
            n = hours.points_expire()
            self.stdout.write(f"{n} point(s) expired")
