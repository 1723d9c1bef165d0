"""A worker who reports to their community may say (with its own consent) that they are a Party member held
elsewhere; once confirmed, the community's organizers register them as a floating member from a filled-in form,
and the home organization on record sees the request (issue 12, item 6)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from xinye.accounts.models import Role, RoleKind
from xinye.organizations.models import Organization, OrgKind
from xinye.people.models import CommunityReport, ConsentRecord, FloatingRequest, Membership
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db


def _form(place, **extra):
    return {
        "submit": "1", "city": "4403", "street": place.parent.code, "community": place.code, "name": "周流动",
        "phone": "13912340009", "occupation": "delivery_rider", "consent": "1", **extra,
    }  # fmt: skip


def _place():
    return Division.objects.filter(level=Level.COMMUNITY, code__startswith="440305").first()


def test_the_party_question_needs_its_own_consent():
    r = Client().post("/report/", _form(_place(), party_status="formal", home_organization="某县某村党支部"))
    assert r.status_code == 400 and not CommunityReport.objects.filter(phone="13912340009").exists()
    r = Client().post("/report/", _form(_place(), party_status="formal", party_consent="1"))
    assert r.status_code == 400  # the home organization is needed


def test_report_confirm_register_and_the_home_organization_sees_it(login, demo):
    home = Organization.objects.filter(kind=OrgKind.BRANCH, dissolved_on__isnull=True).first()
    Client().post(
        "/report/", _form(_place(), party_status="probationary", home_organization=home.name, party_consent="1")
    )
    report = CommunityReport.objects.get(phone="13912340009")
    assert report.reported["party"]["status"] == "probationary"
    assert not FloatingRequest.objects.exists()  # nothing about anyone before confirmation
    organizer = login("organizer")
    organizer.post(f"/community-reports/{report.pk}/decide/", {"confirm": "1"})
    req = FloatingRequest.objects.get()
    assert (req.home_org, req.party_status, req.status) == (home, "probationary", "pending")
    assert ConsentRecord.objects.filter(person=req.person, purpose__startswith="party membership").exists()
    assert "/members/reported/" in organizer.get("/").content.decode()
    assert "周流动" in organizer.get("/members/reported/").content.decode()
    form = organizer.get(f"/people/{req.person.pk}/floating/").content.decode()
    assert home.name in form and 'value="probationary" selected' in form
    # the home organization's secretary is told: the request is on their list
    user = get_user_model().objects.create_user("home_secretary", password="x-long-password-123")
    Role.objects.create(user=user, kind=RoleKind.SECRETARY, organization=home)
    c = Client()
    c.force_login(user)
    assert "周流动" in c.get("/members/reported/").content.decode()
    # registering here marks the request done
    branch = Organization.objects.filter(kind=OrgKind.BRANCH, division__code__startswith="4403").exclude(pk=home.pk)[0]
    organizer.post(
        f"/people/{req.person.pk}/floating/",
        {"organization": branch.pk, "status": "probationary", "home_organization": home.name, "since": "2026-11-01"},
    )
    req.refresh_from_db()
    assert req.status == "registered" and req.membership == Membership.objects.get(
        person=req.person, until__isnull=True
    )


def test_others_do_not_see_requests(login, demo):
    for name in ("member", "operator"):
        assert login(name).get("/members/reported/").status_code == 404
