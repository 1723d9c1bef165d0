"""`xinye volunteering remind`: text volunteers before their shifts (the worker's schedule runs it every 15
minutes; this runs it once, e.g. from cron where no worker runs)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinye.volunteering import services


class Command(BaseCommand):
    help = "Volunteering: remind volunteers of their shifts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("remind", help="send the reminders due now (each once; safe to run again)")

    def handle(self, *args, action, **options):
        if action == "remind":
            n = services.shift_reminders_send()
            self.stdout.write(f"{n} reminder(s) sent")
