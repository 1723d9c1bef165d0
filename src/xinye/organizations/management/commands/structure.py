"""`xinye structure audit|plan|diff|template`: the structure planner on files, without the database."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinye.algorithms import structure, structure_io
from xinye.algorithms.errors import XinyeError
from xinye.algorithms.rules import RULE_SETS, RulesError, get_rules
from xinye.algorithms.structure.model import no_gc
from xinye.common.progress import progress_bar


class Command(BaseCommand):
    help = "Audit and plan an organization tree against a business architecture (files in, files out)."
    # files in, files out: Django's system checks (models, URLs, templates) have nothing to say about them, and
    # take most of a second at start-up
    requires_system_checks: list[str] = []
    #: what `plan` made, kept alive until the program ends (see `run_from_argv`)
    _held: tuple | None = None

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        def common(p):
            p.add_argument("business", type=Path, help="BUSINESS.json, .xlsx (sheets units, members) or units .csv")
            p.add_argument("--members", type=Path, help="members CSV, when BUSINESS is a units CSV")
            p.add_argument("--orgs", type=Path, help="current organizations: ORGS.json, .csv or .xlsx")
            p.add_argument("--rules", default="cpc", choices=sorted(RULE_SETS), help="rule set (default cpc)")

        a = sub.add_parser("audit", help="list every finding")
        common(a)
        a.add_argument("--json", action="store_true", help="print the findings as JSON")
        p = sub.add_parser("plan", help="propose a compliant tree")
        common(p)
        p.add_argument("-o", "--output", type=Path, required=True, help="PLAN.json")
        d = sub.add_parser("diff", help="what changed between two versions of a business architecture")
        d.add_argument("old", type=Path)
        d.add_argument("new", type=Path)
        i = sub.add_parser("import", help="import a new version of a company's business architecture (database)")
        i.add_argument("company", type=int, help="company id")
        i.add_argument("file", type=Path, help="BUSINESS.json or .xlsx: units by key, members by person id")
        i.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
        i.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="import as this user: only people in their scope may be moved or added (default: everyone)",
        )
        t = sub.add_parser("template", help="write an .xlsx template with the three sheets")
        t.add_argument("-o", "--output", type=Path, required=True)

    def run_from_argv(self, argv):
        """As a program (`xinye structure plan`, not `call_command`): once the command has written its files and
        its output, end the process without freeing what it made. At national scale the business and the plan
        are millions of small objects that take over a second to free, one by one, for nothing: the operating
        system takes the memory back at once. Files are closed by then (`write_plan` closes PLAN.json);
        the standard streams and the log handlers are flushed here. An error ends the command as usual."""
        super().run_from_argv(argv)
        if self._held is not None:
            self.stdout.flush()
            self.stderr.flush()
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            os._exit(0)

    def handle(self, *args, action, **o):
        try:
            getattr(self, f"do_{action}")(**o)
        except (XinyeError, RulesError) as exc:
            raise CommandError(str(exc)) from exc

    def _load(self, o):
        rules = get_rules(o["rules"], overrides=getattr(settings, "XINYE_RULES", {}).get(o["rules"]))
        business = structure_io.load_business(o["business"], members_path=o.get("members"))
        orgs = structure_io.load_orgs(o["orgs"]) if o.get("orgs") else []
        structure.validate_orgs(orgs, business, rules, file=str(o.get("orgs") or "organizations"))
        return rules, business, orgs

    def do_audit(self, **o):
        rules, business, orgs = self._load(o)
        findings = structure.audit(business, orgs, rules, today=timezone.localdate())
        if o["json"]:
            self.stdout.write(json.dumps([f.to_json() for f in findings], ensure_ascii=False, indent=1))
            return
        for f in findings:
            self.stdout.write(f"{f.severity.upper():7} {f.code:30} {f.subject} {f.subject_id}: {f.message}")
            self.stdout.write(f"{'':8}-> {f.suggestion}")
        counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
        self.stdout.write(
            f"{len(findings)} finding(s): {counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} info"
        )

    def do_plan(self, **o):
        # the cyclic garbage collector stays off from reading to writing: at national scale the files and the
        # plan are millions of small acyclic objects, which every collection in between would walk again
        as_program = getattr(self, "_called_from_command_line", False)
        if as_program:
            # and, as a program, to the end (see `run_from_argv`): turned back on, it would walk all of them
            # once more at the next allocation, for nothing
            gc.disable()
        with no_gc():
            rules, business, orgs = self._load(o)
            with progress_bar(o["verbosity"] > 0 and len(business.members) > 50_000) as bar:
                result = structure.plan(business, orgs, rules, today=timezone.localdate(), progress=bar)
            structure_io.write_plan(o["output"], result)
        if as_program:
            self._held = (business, orgs, result)  # freed by the operating system when the program ends
        s = result.stats
        self.stdout.write(
            f"{s['organizations']} organizations ({', '.join(f'{k} {v}' for k, v in s['by_kind'].items())}); "
            f"kept {s['kept']}, changed {s['changed']}, new {s['new']}, dissolved {len(s['dissolved'])}; "
            f"churn {s['churn']} member(s), newly placed {s['newly_placed']}, unplaced {s['unplaced']}; "
            f"findings {s['findings_before']} -> {s['findings_after']}"
        )
        self.stdout.write(f"written to {o['output']}")

    def do_diff(self, **o):
        old = structure_io.load_business(o["old"])
        new = structure_io.load_business(o["new"])
        d = structure.diff_business(old, new)
        self.stdout.write(json.dumps(d.to_json(), ensure_ascii=False, indent=1))

    def do_import(self, **o):
        from xinye.organizations import planning
        from xinye.organizations.models import Company

        company = Company.objects.filter(pk=o["company"]).first()
        if company is None:
            raise CommandError(f"no company with id {o['company']}")
        user = scope = None
        if o.get("as_user"):
            from django.contrib.auth import get_user_model

            from xinye.accounts.scope import scope_for

            user = get_user_model().objects.filter(username=o["as_user"]).first()
            scope = scope_for(user) if user is not None else None
            if user is None or not planning.may_plan(scope, company):
                raise CommandError(f"user {o['as_user']!r} may not import the business of company {company.pk}")
        result = planning.business_version_import(
            company=company, path=o["file"], dry_run=o["dry_run"], user=user, scope=scope
        )
        self.stdout.write(json.dumps(result.diff.to_json(), ensure_ascii=False, indent=1))
        self.stdout.write(
            "dry run: nothing written"
            if result.version is None
            else f"imported as version {result.version}; {result.people_moved} people moved or added"
        )

    def do_template(self, **o):
        structure_io.write_template(o["output"])
        self.stdout.write(f"template written to {o['output']}")
