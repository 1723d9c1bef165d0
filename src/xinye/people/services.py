"""Writes to people: a worker's report to their community (with consent), its confirmation, union membership."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from xinye.algorithms.errors import InputError, RowError
from xinye.places.models import Division, Level

from .models import (
    CommunityReport,
    ConsentRecord,
    Membership,
    MembershipTransfer,
    Occupation,
    Person,
    ReportStatus,
    TransferStatus,
)

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
    reported = {
        "name": name,
        "occupation": occupation,
        "platform_ids": sorted(set(platform_ids or [])),
        "union_name": union_name.strip()[:200],
        "union_since": union_since.isoformat() if union_since else None,
    }
    # Anyone may report without logging in, so a report never changes an existing person's record: what
    # it says is kept with the report and applied when the community's organizer confirms it.
    person = Person.objects.filter(phone=phone).first()
    if person is None:
        person = Person(name=name, phone=phone, occupation=occupation, work_community=community)
        person._change_reason = "reported to the community"
        person.save()
    record = ConsentRecord.objects.create(
        person=person, purpose=REPORT_PURPOSE, scope=REPORT_SCOPE, channel=channel, given_at=timezone.now()
    )
    return CommunityReport.objects.create(
        person=person,
        community=community,
        consent=record,
        reported=reported,
        tracking_code=secrets.token_hex(4).upper(),
    )


def _apply_report(report: CommunityReport) -> None:
    """Confirmed: the person works in the reported community, with the reported occupation, platforms, union."""
    from xinye.organizations.models import Company

    r = report.reported or {}
    person = report.person
    person.work_community = report.community
    person.name = r.get("name") or person.name
    person.occupation = r.get("occupation") or person.occupation
    if r.get("union_name"):
        person.union_name = r["union_name"]
        person.union_since = date.fromisoformat(r["union_since"]) if r.get("union_since") else None
    person._change_reason = f"report {report.tracking_code} confirmed"
    person.save()
    if r.get("platform_ids"):
        person.platforms.add(*Company.objects.filter(pk__in=r["platform_ids"], is_platform=True))


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
    if confirm:
        _apply_report(report)
    return report


@transaction.atomic
def floating_member_register(
    *,
    person: Person,
    organization,
    status: str,
    home_organization: str,
    home_place: str,
    since: date,
    certificate_until: date | None = None,
    activity_organizations=(),
    joined_on: date | None = None,
    certificate_from: date | None = None,
) -> Membership:
    """Register a member whose membership is held elsewhere: one organization here, activities in several."""
    errors = []
    if not home_organization.strip():
        errors.append(RowError("form", None, "home_organization", "", "the home organization is required"))
    if since > timezone.localdate():
        errors.append(RowError("form", None, "since", since.isoformat(), "a date in the future"))
    if certificate_from and certificate_until and certificate_until < certificate_from:
        errors.append(
            RowError(
                "form",
                None,
                "certificate_until",
                certificate_until.isoformat(),
                "the certificate ends before it starts",
            )
        )
    if certificate_until and certificate_until < since:
        errors.append(
            RowError(
                "form",
                None,
                "certificate_until",
                certificate_until.isoformat(),
                "the certificate ends before the member arrived",
            )
        )
    if Membership.objects.filter(person=person, until__isnull=True).exists():
        errors.append(RowError("form", None, "person", person.pk, "this person already has a current membership"))
    if errors:
        raise InputError(errors, summary="the floating member was not registered")
    m = Membership.objects.create(
        person=person,
        organization=organization,
        status=status,
        joined_on=joined_on,
        floating=True,
        home_organization=home_organization.strip()[:200],
        home_place=home_place.strip()[:200],
        since=since,
        certificate_from=certificate_from,
        certificate_until=certificate_until,
        last_contact_on=timezone.localdate(),
    )
    if activity_organizations:
        m.activity_organizations.set(activity_organizations)
    return m


@transaction.atomic
def membership_transfer_request(*, membership: Membership, to_organization, reason: str, user) -> MembershipTransfer:
    if to_organization.kind not in ("branch", "joint_branch"):
        raise InputError(
            [RowError("form", None, "to_organization", to_organization.pk, "a membership is held in a branch")],
            summary="the transfer was not requested",
        )
    if membership.organization_id == to_organization.pk and not membership.floating:
        raise InputError(
            [RowError("form", None, "to_organization", to_organization.pk, "the member already belongs there")],
            summary="the transfer was not requested",
        )
    if membership.transfers.filter(status=TransferStatus.REQUESTED).exists():
        raise InputError(
            [RowError("form", None, "membership", membership.pk, "a transfer is already waiting")],
            summary="the transfer was not requested",
        )
    return MembershipTransfer.objects.create(
        membership=membership,
        from_organization=membership.organization,
        from_text=membership.home_organization if membership.floating else "",
        to_organization=to_organization,
        reason=reason.strip()[:300] or "transfer",
        requested_by=user,
    )


@transaction.atomic
def membership_transfer_decide(*, transfer: MembershipTransfer, user, approve: bool) -> MembershipTransfer:
    """Approve (the membership moves, recorded in its history; a floating member's membership now lives here)
    or reject a requested transfer."""
    transfer = MembershipTransfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != TransferStatus.REQUESTED:
        raise InputError(
            [RowError("transfer", transfer.pk, "status", transfer.status, "already decided")],
            summary="this transfer was already decided",
        )
    transfer.status = TransferStatus.APPROVED if approve else TransferStatus.REJECTED
    transfer.decided_by, transfer.decided_at = user, timezone.now()
    transfer.save()
    if approve:
        m = transfer.membership
        m.organization = transfer.to_organization
        m.floating = False
        m.home_organization = m.home_place = ""
        m.since = timezone.localdate()
        m._change_reason = f"transfer #{transfer.pk} approved by {user}"
        m.save()
    return transfer
