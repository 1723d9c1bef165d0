"""`xinye tree link [--division CODE]`: link every top organization to the committee that leads it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinye.organizations.lines import link_upward
from xinye.places.models import Division


class Command(BaseCommand):
    help = (
        "Two lines to the top: give every company's top organization its industry (platforms) or street "
        "committee, and every community-based branch its street's working committee, under the district's "
        "organization department (sets up the committees it needs; running it again changes nothing)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("link", help="link top organizations upward")
        p.add_argument("--division", help="only companies registered and branches anchored in this division")

    def handle(self, *args, action, **o):
        division = None
        if o.get("division"):
            division = Division.objects.filter(code=o["division"]).first()
            if division is None:
                raise CommandError(f"--division {o['division']!r}: no such division")
        n = link_upward(division=division, reason="xinye tree link")
        self.stdout.write(f"{n} top organization(s) linked to the committee that leads them")
