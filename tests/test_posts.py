"""Posts and elections (issue 12, item 3): appointments within the rule set's figures, one secretary at a time,
elections that start a term as long as the rule set says, "secretary to be appointed" on the page and on the
organizer's to-do list, and only those who may manage posts can."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from xinye.accounts.scope import scope_for
from xinye.organizations import posts as svc
from xinye.organizations.models import Organization, OrgKind, Post, PostRole
from xinye.organizations.planning import add_years, rules_for
from xinye.people.models import Membership, Person

pytestmark = pytest.mark.django_db


def _admin():
    return get_user_model().objects.get(username="admin")


def _branch_with(formal: int) -> Organization:
    """A fresh branch under a demo committee with `formal` formal members and no posts."""
    parent = Organization.objects.filter(kind=OrgKind.COMMITTEE).first()
    org = Organization.objects.create(
        name="测试党支部",
        kind=OrgKind.BRANCH,
        anchor_kind="company",
        company=parent.company,
        parent=parent,
        division=parent.division,
    )
    people = Person.objects.filter(memberships__isnull=True)[:formal]
    for p in people:
        Membership.objects.create(person=p, organization=org, status="formal", since=date(2020, 1, 1))
    return org


def _people(org):
    return list(svc.eligible_people(org).order_by("pk"))


def test_small_branch_has_a_secretary_and_one_deputy():
    org = _branch_with(5)
    scope, actor = scope_for(_admin()), _admin()
    a, b, c, d = _people(org)[:4]
    svc.appoint(scope, actor, org, person=a, role=PostRole.SECRETARY, start=date(2026, 1, 1))
    svc.appoint(scope, actor, org, person=b, role=PostRole.DEPUTY, start=date(2026, 1, 1))
    with pytest.raises(svc.PostError):
        svc.appoint(scope, actor, org, person=c, role=PostRole.COMMITTEE_MEMBER, start=date(2026, 1, 1))
    with pytest.raises(svc.PostError):
        svc.appoint(scope, actor, org, person=d, role=PostRole.DEPUTY, start=date(2026, 1, 1))
    with pytest.raises(svc.PostError):  # one post each
        svc.appoint(scope, actor, org, person=a, role=PostRole.DEPUTY, start=date(2026, 1, 1))


def test_committee_size_comes_from_the_rule_set():
    rules = rules_for()
    org = _branch_with(rules.committee_at + 5)
    scope, actor = scope_for(_admin()), _admin()
    most = rules.committee_size("branch")[2]
    people = _people(org)
    svc.appoint(scope, actor, org, person=people[0], role=PostRole.SECRETARY, start=date(2026, 1, 1))
    for p in people[1:most]:
        svc.appoint(scope, actor, org, person=p, role=PostRole.COMMITTEE_MEMBER, start=date(2026, 1, 1))
    assert svc.current_posts(org).count() == most
    with pytest.raises(svc.PostError, match=str(most)):
        svc.appoint(scope, actor, org, person=people[most], role=PostRole.COMMITTEE_MEMBER, start=date(2026, 1, 1))


def test_a_new_secretary_ends_the_old_post_and_a_probationary_member_cannot_hold_one():
    org = _branch_with(4)
    scope, actor = scope_for(_admin()), _admin()
    a, b = _people(org)[:2]
    old = svc.appoint(scope, actor, org, person=a, role=PostRole.SECRETARY, start=date(2025, 1, 1))
    svc.appoint(scope, actor, org, person=b, role=PostRole.SECRETARY, start=date(2026, 3, 1))
    old.refresh_from_db()
    assert old.end_date == date(2026, 3, 1)
    assert list(svc.current_posts(org).values_list("person_id", flat=True)) == [b.pk]
    probationary = Person.objects.filter(memberships__isnull=True).exclude(pk__in=[a.pk, b.pk]).first()
    Membership.objects.create(person=probationary, organization=org, status="probationary", since=date(2026, 1, 1))
    with pytest.raises(svc.PostError):
        svc.appoint(scope, actor, org, person=probationary, role=PostRole.DEPUTY, start=date(2026, 3, 1))


def test_an_election_starts_a_term_of_the_rule_sets_length():
    org = _branch_with(4)
    e = svc.record_election(
        scope_for(_admin()),
        _admin(),
        org,
        held_on=date(2026, 6, 1),
        approved_by=org.parent,
        approved_on=date(2026, 6, 10),
    )
    org.refresh_from_db()
    years = rules_for().term_years["branch"]
    assert (org.term_started_on, org.term_ends_on) == (date(2026, 6, 1), add_years(date(2026, 6, 1), years))
    assert e.term_ends_on == org.term_ends_on and e.approved_by == org.parent
    with pytest.raises(svc.PostError):  # the approver must be above
        svc.record_election(scope_for(_admin()), _admin(), org, held_on=date(2026, 6, 1), approved_by=org)


def test_the_page_the_to_do_list_and_who_may(client, login, demo):
    org = _branch_with(4)
    c = login("admin")
    page = c.get(f"/organizations/{org.pk}/posts/").content.decode()
    assert "data-no-secretary" in page
    assert "data-no-secretary" in c.get(f"/organizations/{org.pk}/").content.decode()
    listed = c.get("/organizations/?no_secretary=1").content.decode()
    assert "测试党支部" in listed
    todo = c.get("/").content.decode()
    assert "?no_secretary=1" in todo
    person = _people(org)[0]
    r = c.post(f"/organizations/{org.pk}/posts/", {"action": "appoint", "person": person.pk, "role": "secretary"})
    assert r.status_code == 302
    assert Post.objects.filter(organization=org, person=person, role="secretary", end_date__isnull=True).exists()
    assert "data-no-secretary" not in c.get(f"/organizations/{org.pk}/posts/").content.decode()
    # a bad date is an error on the page, not a crash
    r = c.post(f"/organizations/{org.pk}/posts/", {"action": "election", "held_on": "2026/13/01"}, follow=True)
    assert "2026/13/01" in r.content.decode()

    # a member (and a secretary: the higher organization approves a committee) may not appoint
    secretary_branch = Post.objects.filter(role="secretary").first().organization
    for name in ("member", "secretary"):
        other = login(name)
        r = other.post(
            f"/organizations/{secretary_branch.pk}/posts/", {"action": "appoint", "person": person.pk, "role": "deputy"}
        )
        assert r.status_code == 404, name


def test_posts_page_in_chinese(login, demo):
    org = _branch_with(3)
    c = login("admin")
    c.cookies["django_language"] = "zh-hans"
    page = c.get(f"/organizations/{org.pk}/posts/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    for english in (
        "Posts and elections",
        "Current posts",
        "Appoint",
        "Record an election",
        "Secretary to be appointed",
    ):
        assert english not in page
