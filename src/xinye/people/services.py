"""Writes to people: a worker's report to their community (with consent), its confirmation, union membership."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from xinye.algorithms.errors import InputError, RowError
from xinye.places.models import Division, Level

from .models import CommunityReport, ConsentRecord, Occupation, Person, ReportStatus

REPORT_PURPOSE = "report to the community"
REPORT_SCOPE = gettext_noop(
    "Stored: your name, phone, occupation, platforms and the community where you work (no location track). "
    "Seen by: the organizers of that community and of its district; your phone number is shown masked to others. "
    "You can withdraw at any time through the community."
)


@transaction.atomic
def community_report_submit(
    *,
    name: str,
    phone: str,
    occupation: str,
    community_code: str,
    platform_ids: list[int] | None = None,
    consent: bool,
    union_name: str = "",
    union_since: date | None = None,
    channel: str = "web",
) -> CommunityReport:
    """A worker reports to the community where they work. Without explicit consent nothing is stored."""
    errors = []
    name, phone = name.strip(), "".join(ch for ch in phone if ch.isdigit())
    if not consent:
        errors.append(RowError("form", None, "consent", None, "consent is required to report"))
    if not name or len(name) > 100:
        errors.append(RowError("form", None, "name", name[:20], "a name of 1 to 100 characters is required"))
    if not (len(phone) == 11 and phone.startswith("1")):
        errors.append(RowError("form", None, "phone", phone[-4:] and "…" + phone[-4:], "a mobile number has 11 digits"))
    if occupation not in Occupation.values:
        errors.append(RowError("form", None, "occupation", occupation, "choose an occupation"))
    community = Division.objects.filter(code=community_code, level=Level.COMMUNITY).first()
    if community is None:
        errors.append(RowError("form", None, "community", community_code, "choose the community where you work"))
    if union_since and union_since > timezone.localdate():
        errors.append(RowError("form", None, "union_since", union_since.isoformat(), "a date in the future"))
    if errors:
        raise InputError(errors, summary="the report was not saved")
    person = Person.objects.filter(phone=phone).first()
    if person is None:
        person = Person(name=name, phone=phone, occupation=occupation)
    person.name, person.occupation, person.work_community = name, occupation, community
    if union_name:
        person.union_name, person.union_since = union_name.strip()[:200], union_since
    person._change_reason = "reported to the community"
    person.save()
    if platform_ids:
        from xinye.organizations.models import Company

        person.platforms.add(*Company.objects.filter(pk__in=platform_ids, is_platform=True))
    record = ConsentRecord.objects.create(
        person=person, purpose=REPORT_PURPOSE, scope=REPORT_SCOPE, channel=channel, given_at=timezone.now()
    )
    return CommunityReport.objects.create(
        person=person, community=community, consent=record, tracking_code=secrets.token_hex(4).upper()
    )


@transaction.atomic
def community_report_decide(*, report: CommunityReport, user, confirm: bool, note: str = "") -> CommunityReport:
    report = CommunityReport.objects.select_for_update().get(pk=report.pk)
    if report.status != ReportStatus.PENDING:
        raise InputError(
            [RowError("report", report.pk, "status", report.status, "already decided")],
            summary="this report was already decided",
        )
    report.status = ReportStatus.CONFIRMED if confirm else ReportStatus.REJECTED
    report.decided_by, report.decided_at, report.note = user, timezone.now(), note[:300]
    report._change_reason = "confirmed" if confirm else "not confirmed"
    report.save()
    return report
