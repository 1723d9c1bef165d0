"""Writes to people: a worker's report to their community (with consent), its confirmation, union membership."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
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
#: version of REPORT_SCOPE: raise it when the text changes, so each consent says which text was agreed to
REPORT_POLICY_VERSION = "1"
REPORT_SCOPE = gettext_noop(
    "Stored: your name, phone, occupation, platforms and the community where you work (no location track). "
    "Seen by: the organizers of that community and of its district; your phone number is shown masked to others. "
    "You can withdraw at any time through the community."
)

#: the Party-membership question of the report has its own consent (party status is sensitive)
PARTY_PURPOSE = "party membership reported to the community"
PARTY_SCOPE = gettext_noop(
    "Stored: that you are a Party member (formal or probationary) and your home organization. Seen by: the "
    "organizers of the community where you work, the branch that registers you here, and your home "
    "organization, which is told."
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
    union_apply: bool = False,
    party_status: str = "",
    home_organization: str = "",
    party_consent: bool = False,
    channel: str = "web",
) -> CommunityReport:
    """A worker reports to the community where they work. Without explicit consent nothing is stored."""
    errors = []
    name, phone = name.strip(), "".join(ch for ch in phone if ch in "0123456789")
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
    home_organization = home_organization.strip()[:200]
    if party_status not in ("", "formal", "probationary"):
        errors.append(RowError("form", None, "party_status", party_status[:20], "formal, probationary or nothing"))
    elif party_status and not party_consent:
        errors.append(RowError("form", None, "party_consent", None, "agree to what is stored, or leave it empty"))
    elif party_status and not home_organization:
        errors.append(RowError("form", None, "home_organization", "", "name your home organization"))
    if errors:
        raise InputError(errors, summary="the report was not saved")
    reported = {
        "name": name,
        "occupation": occupation,
        "platform_ids": sorted(set(platform_ids or [])),
        "union_name": union_name.strip()[:200],
        "union_since": union_since.isoformat() if union_since else None,
        # not yet in a union and asks to join: an application once the report is confirmed
        "union_apply": bool(union_apply and not union_name.strip()),
    }
    if party_status:  # only with its own consent, recorded as given
        reported["party"] = {
            "status": party_status,
            "home_organization": home_organization,
            "consent_scope": str(_(PARTY_SCOPE)),
            "consent_given_at": timezone.now().isoformat(),
        }
    # Anyone may report without signing in, and the phone number may be someone else's: the report holds
    # what was said and the consent given (the text as shown, in the worker's language) and nothing about
    # anyone is written until the community's organizer confirms it.
    return CommunityReport.objects.create(
        community=community,
        phone=phone,
        reported=reported,
        consent_scope=str(_(REPORT_SCOPE)),
        consent_policy_version=REPORT_POLICY_VERSION,
        consent_channel=channel[:40],
        consent_given_at=timezone.now(),
        tracking_code=secrets.token_hex(4).upper(),
    )


def member_heard_from(person_id: int | None, on: date) -> int:
    """A member was in touch (logged a contact with a worker, entered a demand, made a report, attended an
    activity): their current memberships' last contact moves up to `on`, which clears a "lost contact" flag
    (issue 12, item 6). Never moves it back. Returns how many memberships changed."""
    from django.db.models import Q

    if not person_id:
        return 0
    return (
        Membership.objects.filter(person_id=person_id, until__isnull=True)
        .filter(Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=on))
        .update(last_contact_on=on)
    )


def _name_key(name: str) -> str:
    """A name as compared: no spaces, case folded (张 三 = 张三, Li Ming = li ming)."""
    return "".join(name.split()).casefold()


def _apply_report(report: CommunityReport) -> Person:
    """Confirmed: the person with the reported phone (created when there is none) works in the reported
    community, with the reported name, occupation, platforms and union; the consent is recorded for them."""
    from xinye.organizations.models import Company

    r = report.reported or {}
    reason = f"report {report.tracking_code} confirmed"
    person = Person.objects.filter(phone=report.phone).order_by("pk").first() if report.phone else None
    if person is not None and _name_key(r.get("name", "")) != _name_key(person.name):
        # a phone already on record under another name: confirming would hand that person's record (and a
        # consent they never gave) to whoever typed the number. Refused, without saying whose it is.
        raise InputError(
            [
                RowError(
                    "report",
                    report.pk,
                    "phone",
                    report.masked_phone,
                    "this phone number is on record under another name; the worker can prove the number is "
                    "theirs at /my-data/ and report again, or the report is rejected",
                )
            ],
            summary=_("the phone number is on record under another name; nothing was changed"),
        )
    if person is None:
        person = Person(phone=report.phone)
    person.work_community = report.community
    person.name = r.get("name") or person.name
    person.occupation = r.get("occupation") or person.occupation or Occupation.OTHER
    if r.get("union_name"):
        person.union_name = r["union_name"]
        person.union_since = date.fromisoformat(r["union_since"]) if r.get("union_since") else None
    person._change_reason = reason
    person.save()
    if r.get("platform_ids"):
        person.platforms.add(*Company.objects.filter(pk__in=r["platform_ids"], is_platform=True))
    consent = ConsentRecord(
        person=person,
        purpose=REPORT_PURPOSE,
        scope=report.consent_scope,
        policy_version=report.consent_policy_version,
        channel=report.consent_channel,
        given_at=report.consent_given_at or report.created_at,
    )
    consent._change_reason = reason
    consent.save()
    report.person, report.consent = person, consent
    party = r.get("party") or {}
    if party.get("status") and not Membership.objects.filter(person=person, until__isnull=True).exists():
        from xinye.organizations.models import Organization

        from .models import FloatingRequest

        c = ConsentRecord(
            person=person,
            purpose=PARTY_PURPOSE,
            scope=party.get("consent_scope", ""),
            policy_version=report.consent_policy_version,
            channel=report.consent_channel,
            given_at=party.get("consent_given_at") or report.created_at,
        )
        c._change_reason = reason
        c.save()
        home = Organization.objects.filter(name=party["home_organization"], dissolved_on__isnull=True).first()
        FloatingRequest.objects.create(
            person=person,
            report=report,
            party_status=party["status"],
            home_organization=party["home_organization"],
            home_org=home,
        )
    if r.get("union_apply") and not person.union_name:
        from .models import UnionApplication

        if not UnionApplication.objects.filter(person=person, status="pending").exists():
            UnionApplication.objects.create(person=person, report=report)
    member_heard_from(person.pk, timezone.localdate(report.created_at))  # a member reporting is in touch
    return person


@transaction.atomic
def community_report_decide(*, report: CommunityReport, user, confirm: bool, note: str = "") -> CommunityReport:
    """Confirm (the person is matched by phone or created, and the report applied to them with the consent
    recorded) or reject (nothing about anyone is written, and the report's personal data is erased)."""
    report = CommunityReport.objects.select_for_update().get(pk=report.pk)
    if report.status != ReportStatus.PENDING:
        raise InputError(
            [RowError("report", report.pk, "status", report.status, "already decided")],
            summary="this report was already decided",
        )
    report.status = ReportStatus.CONFIRMED if confirm else ReportStatus.REJECTED
    report.decided_by, report.decided_at, report.note = user, timezone.now(), note[:300]
    report._change_reason = "confirmed" if confirm else "not confirmed"
    if confirm:
        _apply_report(report)
    else:
        report.phone, report.reported = "", {}
    report.save()
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
    """Register a member whose membership is held elsewhere: one organization here, activities in several. A
    pending request from the person's report (`FloatingRequest`) is marked registered."""
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
    from .models import FloatingRequest, FloatingRequestStatus

    FloatingRequest.objects.filter(person=person, status=FloatingRequestStatus.PENDING).update(
        status=FloatingRequestStatus.REGISTERED, membership=m, answered_at=timezone.now()
    )
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


@transaction.atomic
def union_application_answer(*, application, user, accept: bool, union_name: str = "", note: str = ""):
    """Accept (the person's union and the date are set) or decline an application to join the trade union."""
    from .models import UnionApplication, UnionApplicationStatus

    application = UnionApplication.objects.select_for_update().select_related("person").get(pk=application.pk)
    if application.status != UnionApplicationStatus.PENDING:
        raise InputError([RowError("form", application.pk, "status", application.status, _("already answered"))])
    union_name = union_name.strip()[:200]
    if accept and not union_name:
        raise InputError([RowError("form", application.pk, "union_name", "", _("name the trade union"))])
    application.status = UnionApplicationStatus.ACCEPTED if accept else UnionApplicationStatus.DECLINED
    application.union_name, application.note = union_name, note.strip()[:300]
    application.answered_by, application.answered_at = user, timezone.now()
    application._change_reason = "accepted" if accept else "declined"
    application.save()
    if accept:
        person = application.person
        person.union_name, person.union_since = union_name, timezone.localdate()
        person._change_reason = "joined the trade union"
        person.save()
    return application


@transaction.atomic
def floating_request_decline(*, request_row, user, note: str):
    """Decline a floating-member request (not a member here after all, moved on...), with a note."""
    from .models import FloatingRequest, FloatingRequestStatus

    row = FloatingRequest.objects.select_for_update().get(pk=request_row.pk)
    if row.status != FloatingRequestStatus.PENDING:
        raise InputError([RowError("form", row.pk, "status", row.status, _("already answered"))])
    row.status, row.note = FloatingRequestStatus.DECLINED, note.strip()[:300]
    row.answered_by, row.answered_at = user, timezone.now()
    row._change_reason = "declined"
    row.save()
    return row
