"""`xinye people export-data|erase|withdraw-consent --phone ...`: an organizer handles a worker's request made
in person (the worker shows the phone). Thin commands over `xinye.people.rights`."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms.errors import InputError
from xinye.people import rights, roster


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
        p = sub.add_parser("import", help="import a roster of workers and members (.xlsx or CSV): all or nothing")
        p.add_argument("file", type=Path, help="ROSTER.xlsx or ROSTER.csv (UTF-8 or GB18030); see `template`")
        p.add_argument("--dry-run", action="store_true", help="check every row and say what would change")
        p.add_argument("--as", dest="as_user", default="", help="import within this user's scope (default: all)")
        p = sub.add_parser("template", help="write the roster template (.xlsx with drop-down lists, or .csv)")
        p.add_argument("-o", "--output", type=Path, required=True, help="ROSTER.xlsx or ROSTER.csv")

    def handle(self, *args, action, **o):
        if action == "import":
            return self._import(o)
        if action == "template":
            out = o["output"]
            out.write_bytes(roster.template_xlsx()) if out.suffix == ".xlsx" else _write_csv_template(out)
            self.stdout.write(f"wrote the roster template to {out}")
            return
        phone = o["phone"]
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

    def _import(self, o):
        from xinye.accounts.scope import Scope, scope_for

        user = None
        if o["as_user"]:
            user = get_user_model().objects.filter(username=o["as_user"]).first()
            if user is None:
                raise CommandError(f"--as: no user named {o['as_user']!r}")
            scope = scope_for(user)
        else:
            scope = Scope(None, is_admin=True)
        try:
            result = roster.roster_import(o["file"], scope=scope, user=user, dry_run=o["dry_run"])
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        verb = "would add" if result.dry_run else "added"
        self.stdout.write(
            f"{result.rows} rows: {verb} {result.added}, {'would change' if result.dry_run else 'changed'} "
            f"{result.changed}, left {result.unchanged} as they were"
            + (" (dry run: nothing written)" if result.dry_run else "")
        )


def _write_csv_template(path: Path) -> None:
    from xinye.algorithms.tabular import csv_writer

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv_writer(fh)
        for row in roster.template_rows():
            w.writerow(row)
