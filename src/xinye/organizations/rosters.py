"""Roster imports of companies, organizations and posts (issue 12, item 1), beside the people roster
(`people/roster.py`, whose file reading, result and job they share).

Each file is .xlsx or CSV (UTF-8 with or without BOM, GB18030/GBK), with Chinese headers or their English
aliases (`COLUMNS[kind]`). Every row is checked; errors name the file, sheet, row, column and value in the
page's language; nothing is written unless every row is good. The rows are applied inside one transaction
that a dry run rolls back, so a dry run checks exactly what an import would do. Importing the same file twice
changes nothing the second time. An importer sees and changes only what is in their scope.

- companies: matched by the unified social credit code, else by name. Their business units (versioned, with
  history) come in through the business architecture import (`xinye structure import COMPANY FILE`).
- organizations: matched by name among the organizations in scope; a parent may be on record or another row
  of the file (any order); the term's end follows from the rule set.
- posts: the organization (id or full name) and the person (mobile number) must be on record; the checks are
  those of appointing on the page (`organizations/posts.py`: formal members, committee sizes, one secretary).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinye.accounts.scope import Scope
from xinye.algorithms.errors import InputError, RowError
from xinye.common.progress import ProgressCallback, no_progress
from xinye.people.roster import RosterResult, RowPlan, _date, read_roster

from .models import AnchorKind, BusinessUnit, Company, CompanyKind, Organization, OrgKind, PostRole

COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "companies": [
        ("name", "企业名称", True),
        ("short_name", "简称", False),
        ("kind", "类型", True),
        ("platform", "是否平台", False),
        ("credit_code", "统一社会信用代码", False),
        ("division", "注册地", False),
    ],
    "organizations": [
        ("name", "组织名称", True),
        ("kind", "组织类别", True),
        ("parent", "上级组织", False),
        ("company", "所属企业", False),
        ("units", "业务单元", False),
        ("community", "所在社区", False),
        ("division", "所在地", False),
        ("founded_on", "成立日期", False),
        ("term_started_on", "本届任期开始", False),
    ],
    "posts": [
        ("organization", "组织", True),
        ("name", "姓名", False),
        ("phone", "手机号", True),
        ("role", "职务", True),
        ("start", "任职日期", True),
    ],
}
EXAMPLES = {
    "companies": ["快马外卖科技有限公司", "快马外卖", "外卖平台", "是", "91440300MA5ABCDE1H", "4403"],
    "organizations": [
        "快马外卖深圳站点党支部",
        "党支部",
        "快马外卖深圳党委",
        "快马外卖",
        "SZ-001",
        "",
        "440305",
        "2024-07-01",
        "2024-07-01",
    ],  # noqa: E501
    "posts": ["快马外卖深圳站点党支部", "张伟", "13800138000", "书记", "2024-07-01"],
}
COMPANY_KIND_NAMES = {
    "外卖平台": "food_delivery",
    "快递企业": "express",
    "快递公司": "express",
    "网约车平台": "ride_hailing",
    "汽车租赁公司": "car_rental",
    "租车公司": "car_rental",
    "车队": "car_rental",
    "货运平台": "freight",
    "其他": "other",
}
ORG_KIND_NAMES = {
    "党委": "committee",
    "基层党委": "committee",
    "二级党委": "secondary_committee",
    "党总支": "general_branch",
    "党总支部": "general_branch",
    "党支部": "branch",
    "联合党支部": "joint_branch",
    "党工委": "working_committee",
    "行业党委": "industry_committee",
    "组织部": "department",
}
ROLE_NAMES = {"书记": "secretary", "副书记": "deputy", "委员": "committee_member", "支委": "committee_member"}
YES = {"是", "yes", "y", "true", "1", ""}
NO = {"否", "no", "n", "false", "0"}
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def valid_credit_code(code: str) -> bool:
    """GB 32100-2015: 18 characters of the code's alphabet, the last a check character."""
    if len(code) != 18 or any(c not in CREDIT_CHARS for c in code):
        return False
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


class _Rollback(Exception):
    pass


class _Run:
    """Shared by the three importers: the file, its rows, the errors and the result."""

    def __init__(self, kind: str, path: Path, filename: str | None, dry_run: bool):
        self.kind = kind
        self.sheet, self.rows = read_roster(path, filename=filename, columns=COLUMNS[kind])
        self.fname = filename or Path(path).name
        self.headers = {key: zh for key, zh, _r in COLUMNS[kind]}
        self.errors: list[RowError] = []
        self.result = RosterResult(dry_run=dry_run, rows=len(self.rows))

    def err(self, row: int, key: str, value, message: str) -> None:
        self.errors.append(RowError(self.fname, row, self.headers.get(key, key), value, message, self.sheet or None))

    def plan(self, row: int, action: str, name: str, changes=()) -> None:
        if action == "add":
            self.result.added += 1
        elif action == "change":
            self.result.changed += 1
        else:
            self.result.unchanged += 1
            return
        self.result.plans.append(RowPlan(row, action, name, list(changes)))

    def date(self, row: int, rec: dict, key: str) -> date | None:
        try:
            d = _date(rec.get(key, ""))
        except ValueError:
            self.err(row, key, rec.get(key, ""), _("a date like 2024-07-01"))
            return None
        if d and d > timezone.localdate():
            self.err(row, key, rec.get(key, ""), _("a date in the future"))
        return d

    def finish(self):
        if self.errors:
            raise InputError(
                self.errors,
                summary=_("%(n)s error(s) in %(file)s; nothing was written")
                % {"n": len(self.errors), "file": self.fname},
            )
        if self.result.dry_run:
            raise _Rollback


def _in(scope: Scope, code: str | None) -> bool:
    return scope.is_admin or bool(code and any(code.startswith(p) for p in scope.division_prefixes))


def _importer(fn):
    """Scope check, one transaction, rolled back on an error or for a dry run."""

    def run(
        path: Path,
        *,
        scope: Scope,
        user=None,
        dry_run: bool = False,
        filename: str | None = None,
        progress: ProgressCallback = no_progress,
    ) -> RosterResult:
        if not (scope.is_admin or scope.division_prefixes):
            raise InputError(
                [
                    RowError(
                        filename or Path(path).name, None, None, None, _("only organizers and administrators import")
                    )
                ]
            )
        r = _Run(fn.__name__.removesuffix("_import"), Path(path), filename, dry_run)
        progress("checking", 1, 3)
        try:
            with transaction.atomic():
                fn(r, scope=scope, user=user)
                progress("writing", 2, 3)
                r.finish()
        except _Rollback:
            pass
        progress("done", 3, 3)
        return r.result

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _divisions(codes):
    from xinye.places.models import Division

    return {d.code: d for d in Division.objects.filter(code__in=[c for c in codes if c])}


@_importer
def companies_import(r: _Run, *, scope: Scope, user) -> None:
    """Companies: add or change by credit code, else by name."""
    from .selectors import company_q

    divisions = _divisions({rec.get("division", "").strip() for _i, rec in r.rows})
    by_code = {c.credit_code: c for c in Company.objects.exclude(credit_code="")}
    by_name = {c.name: c for c in Company.objects.all()}
    visible = set(Company.objects.filter(company_q(scope)).values_list("pk", flat=True)) if not scope.is_admin else None
    labels = {str(label): code for code, label in CompanyKind.choices}
    seen: dict[str, int] = {}
    for i, rec in r.rows:
        before = len(r.errors)
        name = rec.get("name", "").strip()
        if not name or len(name) > 200:
            r.err(i, "name", name[:20], _("a name of 1 to 200 characters"))
            continue
        for key in (name, rec.get("credit_code", "").strip().upper()):
            if key and key in seen:
                r.err(i, "name", key, _("the same company as row %(row)s of this file") % {"row": seen[key]})
            if key:
                seen.setdefault(key, i)
        text = rec.get("kind", "").strip()
        kind = text if text in CompanyKind.values else COMPANY_KIND_NAMES.get(text) or labels.get(text)
        if not kind:
            r.err(i, "kind", text, _("not a kind of company (see the template's list)"))
        flag = rec.get("platform", "").strip().lower()
        if flag not in YES | NO:
            r.err(i, "platform", flag, _("是 or 否 (yes or no)"))
        code = rec.get("credit_code", "").strip().upper()
        if code and not valid_credit_code(code):
            r.err(i, "credit_code", code, _("not a valid 18-character unified social credit code"))
        dcode = rec.get("division", "").strip()
        division = divisions.get(dcode) if dcode else None
        if dcode and division is None:
            r.err(i, "division", dcode, _("no division with this code"))
        elif dcode and not _in(scope, dcode):
            r.err(i, "division", dcode, _("a division outside your area"))
        if len(r.errors) > before:
            continue
        company = by_code.get(code) if code else None
        company = company or by_name.get(name)
        if company is not None and visible is not None and company.pk not in visible:
            r.err(i, "name", name, _("a company on record outside your area"))
            continue
        values = {
            "name": name,
            "short_name": rec.get("short_name", "").strip()[:60],
            "kind": kind,
            "is_platform": flag not in NO,
            "credit_code": code,
            "division": division if dcode else (company.division if company else None),
        }
        if company is None:
            c = Company(**values)
            c._change_reason = f"import {r.fname}"
            c.save()
            by_name[name] = c
            r.plan(i, "add", name)
            continue
        diff = [k for k, v in values.items() if getattr(company, k) != v]
        if diff:
            for k in diff:
                setattr(company, k, values[k])
            company._change_reason = f"import {r.fname}"
            company.save()
        r.plan(i, "change" if diff else "same", name, diff)


@_importer
def organizations_import(r: _Run, *, scope: Scope, user) -> None:
    """Organizations: add or change by name (in scope); parents on record or in the file, in any order."""
    from .planning import add_years
    from .posts import term_years_for
    from .selectors import organization_q

    mine = {o.name: o for o in Organization.objects.filter(organization_q(scope), dissolved_on__isnull=True)}
    mine_by_id = {str(o.pk): o for o in mine.values()}
    elsewhere = set(Organization.objects.exclude(pk__in=[o.pk for o in mine.values()]).values_list("name", flat=True))
    companies = {}
    for c in Company.objects.all():
        companies[c.name] = c
        if c.short_name:
            companies.setdefault(c.short_name, c)
    codes = {rec.get(k, "").strip() for _i, rec in r.rows for k in ("community", "division")}
    divisions = _divisions(codes)
    labels = {str(label): code for code, label in OrgKind.choices}
    rows_by_name: dict[str, int] = {}
    parsed = []
    for i, rec in r.rows:
        name = rec.get("name", "").strip()
        if not name or len(name) > 200:
            r.err(i, "name", name[:20], _("a name of 1 to 200 characters"))
            continue
        if name in rows_by_name:
            r.err(i, "name", name, _("the same organization as row %(row)s of this file") % {"row": rows_by_name[name]})
            continue
        rows_by_name[name] = i
        if name in elsewhere:
            r.err(i, "name", name, _("an organization on record outside your area has this name"))
            continue
        text = rec.get("kind", "").strip()
        kind = text if text in OrgKind.values else ORG_KIND_NAMES.get(text) or labels.get(text)
        if not kind:
            r.err(i, "kind", text, _("not a kind of organization (党委, 党总支, 党支部, 联合党支部 ...)"))
        cname = rec.get("company", "").strip()
        company = companies.get(cname) if cname else None
        if cname and company is None:
            r.err(i, "company", cname, _("no company of this name on record (import companies first)"))
        units = []
        for key in [k.strip() for k in re.split(r"[;；,，、]", rec.get("units", "")) if k.strip()]:
            unit = BusinessUnit.objects.filter(company=company, key=key).first() if company else None
            if unit is None:
                r.err(i, "units", key, _("no business unit with this key in the company"))
            else:
                units.append(unit)
        anchors = {}
        for key in ("community", "division"):
            code = rec.get(key, "").strip()
            if code:
                d = divisions.get(code)
                if d is None or (key == "community" and len(code) != 12):
                    r.err(i, key, code, _("not the code of a division on record (a community: 12 digits)"))
                elif not _in(scope, code):
                    r.err(i, key, code, _("a division outside your area"))
                anchors[key] = d
        founded = r.date(i, rec, "founded_on")
        term = r.date(i, rec, "term_started_on")
        parsed.append((i, name, kind, rec.get("parent", "").strip(), company, units, anchors, founded, term))
    if r.errors:
        return
    done: dict[str, Organization] = {}
    pending = list(parsed)
    while pending:  # parents first: a row waits for a parent that is another row of the file
        waiting = []
        for item in pending:
            i, name, kind, parent_text, company, units, anchors, founded, term = item
            parent = None
            if parent_text:
                parent = done.get(parent_text) or mine_by_id.get(parent_text)
                if parent is None and parent_text in rows_by_name:
                    waiting.append(item)
                    continue
                parent = parent or mine.get(parent_text)
                if parent is None:
                    r.err(i, "parent", parent_text, _("no organization of this id or full name in your area"))
                    continue
            division = anchors.get("division") or (anchors["community"].parent if anchors.get("community") else None)
            division = division or (anchors.get("community"))
            anchor = (
                AnchorKind.BUSINESS_UNITS
                if units
                else AnchorKind.COMMUNITY
                if anchors.get("community")
                else AnchorKind.COMPANY
                if company
                else AnchorKind.DIVISION
            )
            org = mine.get(name)
            values = {
                "kind": kind,
                "parent": parent,
                "company": company,
                "community": anchors.get("community"),
                "division": division,
                "anchor_kind": anchor,
                "founded_on": founded,
            }
            new = org is None
            org = org or Organization(name=name)
            diff = [k for k, v in values.items() if getattr(org, k) != v and not (v is None and not new)]
            for k in diff:
                setattr(org, k, values[k])
            if term and org.term_started_on != term:
                org.term_started_on = term
                org.term_years = term_years_for(org)
                org.term_ends_on = add_years(term, org.term_years)
                diff.append("term")
            if new or diff:
                org._change_reason = f"import {r.fname}"
                org.save()
            if units and set(org.business_units.values_list("pk", flat=True)) != {u.pk for u in units}:
                org.business_units.set(units)
                diff.append("units")
            done[name] = mine[name] = org
            r.plan(i, "add" if new else "change" if diff else "same", name, [] if new else diff)
        if len(waiting) == len(pending):
            for i, _name, _k, parent_text, *_rest in waiting:
                r.err(i, "parent", parent_text, _("the parents of these rows form a circle"))
            break
        pending = waiting


@_importer
def posts_import(r: _Run, *, scope: Scope, user) -> None:
    """Posts: appoint as on the page; a post already held the same way is left alone."""
    from xinye.people.models import Person
    from xinye.people.rights import normalize_phone
    from xinye.people.selectors import person_q

    from . import posts as svc
    from .selectors import organization_q

    orgs = list(Organization.objects.filter(organization_q(scope), dissolved_on__isnull=True))
    by_name = {o.name: o for o in orgs}
    by_id = {str(o.pk): o for o in orgs}
    labels = {str(label): code for code, label in PostRole.choices}
    for i, rec in r.rows:
        text = rec.get("organization", "").strip()
        org = by_id.get(text) or by_name.get(text)
        if org is None:
            r.err(i, "organization", text, _("no organization of this id or full name in your area"))
            continue
        try:
            phone = normalize_phone(rec.get("phone", ""))
        except InputError:
            r.err(i, "phone", rec.get("phone", ""), _("a mobile number has 11 digits"))
            continue
        person = Person.objects.filter(person_q(scope), phone=phone).first()
        if person is None:
            r.err(i, "phone", "…" + phone[-4:], _("nobody in your area has this phone (import the roster first)"))
            continue
        name = rec.get("name", "").strip()
        if name and name != person.name:
            r.err(i, "name", name, _("the person with this phone is on record under another name"))
            continue
        role_text = rec.get("role", "").strip()
        role = role_text if role_text in PostRole.values else ROLE_NAMES.get(role_text) or labels.get(role_text)
        if not role:
            r.err(i, "role", role_text, _("书记, 副书记 or 委员 (secretary, deputy, committee_member)"))
            continue
        start = r.date(i, rec, "start")
        if start is None:
            if not rec.get("start", "").strip():
                r.err(i, "start", "", _("give the date the post began"))
            continue
        held = svc.current_posts(org).filter(person=person).first()
        if held is not None and held.role == role:
            r.plan(i, "same", f"{org.name}: {person.name}")
            continue
        try:
            if held is not None:
                svc.end_post(scope, user, held, end=max(start, held.start_date), reason=f"import {r.fname}")
            svc.appoint(scope, user, org, person=person, role=role, start=start, reason=f"import {r.fname}")
        except svc.PostError as exc:
            r.err(i, "role", role_text, str(exc))
            continue
        r.plan(i, "change" if held else "add", f"{org.name}: {person.name}", ["role"] if held else [])


IMPORTERS = {"companies": companies_import, "organizations": organizations_import, "posts": posts_import}


def template_rows(kind: str) -> list[list[str]]:
    return [[zh for _k, zh, _r in COLUMNS[kind]], EXAMPLES[kind]]


def template_xlsx(kind: str) -> bytes:
    """The template as .xlsx: Chinese headers (English aliases in comments), an example row, drop-down lists."""
    import io

    from openpyxl.comments import Comment
    from openpyxl.worksheet.datavalidation import DataValidation

    from xinye.algorithms.tabular import new_workbook

    wb = new_workbook()
    ws = wb.active
    ws.title = {"companies": "企业", "organizations": "党组织", "posts": "职务"}[kind]
    header, example = template_rows(kind)
    ws.append(header)
    ws.append(example)
    for col, (key, _zh, required) in enumerate(COLUMNS[kind], start=1):
        cell = ws.cell(row=1, column=col)
        cell.comment = Comment(f"{key}{' (required)' if required else ''}", "Xinye")
        ws.column_dimensions[cell.column_letter].width = 18
    lists = {
        "companies": [("C", ",".join(dict.fromkeys(COMPANY_KIND_NAMES))), ("D", "是,否")],
        "organizations": [("B", ",".join(ORG_KIND_NAMES))],
        "posts": [("D", "书记,副书记,委员")],
    }[kind]
    for column, choices in lists:
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"{column}2:{column}100001")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
