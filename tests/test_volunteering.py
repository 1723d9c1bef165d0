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
    Attendance,
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


# ---------------------------------------------------------------------------------------------- item 3


def _running_shift(activity, *, minutes_ago: int = 10, length: int = 120, capacity: int = 5):
    """A shift of the activity that started `minutes_ago` (so the code page and check-in are open now)."""
    leader_user = activity["leader_user"]
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=minutes_ago)
    return services.shift_add(
        scope=scope_for(leader_user), actor=leader_user, activity=activity["activity"], starts_at=start,
        ends_at=start + dt.timedelta(minutes=length), capacity=capacity,
    )  # fmt: skip


def _signed_up(shift, people):
    for p in people:
        services.signup_create(person=p, shift=shift, now=shift.starts_at - dt.timedelta(hours=1))


def test_the_code_rotates_and_a_code_from_an_earlier_window_is_refused(settings):
    from xinye.volunteering import codes

    settings.XINYE_CHECKIN_WINDOW_SECONDS = 60
    settings.XINYE_CHECKIN_GRACE_SECONDS = 10
    t0 = dt.datetime(2026, 12, 4, 9, 0, 0, tzinfo=dt.UTC)  # the start of a window (a whole minute)
    now = codes.current(7, t0 + dt.timedelta(seconds=30))
    assert len(now.digits) == 6 and now.digits.isdigit() and now.seconds_left == 30
    assert codes.digits_valid(7, now.digits, t0 + dt.timedelta(seconds=59))
    assert codes.digits_valid(7, now.digits[:3] + " " + now.digits[3:], t0 + dt.timedelta(seconds=59))
    assert codes.token_valid(7, now.token, t0 + dt.timedelta(seconds=59))
    # the next window: taken during the grace, then refused
    assert codes.digits_valid(7, now.digits, t0 + dt.timedelta(seconds=65))
    assert not codes.digits_valid(7, now.digits, t0 + dt.timedelta(seconds=71))
    assert not codes.token_valid(7, now.token, t0 + dt.timedelta(seconds=71))
    # yesterday's code, a code of another shift, a made-up token: refused
    yesterday = codes.current(7, t0 - dt.timedelta(days=1))
    assert not codes.digits_valid(7, yesterday.digits, t0 + dt.timedelta(seconds=5))
    assert not codes.token_valid(7, yesterday.token, t0 + dt.timedelta(seconds=5))
    assert not codes.token_valid(8, now.token, t0 + dt.timedelta(seconds=30))
    assert not codes.token_valid(7, f"{now.window}.AAAAAAAAAAAAAAAAAAAAAA", t0 + dt.timedelta(seconds=30))
    # the codes change from window to window
    assert len({codes.digits_for(7, w) for w in range(now.window, now.window + 20)}) >= 18


def test_hours_count_with_check_in_and_out_for_at_least_the_share_of_the_shift(activity, settings):
    from xinye.volunteering import codes

    settings.XINYE_VOLUNTEER_MIN_SHARE = 0.5
    shift = activity["shift"]  # tomorrow 09:00-11:00, 2 places
    a, b = _volunteers(activity, 2)
    _signed_up(shift, [a, b])
    t_in = shift.starts_at + dt.timedelta(minutes=2)

    def check(person, at):
        return services.attendance_check(person=person, shift=shift, code=codes.current(shift.pk, at).digits, now=at)

    att, action = check(a, t_in)
    assert action == "in" and att.check_in_method == "code" and not att.counted
    with pytest.raises(Refused):  # a second scan right away is not leaving
        check(a, t_in + dt.timedelta(minutes=1))
    att, action = check(a, shift.ends_at - dt.timedelta(minutes=10))
    assert action == "out" and att.minutes == 108 and att.counted
    with pytest.raises(Refused):
        check(a, shift.ends_at)  # already out
    check(b, shift.starts_at)
    att, _ = check(b, shift.starts_at + dt.timedelta(minutes=50))
    assert att.minutes == 50 and not att.counted  # under half of 120 minutes
    # time outside the shift is not counted
    assert Attendance.objects.get(pk=att.pk).minutes == 50
    # no check-out: nothing counts
    c = _volunteers(activity, 3)[2]
    services.shift_capacity_set(scope=scope_for(activity["leader_user"]), actor=None, shift=shift, capacity=3)
    _signed_up(shift, [c])
    att, _ = check(c, t_in)
    assert att.checked_out_at is None and att.minutes == 0 and not att.counted
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        Attendance.objects.filter(pk=att.pk).update(counted=True)


def test_an_old_code_and_no_place_are_refused_at_check_in(activity):
    from xinye.volunteering import codes

    shift = activity["shift"]
    a, b, c = _volunteers(activity, 3)
    _signed_up(shift, [a, b, c])  # c waits
    at = shift.starts_at
    old = codes.current(shift.pk, at - dt.timedelta(minutes=2)).digits
    with pytest.raises(Refused):
        services.attendance_check(person=a, shift=shift, code=old, now=at)
    with pytest.raises(Refused):  # on the waiting list: no place to check in to
        services.attendance_check(person=c, shift=shift, code=codes.current(shift.pk, at).digits, now=at)
    with pytest.raises(Refused):  # the day before: not open yet
        day_before = at - dt.timedelta(days=1)
        services.attendance_check(
            person=a, shift=shift, code=codes.current(shift.pk, day_before).digits, now=day_before
        )
    assert not Attendance.objects.filter(shift=shift).exists()


def test_check_in_within_a_distance_compares_the_location_and_keeps_none(activity):
    from xinye.stations.models import Station
    from xinye.volunteering import codes

    station = Station.objects.filter(division__code__startswith=activity["community"].code[:6]).first() or (
        Station.objects.first()
    )
    leader_user = activity["leader_user"]
    scope = scope_for(leader_user)
    a = services.activity_create(
        scope=scope, actor=leader_user, title="驿站值守", kind="station_duty", team=activity["team"],
        station=station, check_in_radius_m=200,
    )  # fmt: skip
    shift = services.shift_add(
        scope=scope, actor=leader_user, activity=a, starts_at=_tomorrow(9), ends_at=_tomorrow(11), capacity=2
    )
    (p,) = _volunteers(activity, 1)
    _signed_up(shift, [p])
    at = shift.starts_at
    code = codes.current(shift.pk, at).digits
    with pytest.raises(Refused):  # no location given
        services.attendance_check(person=p, shift=shift, code=code, now=at)
    with pytest.raises(Refused):  # about 1.1 km away
        services.attendance_check(person=p, shift=shift, code=code, lat=station.lat + 0.01, lon=station.lon, now=at)
    att, action = services.attendance_check(
        person=p, shift=shift, code=code, lat=station.lat + 0.001, lon=station.lon, now=at
    )
    assert action == "in"
    stored = {f.name for f in Attendance._meta.get_fields()} | {f.name for f in Attendance.history.model._meta.fields}
    assert not {n for n in stored if "lat" in n or "lon" in n or "location" in n}


def test_a_member_who_served_is_in_touch_again(activity):
    from xinye.volunteering import codes

    shift = activity["shift"]
    member = _member(activity["community"])
    m = Membership.objects.filter(person=member, until__isnull=True).first()
    m.last_contact_on = timezone.localdate() - dt.timedelta(days=400)
    m.save()
    _signed_up(shift, [member])
    at = shift.starts_at
    services.attendance_check(person=member, shift=shift, code=codes.current(shift.pk, at).digits, now=at)
    m.refresh_from_db()
    assert m.last_contact_on < timezone.localdate()  # checking in alone is not serving
    out = shift.ends_at
    services.attendance_check(person=member, shift=shift, code=codes.current(shift.pk, out).digits, now=out)
    m.refresh_from_db()
    assert m.last_contact_on == timezone.localdate(out)


def test_a_leader_checks_someone_in_by_hand_with_a_reason(activity):
    shift, leader_user = activity["shift"], activity["leader_user"]
    (p,) = _volunteers(activity, 1)
    _signed_up(shift, [p])
    scope = scope_for(leader_user)
    now = shift.ends_at + dt.timedelta(minutes=30)
    with pytest.raises(Refused):
        services.attendance_manual(
            scope=scope, actor=leader_user, shift=shift, person=p, action="in", reason="", now=now
        )
    with pytest.raises(NotAllowed):
        services.attendance_manual(
            scope=scope_for(activity["org_b"]), actor=activity["org_b"], shift=shift, person=p, action="in",
            reason="手机没电", at=shift.starts_at, now=now,
        )  # fmt: skip
    att = services.attendance_manual(
        scope=scope, actor=leader_user, shift=shift, person=p, action="in", reason="手机没电", at=shift.starts_at,
        now=now,
    )  # fmt: skip
    assert att.check_in_method == "manual" and att.check_in_by == leader_user and att.check_in_reason == "手机没电"
    att = services.attendance_manual(
        scope=scope, actor=leader_user, shift=shift, person=p, action="out", reason="手机没电", at=shift.ends_at,
        now=now,
    )  # fmt: skip
    assert att.minutes == 120 and att.counted
    with pytest.raises(Refused):  # not in the future
        services.attendance_manual(
            scope=scope, actor=leader_user, shift=shift, person=p, action="out", reason="补录",
            at=now + dt.timedelta(hours=1), now=now,
        )  # fmt: skip


def test_the_qr_code_page_and_the_scan_check_a_volunteer_in_on_a_phone(activity, client):
    import re as _re

    from xinye.volunteering import codes

    shift = _running_shift(activity)
    (p,) = _volunteers(activity, 1)
    _signed_up(shift, [p])
    client.force_login(activity["org_b"])
    assert client.get(f"/volunteering/shifts/{shift.pk}/code/").status_code == 404
    client.force_login(activity["leader_user"])
    before = codes.current(shift.pk, timezone.now()).digits
    html = client.get(f"/volunteering/shifts/{shift.pk}/code/").content.decode()
    after = codes.current(shift.pk, timezone.now()).digits
    assert "<svg" in html and "data-code-refresh" in html
    fragment = client.get(f"/volunteering/shifts/{shift.pk}/code/?fragment=1").content.decode()
    assert "<svg" in fragment and "code-huge" in fragment and "<html" not in fragment
    shown = _re.search(r'class="code-huge"[^>]*>(\d{3}) (\d{3})<', html)
    assert shown.group(1) + shown.group(2) in (before, after)
    volunteer = _user("scanner", person=p)
    client.force_login(volunteer)
    # an old QR code opens the page but gives no ticket
    old = codes.token_for(shift.pk, codes.window_of(timezone.now()) - 5)
    html = client.get(f"/volunteering/shifts/{shift.pk}/check/?t={old}").content.decode()
    assert 'name="ticket"' not in html
    token = codes.current(shift.pk, timezone.now()).token
    html = client.get(f"/volunteering/shifts/{shift.pk}/check/?t={token}").content.decode()
    ticket = _re.search(r'name="ticket" value="([^"]+)"', html).group(1)
    r = client.post(f"/volunteering/shifts/{shift.pk}/check/", {"ticket": ticket})
    assert r.status_code == 302
    att = Attendance.objects.get(shift=shift, person=p)
    assert att.check_in_method == "qr"
    # the ticket is the volunteer's own: another person cannot use it
    (q,) = _volunteers(activity, 1)  # p has an account now: another worker
    _signed_up(shift, [q])
    client.force_login(_user("other-scanner", person=q))
    client.post(f"/volunteering/shifts/{shift.pk}/check/", {"ticket": ticket})
    assert not Attendance.objects.filter(shift=shift, person=q).exists()
    # the leader's page lists the attendance
    client.force_login(activity["leader_user"])
    html = client.get(f"/volunteering/shifts/{shift.pk}/").content.decode()
    assert p.name in html and "/by-hand/" in html


# ---------------------------------------------------------------------------------------------- pages


def test_every_volunteering_page_reads_chinese_for_a_leader_and_an_organizer(activity, client):
    from tests.test_i18n_pages import _data_words, english_words, visible_text

    shift = _running_shift(activity)
    people = _volunteers(activity, 2)
    _signed_up(shift, people)
    services.attendance_manual(
        scope=scope_for(activity["leader_user"]), actor=activity["leader_user"], shift=shift, person=people[0],
        action="in", reason="手机没电",
    )  # fmt: skip
    member = _member(activity["community"])
    post = services.vanguard_post_create(
        scope=scope_for(activity["org_a"]), actor=activity["org_a"], kind="vanguard", title="党员先锋岗",
        duty="路口安全", starts_on=timezone.localdate(), person=member, community=activity["community"],
    )  # fmt: skip
    team, a = activity["team"], activity["activity"]
    urls = [
        "/volunteering/", "/volunteering/teams/", "/volunteering/teams/new/", f"/volunteering/teams/{team.pk}/",
        "/volunteering/posts/", "/volunteering/posts/new/", f"/volunteering/posts/{post.pk}/",
        "/volunteering/activities/", "/volunteering/activities/new/", f"/volunteering/activities/{a.pk}/",
        f"/volunteering/shifts/{shift.pk}/", f"/volunteering/shifts/{activity['shift'].pk}/",
        f"/volunteering/shifts/{shift.pk}/code/", f"/volunteering/shifts/{shift.pk}/check/",
        f"/volunteering/teams/{team.pk}/calendar/", "/volunteering/calendar/",
    ]  # fmt: skip
    # a worker leading a team sets up no team and no post, and sees no member's post; an organizer without a
    # person on record has no shifts of their own
    not_theirs = {
        (activity["leader_user"], "/volunteering/teams/new/"),
        (activity["leader_user"], "/volunteering/posts/new/"),
        (activity["leader_user"], f"/volunteering/posts/{post.pk}/"),
        (activity["org_a"], "/volunteering/calendar/"),
    }
    data_words = _data_words() | {u.username.lower() for u in User.objects.all()}
    client.cookies["django_language"] = "zh-hans"
    found = {}
    for user in (activity["leader_user"], activity["org_a"]):
        client.force_login(user)
        for url in urls:
            r = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            if (user, url) in not_theirs:
                assert r.status_code == 404, url
                continue
            assert r.status_code == 200, (user.username, url)
            bad = english_words(visible_text(r.content.decode()), data_words)
            if bad:
                found[(user.username, url)] = bad
    assert found == {}


def test_a_person_who_withdrew_consent_has_no_feed_and_joins_nothing(activity, client):
    (p,) = _volunteers(activity, 1)
    token = services.feed_create(actor=None, person=p)
    assert client.get(f"/volunteering/calendar/{token}.ics").status_code == 200
    p.consent_withdrawn_at = timezone.now()
    p.save(update_fields=["consent_withdrawn_at"])
    assert client.get(f"/volunteering/calendar/{token}.ics").status_code == 404
    with pytest.raises(Refused):
        services.team_join_request(person=p, team=activity["team"])
    with pytest.raises(Refused):
        services.signup_create(person=p, shift=activity["shift"])


def test_the_remind_command_sends_the_reminders_due_once(activity, sms_outbox):
    from io import StringIO

    from django.core.management import call_command

    shift = activity["shift"]
    shift.starts_at = timezone.now() + dt.timedelta(hours=2)
    shift.ends_at = shift.starts_at + dt.timedelta(hours=2)
    shift.save()
    (p,) = _volunteers(activity, 1)
    services.signup_create(person=p, shift=shift)
    out = StringIO()
    call_command("volunteering", "remind", stdout=out)
    assert out.getvalue().strip() == "1 reminder(s) sent" and [x for x, _t in sms_outbox] == [p.phone]
    out = StringIO()
    call_command("volunteering", "remind", stdout=out)
    assert out.getvalue().strip() == "0 reminder(s) sent"


def test_a_new_activity_starts_with_a_check_in_distance(activity, client, settings):
    """A photographed check-in code works only near the place unless the organizer clears the distance
    (security.md); XINYE_CHECK_IN_RADIUS_M=0 starts with none."""
    client.force_login(activity["leader_user"])
    page = client.get("/volunteering/activities/new/").content.decode()
    assert 'name="radius" min="10" max="5000" value="500"' in page
    settings.XINYE_CHECK_IN_RADIUS_M = 0
    page = client.get("/volunteering/activities/new/").content.decode()
    assert 'name="radius" min="10" max="5000" value=""' in page
