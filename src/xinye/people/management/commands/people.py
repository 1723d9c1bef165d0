"""`xinye people export-data|erase|withdraw-consent --phone ...`: an organizer handles a worker's request made
in person (the worker shows the phone). Thin commands over `xinye.people.rights`."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms.errors import InputError
from xinye.people import rights


class Command(BaseCommand):
    help = "A worker's rights: a copy of their data, erasure, withdrawal of consent (by phone)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("export-data", help="write everything held about a phone number as JSON")
        p.add_argument("--phone", required=True, help="the worker's 11-digit mobile number")
        p.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
        for name, text in (
            ("erase", "erase the personal fields of the people with this phone (keeps counts and demands)"),
            ("withdraw-consent", "record that the people with this phone withdrew consent: no more processing"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--phone", required=True, help="the worker's 11-digit mobile number")
            p.add_argument("--yes", action="store_true", help="confirm (nothing happens without it)")
            p.add_argument("--by", default="", help="user name of the organizer handling the request (history)")

    def handle(self, *args, action, phone, **o):
        try:
            phone = rights.normalize_phone(phone)
        except InputError as exc:
            raise CommandError("--phone: a mobile number has 11 digits") from exc
        if action == "export-data":
            text = json.dumps(rights.person_data(phone=phone), ensure_ascii=False, indent=2)
            if o["output"]:
                o["output"].write_text(text + "\n", encoding="utf-8")
            else:
                self.stdout.write(text)
            return
        user = None
        if o["by"]:
            user = get_user_model().objects.filter(username=o["by"]).first()
            if user is None:
                raise CommandError(f"--by: no user named {o['by']!r}")
        if not o["yes"]:
            raise CommandError(f"{action} changes data and cannot be undone: add --yes to confirm")
        if action == "erase":
            n = rights.person_erase(phone=phone, user=user, channel="in person", reason="erased on request (in person)")
            self.stdout.write(f"erased {n} person record(s)")
        else:
            n = rights.consent_withdraw(
                phone=phone, user=user, channel="in person", reason="consent withdrawn (in person)"
            )
            self.stdout.write(f"consent withdrawn for {n} person record(s)")
