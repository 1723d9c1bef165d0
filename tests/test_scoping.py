"""Every list, page and API call is filtered to the actor's scope; out of scope is 404. Issue #2."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from xinye.accounts.models import Role, RoleKind
from xinye.accounts.scope import scope_for
from xinye.organizations.models import Organization, OrgKind
from xinye.people.models import Membership, Person
from xinye.people.selectors import person_list

pytestmark = pytest.mark.django_db


def _secretary_of_another_branch():
    """A user who is secretary of a branch other than the demo secretary's, and a member of it."""
    mine = Role.objects.get(user__username="secretary").organization
    other = (
        Organization.objects.filter(kind__in=[OrgKind.BRANCH, OrgKind.JOINT_BRANCH])
        .exclude(pk=mine.pk)
        .filter(memberships__isnull=False)
        .distinct()
        .first()
    )
    user = get_user_model().objects.create_user("secretary2", password="x-long-password-123")
    Role.objects.create(user=user, kind=RoleKind.SECRETARY, organization=other)
    assert other is not None, "the demo city should have more than one branch with members"
    return user, mine, other


def test_secretary_sees_only_their_branch_members():
    user, mine, other = _secretary_of_another_branch()
    visible = set(person_list(scope=scope_for(user)).values_list("pk", flat=True))
    theirs = set(Membership.objects.filter(organization=other).values_list("person_id", flat=True))
    mine_people = set(Membership.objects.filter(organization=mine).values_list("person_id", flat=True))
    assert visible == theirs
    assert not visible & mine_people


def test_secretary_cannot_open_another_branchs_person_page_or_api(client):
    user, mine, other = _secretary_of_another_branch()
    stranger = Membership.objects.filter(organization=mine).first().person
    client.force_login(user)
    assert client.get(f"/people/{stranger.pk}/").status_code == 404
    assert client.get(f"/api/people/{stranger.pk}/").status_code == 404
    assert client.get(f"/organizations/{mine.pk}/").status_code == 404
    listed = {p["id"] for p in client.get("/api/people/?limit=1000").json()["results"]}
    assert stranger.pk not in listed
    own = Membership.objects.filter(organization=other).first().person
    assert client.get(f"/people/{own.pk}/").status_code == 200
    assert client.get(f"/api/people/{own.pk}/").json()["id"] == own.pk


def test_district_organizer_sees_only_workers_of_their_district(login):
    client = login("district")
    prefix = Role.objects.get(user__username="district").division.code
    data = client.get("/api/people/?limit=1000").json()
    assert data["count"] == Person.objects.filter(work_community__code__startswith=prefix).count() > 0
    outside = Person.objects.exclude(work_community__code__startswith=prefix).first()
    assert client.get(f"/people/{outside.pk}/").status_code == 404


def test_member_sees_only_themselves(login):
    client = login("member")
    me = get_user_model().objects.get(username="member").person
    assert [p["id"] for p in client.get("/api/people/").json()["results"]] == [me.pk]


def test_station_operator_sees_no_people_and_only_their_stations(login):
    client = login("operator")
    assert client.get("/api/people/").json()["count"] == 0
    op = Role.objects.get(user__username="operator").operator_name
    names = {s["operator_name"] for s in client.get("/api/stations/?limit=1000").json()["results"]}
    assert names == {op}


def test_phone_numbers_are_masked_except_for_organizers(login):
    person = (
        Membership.objects.filter(organization=Role.objects.get(user__username="secretary").organization).first().person
    )
    secretary = login("secretary")
    masked = secretary.get(f"/api/people/{person.pk}/").json()["phone"]
    assert "****" in masked and masked != person.phone and masked[-4:] == person.phone[-4:]
    page = secretary.get(f"/people/{person.pk}/").content.decode()
    assert person.phone not in page and masked in page
    organizer = login("organizer")
    assert organizer.get(f"/api/people/{person.pk}/").json()["phone"] == person.phone


def test_anonymous_users_are_sent_to_login_and_the_api_refuses_them(client):
    assert client.get("/people/").status_code == 302
    assert client.get("/api/people/").status_code in (401, 403)


def test_dashboard_counts_follow_scope(login):
    all_workers = login("admin").get("/").context["people"]["workers"]
    secretary = login("secretary").get("/").context["people"]["workers"]
    assert all_workers == Person.objects.count()
    assert 0 < secretary < all_workers
