"""Roster import of workers and members (issue 12, "What must be true" 1).

A district organization department loads its own people from a spreadsheet (.xlsx or CSV; UTF-8 with or
without BOM, or GB18030/GBK), with Chinese headers or their English aliases (`ROSTER_COLUMNS`). Every row is
checked first; errors name the file, sheet, row, column and value, in the page's language; nothing is written
unless every row is good (all or nothing), and a dry run shows what would be added, changed, left alone.

People are matched by their normalized mobile number, and, where the file gives one, by a keyed hash of the
ID-card number (the number itself is never stored). Importing the same file twice changes nothing the
second time. The importer sees and changes only people in their scope: a phone on record outside it is a row
error that says no more than that.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from xinye.accounts.scope import Scope
from xinye.algorithms.errors import InputError, RowError
from xinye.algorithms.tabular import read_csv_rows, read_xlsx_rows
from xinye.common.bulk import insert_history, insert_rows
from xinye.common.progress import ProgressCallback, no_progress

from .models import ConsentRecord, Membership, Occupation, Person

#: (key, Chinese header, required): the worker and member roster's columns; the key is the English alias
ROSTER_COLUMNS = [
    ("name", "姓名", True),
    ("phone", "手机号", True),
    ("occupation", "职业", True),
    ("platforms", "平台", False),
    ("community", "工作社区", False),
    ("party_status", "政治面貌", False),
    ("organization", "所在党组织", False),
    ("joined_on", "入党日期", False),
    ("union", "工会", False),
    ("id_card", "身份证号", False),
]
OCCUPATION_NAMES = {
    "快递员": "courier",
    "快递小哥": "courier",
    "外卖骑手": "delivery_rider",
    "外卖送餐员": "delivery_rider",
    "骑手": "delivery_rider",
    "网约车司机": "ride_hailing_driver",
    "网约车驾驶员": "ride_hailing_driver",
    "货车司机": "truck_driver",
    "货车驾驶员": "truck_driver",
    "其他": "other",
}
PARTY_NAMES = {
    "formal": "formal",
    "正式党员": "formal",
    "中共党员": "formal",
    "党员": "formal",
    "probationary": "probationary",
    "预备党员": "probationary",
    "中共预备党员": "probationary",
    "none": "",
    "群众": "",
    "": "",
}
CONSENT_SCOPE = (
    "Stored: name, phone, occupation, platforms, work community, party status and union as in the "
    "department's roster (an ID-card number only as a keyed hash). Seen by: the community's organizer and "
    "the branch that keeps in touch; phone masked to others."
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_card_hash(number: str) -> str:
    """A keyed hash of a mainland ID-card number (XINYE_ID_HASH_KEY, default derived from the secret key)."""
    key = getattr(settings, "XINYE_ID_HASH_KEY", "") or f"id-card:{settings.SECRET_KEY}"
    return hmac.new(key.encode(), number.upper().encode(), hashlib.sha256).hexdigest()


def valid_id_card(number: str) -> bool:
    """GB 11643-1999: 17 digits and a check character (0-9 or X)."""
    n = number.upper()
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return False
    return ID_CHECK[sum(int(d) * w for d, w in zip(n[:17], ID_WEIGHTS, strict=True)) % 11] == n[17]


@dataclass
class RowPlan:
    row: int
    action: str  # add | change | same
    name: str
    changes: list[str] = field(default_factory=list)


@dataclass
class RosterResult:
    dry_run: bool
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    plans: list[RowPlan] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "plans": [p.__dict__ for p in self.plans[:500]],
        }


def _header_map(columns=ROSTER_COLUMNS) -> dict[str, str]:
    out = {}
    for key, zh, _required in columns:
        out[key] = key
        out[zh.lower()] = key
    return out


def read_roster(
    path: Path, *, filename: str | None = None, columns=ROSTER_COLUMNS
) -> tuple[str, list[tuple[int, dict]]]:
    """(sheet name or "", [(row, {key: text})]) of a roster file with these `columns` ((key, Chinese header,
    required)); InputError for an unreadable file or missing columns."""
    path = Path(path)
    fname = filename or path.name
    if path.suffix.lower() == ".xlsx":
        from xinye.algorithms.tabular import open_workbook

        wb = open_workbook(path)
        sheet = wb.sheetnames[0]
        rows = read_xlsx_rows(path, sheet, wb=wb)
    else:
        sheet = ""
        rows = read_csv_rows(path)
    names = _header_map(columns)
    if not rows:
        raise InputError([RowError(fname, 2, None, None, _("the file has no data rows"))])
    header = set(rows[0][1])
    unknown = sorted(h for h in header if h and h not in names)
    keys = {names[h] for h in header if h in names}
    missing = [zh for key, zh, required in columns if required and key not in keys]
    in_sheet = sheet or None
    errors = [RowError(fname, 1, m, None, _("a required column is missing"), in_sheet) for m in missing]
    errors += [RowError(fname, 1, u, None, _("an unknown column (see the template)"), in_sheet) for u in unknown]
    if errors:
        raise InputError(errors, summary=_("the file's columns do not match the roster template"))
    return sheet, [(i, {names[k]: v for k, v in rec.items() if k in names}) for i, rec in rows]


def _date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(text)


def roster_import(
    path: Path,
    *,
    scope: Scope,
    user=None,
    dry_run: bool = False,
    filename: str | None = None,
    progress: ProgressCallback = no_progress,
) -> RosterResult:
    """Check every row of a worker/member roster and, unless `dry_run`, write it in one transaction.
    Raises InputError with every row error (nothing written)."""
    from xinye.organizations.models import Company, Organization
    from xinye.organizations.selectors import organization_q
    from xinye.places.models import Division, Level

    from .rights import normalize_phone
    from .selectors import person_q

    if not (scope.is_admin or scope.division_prefixes):
        raise InputError(
            [RowError(filename or Path(path).name, None, None, None, _("only organizers and administrators import"))]
        )
    sheet, rows = read_roster(path, filename=filename)
    fname = filename or Path(path).name
    headers = {key: zh for key, zh, _r in ROSTER_COLUMNS}
    progress("reading", 1, 4)
    errors: list[RowError] = []

    def err(row: int, key: str, value, message: str) -> None:
        errors.append(RowError(fname, row, headers.get(key, key), value, message, sheet or None))

    # lookups, each one query
    phones: dict[int, str] = {}
    for i, rec in rows:
        try:
            phones[i] = normalize_phone(rec.get("phone", ""))
        except InputError:
            err(i, "phone", rec.get("phone", ""), _("a mobile number has 11 digits"))
    by_phone: dict[str, list[Person]] = {}
    wanted = sorted(set(phones.values()))
    for start in range(0, len(wanted), 5000):
        for p in Person.objects.filter(phone__in=wanted[start : start + 5000]):
            by_phone.setdefault(p.phone, []).append(p)
    in_scope: set[int] | None = None
    if not scope.is_admin:
        in_scope = set()
        for start in range(0, len(wanted), 5000):
            in_scope |= set(
                Person.objects.filter(person_q(scope), phone__in=wanted[start : start + 5000]).values_list(
                    "pk", flat=True
                )
            )
    codes = {rec.get("community", "") for _i, rec in rows if rec.get("community")}
    communities = {d.code: d for d in Division.objects.filter(code__in=codes, level=Level.COMMUNITY)}
    companies: dict[str, Company] = {}
    for c in Company.objects.all():
        companies[c.name] = c
        if c.short_name:
            companies.setdefault(c.short_name, c)
    orgs = list(
        Organization.objects.filter(organization_q(scope), dissolved_on__isnull=True).only("pk", "name", "kind")
    )
    org_by_name = {o.name: o for o in orgs}
    org_by_id = {str(o.pk): o for o in orgs}
    hashes = {}
    current: dict[int, Membership] = {}
    platforms_of: dict[int, set[int]] = {}
    known = sorted(p.pk for ps in by_phone.values() for p in ps)
    through = Person.platforms.through
    for start in range(0, len(known), 5000):
        chunk = known[start : start + 5000]
        for m in Membership.objects.filter(until__isnull=True, person_id__in=chunk):
            current[m.person_id] = m
        for person_id, company_id in through.objects.filter(person_id__in=chunk).values_list("person_id", "company_id"):
            platforms_of.setdefault(person_id, set()).add(company_id)
    occupation_codes = set(Occupation.values)
    labels = {str(label): code for code, label in Occupation.choices}
    seen_phone: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    progress("checking", 2, 4)

    @dataclass
    class Parsed:
        row: int
        name: str
        phone: str
        occupation: str
        platforms: list
        community: Division | None
        party: str
        organization: Organization | None
        joined_on: date | None
        union: str
        id_hash: str

    parsed: list[Parsed] = []
    for i, rec in rows:
        name = rec.get("name", "").strip()
        if not name or len(name) > 100:
            err(i, "name", name[:20], _("a name of 1 to 100 characters"))
        phone = phones.get(i, "")
        if phone:
            if phone in seen_phone:
                err(
                    i,
                    "phone",
                    "…" + phone[-4:],
                    _("the same phone as row %(row)s of this file") % {"row": seen_phone[phone]},
                )
            seen_phone.setdefault(phone, i)
        occ_text = rec.get("occupation", "").strip()
        occupation = (
            occ_text if occ_text in occupation_codes else OCCUPATION_NAMES.get(occ_text) or labels.get(occ_text)
        )
        if not occupation:
            err(
                i,
                "occupation",
                occ_text,
                _(
                    "not an occupation: courier, delivery_rider, ride_hailing_driver, truck_driver "
                    "or their Chinese names"
                ),
            )
        platforms = []
        for part in re.split(r"[;；,，、]", rec.get("platforms", "")):
            part = part.strip()
            if part:
                if part in companies:
                    platforms.append(companies[part])
                else:
                    err(i, "platforms", part, _("no company of this name on record (import companies first)"))
        code = rec.get("community", "").strip()
        community = None
        if code:
            community = communities.get(code)
            if community is None:
                err(i, "community", code, _("not the 12-digit code of a community on record"))
            elif not scope.is_admin and not any(code.startswith(p) for p in scope.division_prefixes):
                err(i, "community", code, _("a community outside your area"))
        party_text = rec.get("party_status", "").strip()
        party = PARTY_NAMES.get(party_text.lower(), PARTY_NAMES.get(party_text))
        if party is None:
            err(i, "party_status", party_text, _("formal, probationary or none (正式党员, 预备党员, 群众)"))
            party = ""
        org_text = rec.get("organization", "").strip()
        organization = None
        if org_text:
            organization = org_by_id.get(org_text) or org_by_name.get(org_text)
            if organization is None:
                err(i, "organization", org_text, _("no organization of this id or full name in your area"))
            elif not organization.is_branch:
                err(i, "organization", org_text, _("members belong to a branch, not to a committee"))
            if not party:
                err(i, "organization", org_text, _("only members have a Party organization"))
        joined_on = None
        try:
            joined_on = _date(rec.get("joined_on", ""))
        except ValueError:
            err(i, "joined_on", rec.get("joined_on", ""), _("a date like 2024-07-01"))
        if joined_on and joined_on > timezone.localdate():
            err(i, "joined_on", rec.get("joined_on", ""), _("a date in the future"))
        id_text = rec.get("id_card", "").strip()
        id_hash = ""
        if id_text:
            if not valid_id_card(id_text):
                err(i, "id_card", "…" + id_text[-4:], _("not a valid 18-character ID-card number"))
            else:
                id_hash = hashes.setdefault(id_text, id_card_hash(id_text))
                if id_hash in seen_id:
                    err(
                        i,
                        "id_card",
                        "…" + id_text[-4:],
                        _("the same ID-card number as row %(row)s of this file") % {"row": seen_id[id_hash]},
                    )
                seen_id.setdefault(id_hash, i)
        parsed.append(Parsed(i, name, phone, occupation or "", platforms, community, party, organization, joined_on,
                             rec.get("union", "").strip()[:200], id_hash))  # fmt: skip

    # against the database: who is this row?
    on_record: dict[str, int] = {}
    ids = sorted(seen_id)
    for start in range(0, len(ids), 5000):
        on_record.update(Person.objects.filter(id_hash__in=ids[start : start + 5000]).values_list("id_hash", "pk"))
    result = RosterResult(dry_run=dry_run, rows=len(rows))
    adds: list[tuple[Parsed, Person]] = []
    changes: list[tuple[Parsed, Person, list[str]]] = []
    for p in parsed:
        matches = by_phone.get(p.phone, [])
        if len(matches) > 1:
            err(
                p.row,
                "phone",
                "…" + p.phone[-4:],
                _("%(n)s people on record have this phone: settle it first") % {"n": len(matches)},
            )
            continue
        person = matches[0] if matches else None
        if p.id_hash and p.id_hash in on_record and (person is None or on_record[p.id_hash] != person.pk):
            err(p.row, "id_card", "", _("this ID-card number is on record with another phone"))
            continue
        if person is not None and in_scope is not None and person.pk not in in_scope:
            err(p.row, "phone", "…" + p.phone[-4:], _("a person on record outside your area has this phone"))
            continue
        if person is None:
            result.added += 1
            result.plans.append(RowPlan(p.row, "add", p.name))
            adds.append((p, Person(name=p.name, phone=p.phone)))
            continue
        diff = []
        if person.name != p.name:
            diff.append("name")
        if person.occupation != p.occupation:
            diff.append("occupation")
        if p.community is not None and person.work_community_id != p.community.pk:
            diff.append("community")
        if p.union != person.union_name:
            diff.append("union")
        if p.id_hash and person.id_hash != p.id_hash:
            diff.append("id_card")
        if p.platforms and {c.pk for c in p.platforms} != platforms_of.get(person.pk, set()):
            diff.append("platforms")
        ms = current.get(person.pk)
        if p.party:
            if (
                ms is None
                or ms.status != p.party
                or (p.organization and ms.organization_id != p.organization.pk)
                or (p.joined_on and ms.joined_on != p.joined_on)
            ):
                diff.append("membership")
        elif ms is not None:
            err(p.row, "party_status", "", _("a member on record: ending a membership is a transfer, not an import"))
            continue
        if diff:
            result.changed += 1
            result.plans.append(RowPlan(p.row, "change", p.name, diff))
            changes.append((p, person, diff))
        else:
            result.unchanged += 1
    if errors:
        raise InputError(
            errors, summary=_("%(n)s error(s) in %(file)s; nothing was written") % {"n": len(errors), "file": fname}
        )
    if dry_run:
        progress("done", 4, 4)
        return result
    progress("writing", 3, 4)
    _write(adds, changes, current, user=user, reason=f"roster import {fname}" + (f", sheet {sheet}" if sheet else ""))
    progress("done", 4, 4)
    return result


def _write(adds, changes, current, *, user, reason: str) -> None:
    from xinye.organizations.models import Company  # noqa: F401  (through table below)

    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        new_people = []
        for p, person in adds:
            person.occupation = p.occupation
            person.work_community = p.community
            person.union_name = p.union
            person.union_since = today if p.union else None
            person.id_hash = p.id_hash
            new_people.append(person)
        Person.objects.bulk_create(new_people, batch_size=2000)
        insert_history(new_people, user=user, reason=reason)
        # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+
        through = Person.platforms.through
        # the new people's platforms and consents are plain rows: written without the ORM's per-value work
        insert_rows(
            through, ["person_id", "company_id"], ((person.pk, c.pk) for p, person in adds for c in p.platforms)
        )
        purpose = "registration by the organization department"
        insert_rows(
            ConsentRecord,
            ["person_id", "purpose", "scope", "policy_version", "channel", "given_at", "created_at", "updated_at"],
            ((person.pk, purpose, CONSENT_SCOPE, "1", "roster import", now, now, now) for _p, person in adds),
        )
        links = []
        memberships = [
            Membership(person=person, status=p.party, organization=p.organization, joined_on=p.joined_on, since=today)
            for p, person in adds
            if p.party
        ]
        changed_people = []
        for p, person, diff in changes:
            person.name = p.name
            person.occupation = p.occupation
            if p.community is not None:
                person.work_community = p.community
            if "union" in diff:
                person.union_name = p.union
                person.union_since = today if p.union else None
            if p.id_hash:
                person.id_hash = p.id_hash
            changed_people.append(person)
            if "platforms" in diff:
                through.objects.filter(person_id=person.pk).delete()
                links += [through(person_id=person.pk, company_id=c.pk) for c in p.platforms]
            if "membership" in diff:
                ms = current.get(person.pk)
                if ms is None:
                    memberships.append(Membership(person=person, status=p.party, organization=p.organization,
                                                  joined_on=p.joined_on, since=today))  # fmt: skip
                else:
                    ms.status = p.party
                    if p.organization is not None:
                        ms.organization = p.organization
                    if p.joined_on:
                        ms.joined_on = p.joined_on
                    ms._change_reason = reason
                    ms.save()
        if changed_people:
            bulk_update_with_history(
                changed_people,
                Person,
                ["name", "occupation", "work_community", "union_name", "union_since", "id_hash"],
                batch_size=2000,
                default_user=user,
                default_change_reason=reason,
            )
        through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)
        bulk_create_with_history(memberships, Membership, batch_size=2000, default_user=user,
                                 default_change_reason=reason)  # fmt: skip


def template_rows() -> list[list[str]]:
    """The template's header (Chinese) and one example row."""
    return [
        [zh for _k, zh, _r in ROSTER_COLUMNS],
        ["张伟", "13800138000", "外卖骑手", "快马外卖;美食送", "440305001001", "预备党员", "", "2025-07-01", "", ""],
    ]


def template_xlsx() -> bytes:
    """The roster template as .xlsx: Chinese headers (English aliases in their comments), an example row, and
    drop-down lists for occupation and party status."""
    import io

    from openpyxl.comments import Comment
    from openpyxl.worksheet.datavalidation import DataValidation

    from xinye.algorithms.tabular import new_workbook

    wb = new_workbook()
    ws = wb.active
    ws.title = "人员名单"
    header, example = template_rows()
    ws.append(header)
    ws.append(example)
    for col, (key, _zh, required) in enumerate(ROSTER_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col)
        cell.comment = Comment(f"{key}{' (required)' if required else ''}", "Xinye")
        ws.column_dimensions[cell.column_letter].width = 16
    for column, choices in (("C", "快递员,外卖骑手,网约车司机,货车司机,其他"), ("F", "正式党员,预备党员,群众")):
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"{column}2:{column}100001")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def counts(result: RosterResult) -> Counter:
    return Counter({"added": result.added, "changed": result.changed, "unchanged": result.unchanged})


# ---------------------------------------------------------------- the uploaded file, kept briefly
#
# A roster holds what the database never stores (ID-card numbers) and more than a page shows (full phones).
# Between a dry run and the import it waits on disk, readable by its owner only, and at most UPLOAD_KEEP:
# a check never followed by an import left it there for good (outsider review 2026-12-04).

#: how long an uploaded roster waits for its import after the check
UPLOAD_KEEP = timedelta(hours=2)
#: an import is started only from a file this much younger than UPLOAD_KEEP (the sweep must not take it midway)
UPLOAD_CONFIRM_MARGIN = timedelta(minutes=20)


def uploads_folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def upload_save(chunks, suffix: str) -> Path:
    """Write an uploaded roster under a random name, readable by this process's user only."""
    import os
    import uuid

    folder = uploads_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return path


def upload_fresh(path, now: datetime | None = None) -> bool:
    """The file of a checked roster is still there and young enough to import."""
    p = Path(path)
    if p.parent != uploads_folder() or not p.exists():
        return False
    now = now or timezone.now()
    age = now.timestamp() - p.stat().st_mtime
    return age < (UPLOAD_KEEP - UPLOAD_CONFIRM_MARGIN).total_seconds()


def uploads_sweep(now: datetime | None = None) -> int:
    """Delete uploaded rosters older than UPLOAD_KEEP (run by the worker's schedule and at every upload);
    returns how many."""
    folder = uploads_folder()
    if not folder.is_dir():
        return 0
    limit = (now or timezone.now()).timestamp() - UPLOAD_KEEP.total_seconds()
    gone = 0
    for p in folder.iterdir():
        try:
            if p.is_file() and p.stat().st_mtime < limit:
                p.unlink(missing_ok=True)
                gone += 1
        except FileNotFoundError:
            continue
    return gone
