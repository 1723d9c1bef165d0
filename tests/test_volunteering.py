"""Volunteering (issue 14, items 1-3): vanguard posts and teams; activities, shifts, the waiting list, reminders
and the calendar feeds; check-in and check-out by a rotating code, and the hours that count."""

from __future__ import annotations

import datetime as dt
import re

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
from xinye.volunteering.models import (
    CalendarFeed,
    Signup,
    SignupStatus,
    Team,
    TeamMembership,
    TeamMembershipStatus,
    VanguardPost,
)
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


# ---------------------------------------------------------------------------------------------- item 2


@pytest.fixture
def sms_outbox(settings):
    from xinye.people import sms

    settings.XINYE_SMS_SENDER = "xinye.people.sms.LocmemSender"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def _tomorrow(hour: int) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@pytest.fixture
def activity(place):
    """Given a safety patrol of the team, in the team's community, with one shift tomorrow 09:00-11:00 for 2."""
    leader_user = place["leader_user"]
    scope = scope_for(leader_user)
    a = services.activity_create(
        scope=scope,
        actor=leader_user,
        title="早高峰路口安全巡查",
        kind="safety_patrol",
        team=place["team"],
        community=place["community"],
        address="科技园地铁站 A 口",
    )
    shift = services.shift_add(
        scope=scope, actor=leader_user, activity=a, starts_at=_tomorrow(9), ends_at=_tomorrow(11), capacity=2
    )
    return {**place, "activity": a, "shift": shift}


def _volunteers(activity, n: int) -> list[Person]:
    community = activity["community"]
    people = list(
        Person.objects.filter(work_community__code__startswith=community.code[:6], user__isnull=True)
        .exclude(pk=activity["leader"].pk)
        .exclude(phone="")
        .order_by("pk")[:n]
    )
    assert len(people) == n
    return people


def test_a_full_shift_puts_people_on_a_waiting_list_and_a_cancellation_moves_the_first_up(
    activity, sms_outbox, django_capture_on_commit_callbacks
):
    shift = activity["shift"]
    a, b, c, d = _volunteers(activity, 4)
    sa, sb, sc, sd = (services.signup_create(person=p, shift=shift) for p in (a, b, c, d))
    assert [s.status for s in (sa, sb, sc, sd)] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [services.waiting_position(s) for s in (sa, sc, sd)] == [None, 1, 2]
    assert services.signup_create(person=c, shift=shift) == sc  # signing up twice: one sign-up
    # when the second waiting person gives up, nobody moves
    with django_capture_on_commit_callbacks(execute=True):
        _, moved = services.signup_cancel(signup=sd)
    assert moved == [] and sms_outbox == []
    # when a confirmed volunteer cancels, the first in line gets the place and a text message
    with django_capture_on_commit_callbacks(execute=True):
        _, moved = services.signup_cancel(signup=sa)
    sc.refresh_from_db()
    assert moved == [sc] and sc.status == SignupStatus.CONFIRMED and sc.promoted_at is not None
    assert [phone for phone, _text in sms_outbox] == [c.phone]
    assert Signup.objects.filter(shift=shift, status="confirmed").count() == 2
    # cancelling again changes nothing
    assert services.signup_cancel(signup=sa) == (Signup.objects.get(pk=sa.pk), [])


def test_more_places_move_people_up_and_fewer_take_no_place_away(activity):
    shift, leader_user = activity["shift"], activity["leader_user"]
    people = _volunteers(activity, 4)
    signups = [services.signup_create(person=p, shift=shift) for p in people]
    scope = scope_for(leader_user)
    moved = services.shift_capacity_set(scope=scope, actor=leader_user, shift=shift, capacity=3)
    assert [s.pk for s in moved] == [signups[2].pk]
    assert services.shift_capacity_set(scope=scope, actor=leader_user, shift=shift, capacity=1) == []
    assert Signup.objects.filter(shift=shift, status="confirmed").count() == 3
    with pytest.raises(NotAllowed):
        services.shift_capacity_set(
            scope=scope_for(activity["org_b"]), actor=activity["org_b"], shift=shift, capacity=9
        )


def test_no_sign_up_once_a_shift_started_or_was_cancelled(activity):
    shift = activity["shift"]
    (p,) = _volunteers(activity, 1)
    with pytest.raises(Refused):
        services.signup_create(person=p, shift=shift, now=shift.starts_at + dt.timedelta(minutes=1))
    s = services.signup_create(person=p, shift=shift)
    with pytest.raises(Refused):  # cancelling after the start: the leader is told instead
        services.signup_cancel(signup=s, now=shift.starts_at + dt.timedelta(minutes=1))
    services.activity_cancel(scope=scope_for(activity["leader_user"]), activity=activity["activity"])
    (q,) = [x for x in _volunteers(activity, 2) if x.pk != p.pk]
    with pytest.raises(Refused):
        services.signup_create(person=q, shift=shift)


def test_volunteers_are_reminded_once_before_their_shift(activity, sms_outbox):
    shift = activity["shift"]
    a, b, c = _volunteers(activity, 3)
    for p in (a, b, c):
        services.signup_create(person=p, shift=shift)  # c waits: no reminder
    too_early = shift.starts_at - dt.timedelta(hours=30)
    assert services.shift_reminders_send(now=too_early) == 0
    now = shift.starts_at - dt.timedelta(hours=3)
    assert services.shift_reminders_send(now=now) == 2
    assert sorted(phone for phone, _text in sms_outbox) == sorted([a.phone, b.phone])
    assert "科技园地铁站 A 口" in sms_outbox[0][1]
    assert services.shift_reminders_send(now=now + dt.timedelta(minutes=15)) == 0  # once
    from xinye.common.schedules import planned

    assert "xinye.volunteering.services.shift_reminders_send" in {p.func for p in planned()}


def test_the_volunteer_calendar_feed_parses_with_icalendar_and_can_be_revoked(activity, client):
    from icalendar import Calendar

    shift = activity["shift"]
    a, b, c = _volunteers(activity, 3)
    user = _user("volunteer-a", person=c)
    for p in (a, b, c):
        services.signup_create(person=p, shift=shift)  # c waits
    client.force_login(user)
    r = client.post("/volunteering/calendar/", {"action": "make"})
    html = r.content.decode()
    url = re.search(r"(http://testserver/volunteering/calendar/[A-Za-z0-9_-]{40,}\.ics)", html).group(1)
    assert CalendarFeed.objects.get(person=c).token_hash not in url  # only the hash is kept
    client.logout()
    r = client.get(url)  # a calendar app: no sign-in
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    ev = events[0]
    assert ev.get("dtstart").dt == shift.starts_at and ev.get("dtend").dt == shift.ends_at
    assert "早高峰路口安全巡查" in str(ev.get("summary")) and str(ev.get("status")) == "TENTATIVE"
    assert str(ev.get("uid")) == f"shift-{shift.pk}@testserver"
    assert "科技园地铁站 A 口" in str(ev.get("location"))
    # a new address ends the old one; revoking ends it too
    client.force_login(user)
    html = client.post("/volunteering/calendar/", {"action": "make"}).content.decode()
    new_url = re.search(r"(http://testserver/volunteering/calendar/[A-Za-z0-9_-]{40,}\.ics)", html).group(1)
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get(new_url).status_code == 200
    client.force_login(user)
    client.post("/volunteering/calendar/", {"action": "revoke"})
    client.logout()
    assert client.get(new_url).status_code == 404
    assert client.get("/volunteering/calendar/not-a-token.ics").status_code == 404


def test_the_team_calendar_lists_every_shift_of_its_activities(activity, client):
    from icalendar import Calendar

    leader_user = activity["leader_user"]
    services.shift_add(
        scope=scope_for(leader_user), actor=leader_user, activity=activity["activity"],
        starts_at=_tomorrow(14), ends_at=_tomorrow(16), capacity=5,
    )  # fmt: skip
    client.force_login(activity["org_b"])  # another district: not theirs
    assert client.post(f"/volunteering/teams/{activity['team'].pk}/calendar/", {"action": "make"}).status_code == 404
    client.force_login(leader_user)
    html = client.post(f"/volunteering/teams/{activity['team'].pk}/calendar/", {"action": "make"}).content.decode()
    url = re.search(r"(http://testserver/volunteering/calendar/[A-Za-z0-9_-]{40,}\.ics)", html).group(1)
    client.logout()
    cal = Calendar.from_ical(client.get(url).content)
    assert [str(e.get("status")) for e in cal.walk("VEVENT")] == ["CONFIRMED", "CONFIRMED"]
    assert str(cal.get("x-wr-calname")) == activity["team"].name


def test_activities_and_shifts_are_out_of_reach_in_another_district(activity, client):
    org_b = activity["org_b"]
    scope_b = scope_for(org_b)
    assert not selectors.activity_list(scope=scope_b, when="all").filter(pk=activity["activity"].pk).exists()
    assert not policy.may_run_activity(scope_b, activity["activity"])
    client.force_login(org_b)
    assert client.get(f"/volunteering/activities/{activity['activity'].pk}/").status_code == 404
    assert client.get(f"/volunteering/shifts/{activity['shift'].pk}/").status_code == 404
    assert client.post(f"/volunteering/shifts/{activity['shift'].pk}/sign-up/").status_code == 404
    # a worker of the district finds it (open to volunteers nearby) and signs up on the page
    (p,) = _volunteers(activity, 1)
    client.force_login(_user("nearby", person=p))
    assert client.get(f"/volunteering/activities/{activity['activity'].pk}/").status_code == 200
    client.post(f"/volunteering/shifts/{activity['shift'].pk}/sign-up/")
    assert Signup.objects.filter(shift=activity["shift"], person=p, status="confirmed").exists()
    html = client.get("/volunteering/").content.decode()
    assert "早高峰路口安全巡查" in html
    client.post(f"/volunteering/shifts/{activity['shift'].pk}/cancel/")
    assert Signup.objects.get(shift=activity["shift"], person=p).status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_at_once_get_one_place_and_one_wait():
    """Two threads, two database connections, 10 times: never more people with a place than places."""
    import threading

    from django.db import connections

    from xinye.organizations.models import Organization

    county = Division.objects.create(code="449901", name="测试区", level=Level.COUNTY)
    community = Division.objects.create(code="449901001001", name="测试社区", level=Level.COMMUNITY, parent=county)
    org = Organization.objects.create(name="测试支部", kind="branch", anchor_kind="division", division=county)
    admin = User.objects.create_superuser("concurrent-admin", password=None)
    team = services.team_create(scope=scope_for(admin), actor=admin, name="并发队", organization=org)
    a = services.activity_create(
        scope=scope_for(admin), actor=admin, title="并发", kind="training", team=team, community=community
    )
    people = [Person.objects.create(name=f"志愿者{i}", occupation="courier") for i in range(20)]
    for trial in range(10):
        shift = services.shift_add(
            scope=scope_for(admin), actor=admin, activity=a, starts_at=_tomorrow(9) + dt.timedelta(days=trial),
            ends_at=_tomorrow(10) + dt.timedelta(days=trial), capacity=1,
        )  # fmt: skip
        pair = people[2 * trial : 2 * trial + 2]
        barrier = threading.Barrier(2)
        errors = []

        def take(person, shift=shift, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                services.signup_create(person=person, shift=shift)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=take, args=(p,)) for p in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        statuses = sorted(Signup.objects.filter(shift=shift).values_list("status", flat=True))
        assert statuses == ["confirmed", "waitlisted"], trial
