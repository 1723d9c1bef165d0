"""The shared shape of `xinye companies|organizations|posts import|template` (issue 12, item 1)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms.errors import InputError


class RosterCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("import", help=f"import {self.kind} from .xlsx or CSV: all or nothing")
        p.add_argument("file", type=Path, help="FILE.xlsx or FILE.csv (UTF-8 or GB18030); see `template`")
        p.add_argument("--dry-run", action="store_true", help="check every row and say what would change")
        p.add_argument("--as", dest="as_user", default="", help="import within this user's scope (default: all)")
        p = sub.add_parser("template", help="write the template (.xlsx with drop-down lists, or .csv)")
        p.add_argument("-o", "--output", type=Path, required=True, help="FILE.xlsx or FILE.csv")

    def handle(self, *args, action, **o):
        from xinye.organizations import rosters

        if action == "template":
            out = o["output"]
            if out.suffix.lower() == ".xlsx":
                out.write_bytes(rosters.template_xlsx(self.kind))
            else:
                from xinye.algorithms.tabular import csv_writer

                with out.open("w", encoding="utf-8-sig", newline="") as fh:
                    w = csv_writer(fh)
                    for row in rosters.template_rows(self.kind):
                        w.writerow(row)
            self.stdout.write(f"wrote the {self.kind} template to {out}")
            return
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
            result = rosters.IMPORTERS[self.kind](o["file"], scope=scope, user=user, dry_run=o["dry_run"])
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        dry = result.dry_run
        self.stdout.write(
            f"{result.rows} rows: {'would add' if dry else 'added'} {result.added}, "
            f"{'would change' if dry else 'changed'} {result.changed}, left {result.unchanged} as they were"
            + (" (dry run: nothing written)" if dry else "")
        )
        for plan in result.plans[:50]:
            self.stdout.write(f"  row {plan.row}: {plan.action} {plan.name} {' '.join(plan.changes)}".rstrip())
