"""Floating members, contact rules by date, transfers with history. Issue #4."""

from __future__ import annotations

from datetime import date

import pytest

from xinye.algorithms.membership import MemberDates, add_months, membership_flags
from xinye.organizations.models import Organization, OrgKind
from xinye.people import services
from xinye.people.models import Membership, Person, TransferStatus

TODAY = date(2026, 11, 29)


def flags(**kw):
    base = dict(id="m", floating=False, since=None, last_contact=None, certificate_until=None)
    base.update(kw)
    return [(f.code, f.since) for f in membership_flags(MemberDates(**base), today=TODAY)]


def test_month_arithmetic_keeps_the_end_of_the_month():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 1, 15), -2) == date(2025, 11, 15)


def test_a_floating_member_is_due_to_transfer_after_six_months_to_the_day():
    assert flags(floating=True, since=date(2026, 5, 29)) == [("transfer_suggested", date(2026, 11, 29))]
    assert flags(floating=True, since=date(2026, 5, 30)) == []
    assert flags(floating=False, since=date(2020, 1, 1)) == []


def test_out_of_contact_six_months_then_removal_review_two_years_later():
    assert flags(last_contact=date(2026, 6, 1)) == []
    assert flags(last_contact=date(2026, 5, 29)) == [("lost_contact", date(2026, 11, 29))]
    assert flags(last_contact=date(2024, 5, 30)) == [("lost_contact", date(2024, 11, 30))]
    assert flags(last_contact=date(2024, 5, 29)) == [("removal_review", date(2026, 11, 29))]


def test_activity_certificates_ending_are_flagged():
    assert flags(floating=True, since=TODAY, certificate_until=date(2026, 11, 28)) == [
        ("certificate_expired", date(2026, 11, 28))
    ]
    assert flags(floating=True, since=TODAY, certificate_until=date(2026, 12, 20)) == [
        ("certificate_expiring", date(2026, 12, 20))
    ]
    assert flags(floating=True, since=TODAY, certificate_until=date(2027, 6, 1)) == []


@pytest.mark.django_db
def test_register_a_floating_member_who_takes_part_in_activities_of_several(login):
    person = Person.objects.filter(memberships__isnull=True).first()
    branches = list(Organization.objects.filter(kind=OrgKind.BRANCH)[:3])
    m = services.floating_member_register(
        person=person,
        organization=branches[0],
        status="formal",
        home_organization="湖南省邵阳市某村党支部",
        home_place="湖南省邵阳市",
        since=date(2026, 3, 1),
        certificate_until=date(2027, 3, 1),
        activity_organizations=branches[1:],
    )
    assert m.floating and m.organization == branches[0]
    assert set(m.activity_organizations.all()) == set(branches[1:])
    with pytest.raises(services.InputError, match="already has a current membership"):
        services.floating_member_register(
            person=person,
            organization=branches[0],
            status="formal",
            home_organization="x",
            home_place="",
            since=date(2026, 3, 1),
        )


@pytest.mark.django_db
def test_a_transfer_is_requested_approved_and_recorded(login):
    from django.contrib.auth import get_user_model

    client = login("organizer")
    page = client.get("/members/", {"flag": "transfer_suggested", "floating": "1"})
    assert page.status_code == 200 and page.context["page"].object_list
    floating = next(
        m for m, fl in page.context["page"] if m.floating and any(f.code == "transfer_suggested" for f, _ in fl)
    )
    form = client.get(f"/members/{floating.pk}/transfer/")
    assert form.status_code == 200 and b'name="to"' in form.content
    target = Organization.objects.filter(kind=OrgKind.BRANCH, division__code__startswith="4403").first()
    client.post(f"/members/{floating.pk}/transfer/", {"to": target.pk, "reason": "settled here"})
    transfer = floating.transfers.get()
    assert transfer.status == TransferStatus.REQUESTED and transfer.from_text == floating.home_organization
    client.post(f"/transfers/{transfer.pk}/decide/", {"approve": "1"})
    transfer.refresh_from_db()
    floating.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED
    assert floating.organization == target and not floating.floating
    assert floating.history.first().history_change_reason.startswith(f"transfer #{transfer.pk} approved")
    assert floating.history.filter(floating=True).exists()
    assert get_user_model().objects.get(username="organizer") == transfer.decided_by


@pytest.mark.django_db
def test_members_cannot_see_the_flags_page_and_secretaries_cannot_decide(login):
    assert login("member").get("/members/").status_code == 404
    m = Membership.objects.filter(floating=True, organization__isnull=False).first()
    target = Organization.objects.filter(kind=OrgKind.BRANCH).exclude(pk=m.organization_id).first()
    from django.contrib.auth import get_user_model

    t = services.membership_transfer_request(
        membership=m, to_organization=target, reason="r", user=get_user_model().objects.get(username="admin")
    )
    secretary = login("secretary")
    secretary.post(f"/transfers/{t.pk}/decide/", {"approve": "1"})
    t.refresh_from_db()
    assert t.status == TransferStatus.REQUESTED


@pytest.mark.django_db
def test_the_floating_member_page_registers_and_names_bad_fields(login):
    client = login("organizer")
    person = Person.objects.filter(memberships__isnull=True, work_community__code__startswith="4403").first()
    branch = Organization.objects.filter(kind=OrgKind.BRANCH, division__code__startswith="4403").first()
    page = client.get(f"/people/{person.pk}/floating/")
    assert page.status_code == 200
    bad = client.post(
        f"/people/{person.pk}/floating/",
        {"home_organization": "", "since": "2026-13-01", "organization": branch.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 400 and "Not a date" in bad.content.decode()
    ok = client.post(
        f"/people/{person.pk}/floating/",
        {
            "home_organization": "河南省周口市某村党支部",
            "home_place": "河南省周口市",
            "since": "2026-05-01",
            "certificate_until": "2027-05-01",
            "organization": branch.pk,
            "status": "formal",
        },
    )
    assert ok.status_code == 302
    m = person.memberships.get(until__isnull=True)
    assert m.floating and m.organization == branch and m.home_place == "河南省周口市"
