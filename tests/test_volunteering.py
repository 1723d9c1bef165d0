"""Volunteering (issue 14, items 1-3): vanguard posts and teams; activities, shifts, the waiting list, reminders
and the calendar feeds; check-in and check-out by a rotating code, and the hours that count."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.models import Role, RoleKind
from xinye.accounts.scope import scope_for
from xinye.people.models import Membership, Person
from xinye.places.models import Division, Level
from xinye.volunteering import selectors, services
from xinye.volunteering.models import Team, TeamMembership, TeamMembershipStatus, VanguardPost
from xinye.volunteering.services import NotAllowed, Refused

pytestmark = pytest.mark.django_db

User = get_user_model()


# ---------------------------------------------------------------------------------------------- helpers


def _user(username: str, *, person=None, **role) -> object:
    user = User.objects.create_user(username=username, password="x-test-password-1")
    if role:
        Role.objects.create(user=user, **role)
    if person is not None:
        person.user = user
        person.save(update_fields=["user"])
    return user


def _districts_with_people():
    """Two districts of the demo city, each with a community where workers work."""
    counties = []
    for county in Division.objects.filter(level=Level.COUNTY, code__startswith="4403").order_by("code"):
        community = (
            Division.objects.filter(level=Level.COMMUNITY, code__startswith=county.code, workers__isnull=False)
            .order_by("code")
            .first()
        )
        if community is not None:
            counties.append((county, community))
        if len(counties) == 2:
            return counties
    raise AssertionError("the demo city has people in two districts")


def _worker(community, *, exclude=()) -> Person:
    """A worker with no membership who works in `community`'s district and has no account."""
    return (
        Person.objects.filter(
            work_community__code__startswith=community.code[:6], memberships__isnull=True, user__isnull=True
        )
        .exclude(pk__in=exclude)
        .order_by("pk")
        .first()
    )


def _member(community, *, exclude=()) -> Person:
    return (
        Person.objects.filter(
            work_community__code__startswith=community.code[:6],
            memberships__until__isnull=True,
            memberships__organization__isnull=False,
            user__isnull=True,
        )
        .exclude(pk__in=exclude)
        .order_by("pk")
        .first()
    )


@pytest.fixture
def place(demo):
    """Given an organizer of district A (and one of district B), a team of a community of district A led by a
    worker of district A."""
    (county_a, community_a), (county_b, community_b) = _districts_with_people()
    org_a = _user("org-a", kind=RoleKind.ORGANIZER, division=county_a)
    org_b = _user("org-b", kind=RoleKind.ORGANIZER, division=county_b)
    leader = _worker(community_a)
    team = services.team_create(
        scope=scope_for(org_a),
        actor=org_a,
        name="南山骑手平安志愿队",
        community=community_a,
        leader=leader,
    )
    leader_user = _user("leader-a", person=leader)
    return {
        "team": team,
        "community": community_a,
        "community_b": community_b,
        "org_a": org_a,
        "org_b": org_b,
        "leader": leader,
        "leader_user": leader_user,
    }


# ---------------------------------------------------------------------------------------------- item 1


def test_a_team_belongs_to_exactly_one_place(place):
    scope = scope_for(place["org_a"])
    with pytest.raises(Refused):
        services.team_create(
            scope=scope,
            actor=place["org_a"],
            name="两处",
            community=place["community"],
            organization=Membership.objects.filter(organization__isnull=False).first().organization,
        )
    with pytest.raises(Refused):
        services.team_create(scope=scope, actor=place["org_a"], name="无处")
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        Team.objects.create(name="无处")
    assert place["team"].division == place["community"]


def test_a_worker_asks_to_join_and_a_leader_approves(place):
    team, leader_user = place["team"], place["leader_user"]
    worker = _worker(place["community"], exclude=[place["leader"].pk])
    worker_user = _user("worker-a", person=worker)
    worker_scope = scope_for(worker_user)
    # the worker finds the team: it is in the district where they work
    assert team in selectors.teams_to_join(scope=worker_scope)
    m = services.team_join_request(person=worker, team=team, note="我晚上有空")
    assert services.team_join_request(person=worker, team=team) == m  # asking twice: one request
    assert not policy.may_lead_team(worker_scope, team)
    with pytest.raises(NotAllowed):
        services.team_request_decide(scope=worker_scope, actor=worker_user, membership=m, approve=True)
    services.team_request_decide(scope=scope_for(leader_user), actor=leader_user, membership=m, approve=True)
    m.refresh_from_db()
    assert m.status == TeamMembershipStatus.APPROVED and m.decided_by == leader_user
    assert m.history.count() >= 2  # asked, then approved: both in history
    # a second answer (another leader at the same moment) is refused, not applied twice
    with pytest.raises(Refused):
        services.team_request_decide(scope=scope_for(place["org_a"]), actor=place["org_a"], membership=m, approve=False)
    roster = selectors.team_roster(scope=worker_scope, team=team)
    assert {mm.person_id for mm, _party in roster["members"]} == {worker.pk, place["leader"].pk}
    # leaving and joining again is a new row: the first stays in the team's history
    services.team_leave(person=worker, team=team)
    services.team_join_request(person=worker, team=team)
    assert TeamMembership.objects.filter(team=team, person=worker).count() == 2


def test_party_members_are_marked_only_for_those_who_may_see_party_status(place):
    team, leader_user = place["team"], place["leader_user"]
    member = _member(place["community"])
    services.team_member_add(scope=scope_for(leader_user), actor=leader_user, team=team, person=member)
    # the organizer of the district sees the mark (party status of people working there)
    roster = selectors.team_roster(scope=scope_for(place["org_a"]), team=team)
    assert dict((m.person_id, party) for m, party in roster["members"])[member.pk] is True
    # the leader is a worker: they see the member's name in their team, never their party status
    roster = selectors.team_roster(scope=scope_for(leader_user), team=team)
    assert dict((m.person_id, party) for m, party in roster["members"])[member.pk] is False


def test_a_user_of_another_division_can_neither_see_nor_lead_a_team(place, client):
    team, org_b = place["team"], place["org_b"]
    scope_b = scope_for(org_b)
    assert not selectors.team_list(scope=scope_b).filter(pk=team.pk).exists()
    with pytest.raises(Team.DoesNotExist):
        selectors.team_get(scope=scope_b, pk=team.pk)
    assert not policy.may_lead_team(scope_b, team)
    assert not policy.may_manage_team(scope_b, team)
    with pytest.raises(NotAllowed):
        services.team_create(scope=scope_b, actor=org_b, name="越界", community=place["community"])
    client.force_login(org_b)
    assert client.get(f"/volunteering/teams/{team.pk}/").status_code == 404
    m = TeamMembership.objects.get(team=team, leader=True)
    assert client.post(f"/volunteering/team-members/{m.pk}/leader/", {"leader": "0"}).status_code == 404
    m.refresh_from_db()
    assert m.leader
    # the organizer of district A sees and leads it
    client.force_login(place["org_a"])
    assert client.get(f"/volunteering/teams/{team.pk}/").status_code == 200
    assert policy.may_lead_team(scope_for(place["org_a"]), team)


def test_a_vanguard_post_is_held_by_a_member_and_seen_as_party_status_is(place):
    org_a = place["org_a"]
    scope = scope_for(org_a)
    member = _member(place["community"])
    today = timezone.localdate()
    with pytest.raises(Refused):  # a worker without a membership holds no vanguard post
        services.vanguard_post_create(
            scope=scope, actor=org_a, kind="vanguard", title="党员先锋岗", duty="路口安全", starts_on=today,
            person=place["leader"], community=place["community"],
        )  # fmt: skip
    post = services.vanguard_post_create(
        scope=scope, actor=org_a, kind="vanguard", title="党员先锋岗", duty="路口安全", starts_on=today,
        person=member, community=place["community"],
    )  # fmt: skip
    assert post.division == place["community"]
    assert selectors.post_list(scope=scope).filter(pk=post.pk).exists()
    assert not selectors.post_list(scope=scope_for(place["org_b"])).filter(pk=post.pk).exists()
    # a worker leading a team nearby does not learn who is a Party member from the posts
    assert not selectors.post_list(scope=scope_for(place["leader_user"])).filter(pk=post.pk).exists()
    # a post held by the team is seen by the team's people
    team_post = services.vanguard_post_create(
        scope=scope, actor=org_a, kind="model", title="示范岗", duty="文明劝导", starts_on=today,
        team=place["team"], community=place["community"],
    )  # fmt: skip
    assert selectors.post_list(scope=scope_for(place["leader_user"])).filter(pk=team_post.pk).exists()
    with pytest.raises(NotAllowed):
        services.vanguard_post_end(scope=scope_for(place["org_b"]), post=post)
    services.vanguard_post_end(scope=scope, post=post, on=today)
    assert VanguardPost.objects.get(pk=post.pk).ends_on == today


def test_the_volunteering_pages_answer_on_a_phone(place, client):
    client.force_login(place["org_a"])
    for url in ("/volunteering/", "/volunteering/teams/", "/volunteering/teams/new/", "/volunteering/posts/",
                "/volunteering/posts/new/", f"/volunteering/teams/{place['team'].pk}/"):  # fmt: skip
        r = client.get(url)
        assert r.status_code == 200, url
    r = client.post(
        "/volunteering/teams/new/",
        {"name": "<b>文明</b>志愿队", "place_kind": "community", "community": place["community"].code},
    )
    assert r.status_code == 302
    team = Team.objects.get(name="<b>文明</b>志愿队")
    html = client.get(f"/volunteering/teams/{team.pk}/").content.decode()
    assert "&lt;b&gt;文明&lt;/b&gt;志愿队" in html and "<b>文明</b>" not in html
    # the leader of the first team, signed in, asks nothing: a worker of the district asks to join on the page
    client.force_login(place["leader_user"])
    r = client.post(f"/volunteering/teams/{team.pk}/join/", {"note": "想参加"})
    assert r.status_code == 302
    assert TeamMembership.objects.filter(team=team, person=place["leader"], status="requested").exists()
