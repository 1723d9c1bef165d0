"""Regression tests of the outsider review of 2026-12-04 (docs/security.md, "Outsider review, 2026-12-04"): each
test names the finding it guards and fails on the code before its fix."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model

from tests import test_volunteering as volunteering
from xinye.accounts import policy
from xinye.accounts.scope import scope_for
from xinye.organizations.models import Organization
from xinye.people.models import Membership, Person

pytestmark = pytest.mark.django_db

#: the wrong-code budget's message, in either language
TOO_MANY = "Too many wrong codes|输错的码太多"
#: the operator's limit of typed points short codes (volunteering.hours.CodeLimited)
TOO_MANY_TYPED = "Too many wrong short codes|输错的短码次数过多"

place = volunteering.place  # fixtures
activity = volunteering.activity


def _staff_scope():
    return scope_for(get_user_model().objects.get(username="staff"))


def _hidden_member_and_non_member(scope):
    """Two workers of the staff's own companies (the staff sees them), neither a member of an organization the
    staff sees; the first is made a member of an organization outside the staff's reach (a hidden membership)."""
    assert scope.staff_company_ids, "the demo's staff user sees workers of their companies"
    workers = list(
        Person.objects.filter(business_unit__company_id__in=scope.staff_company_ids, memberships__isnull=True)
        .exclude(work_community__isnull=True)
        .order_by("pk")[:2]
    )
    assert len(workers) == 2
    elsewhere = (
        Organization.objects.exclude(pk__in=scope.org_ids)
        .filter(kind__in=("branch", "joint_branch"), dissolved_on__isnull=True)
        .order_by("pk")
        .first()
    )
    Membership.objects.create(person=workers[0], organization=elsewhere, status="formal", since=date(2020, 1, 1))
    assert policy.party_status_for(scope, workers[0]) is None  # the staff may not see it ...
    assert policy.party_status_for(scope, workers[1]) is None  # ... nor that the other has none
    return workers


# ---------------------------------------------------------------- finding 1: party-status oracles in writes


def test_recruitment_start_does_not_tell_staff_who_is_a_member(login, demo):
    scope = _staff_scope()
    member, non_member = _hidden_member_and_non_member(scope)
    branch = Organization.objects.filter(pk__in=scope.org_ids, kind="branch").first()
    c = login("staff")
    answers = []
    for person in (member, non_member):
        r = c.post(f"/people/{person.pk}/recruitment/", {"organization": branch.pk, "applied_on": "2026-11-02"})
        answers.append(r.status_code)
    # before the fix: the member's answer was "… is a member already", the other's a recorded application
    assert answers == [404, 404]
    assert not non_member.recruitments.exists()


def test_floating_register_page_does_not_tell_staff_who_is_a_member(login, demo):
    scope = _staff_scope()
    member, non_member = _hidden_member_and_non_member(scope)
    c = login("staff")
    got = [c.get(f"/people/{p.pk}/floating/") for p in (member, non_member)]
    # before the fix: 200 for both, the member's page saying "This person already has a current membership"
    assert [r.status_code for r in got] == [404, 404]
    r = c.post(f"/people/{member.pk}/floating/", {"since": "2026-01-01", "home_organization": "x"})
    assert r.status_code == 404


def test_outstanding_member_nomination_refuses_a_hidden_member_like_a_non_member(demo):
    from xinye.volunteering.recognition import Refused, commendation_nominate

    scope = _staff_scope()
    member, non_member = _hidden_member_and_non_member(scope)
    org = Organization.objects.get(pk=min(scope.staff_org_ids))
    messages = []
    for person in (member, non_member):
        with pytest.raises(Refused) as exc:
            commendation_nominate(
                scope=scope,
                user=get_user_model().objects.get(username="staff"),
                kind="outstanding_member",
                title="t",
                year=2026,
                organization=org,
                reason="",  # refused later anyway: the member check must answer first, and alike
                person=person,
            )
        messages.append(str(exc.value))
    assert messages[0] == messages[1]  # before the fix: "Say what they did." for the hidden member


def test_vanguard_post_refuses_a_hidden_member_like_a_non_member(demo):
    from xinye.volunteering.services import NotAllowed, Refused, vanguard_post_create

    scope = _staff_scope()
    member, non_member = _hidden_member_and_non_member(scope)
    outcomes = []
    for person in (member, non_member):
        try:
            vanguard_post_create(
                scope=scope,
                actor=get_user_model().objects.get(username="staff"),
                kind="vanguard",
                title="t",
                duty="d",
                starts_on=date(2026, 1, 1),
                ends_on=None,
                person=person,
                community=person.work_community,
            )
        except (Refused, NotAllowed) as exc:
            outcomes.append((type(exc).__name__, str(exc)))
        else:
            outcomes.append(("created", ""))
    assert outcomes[0] == outcomes[1]  # before the fix: NotAllowed (or created) for the member only


# ---------------------------------------------------------------- finding 2: a party consent tells party status


def test_party_consent_is_not_shown_where_party_status_is_not(login, demo):
    from django.utils import timezone

    from xinye.people.models import ConsentRecord
    from xinye.people.services import PARTY_PURPOSE, PARTY_SCOPE

    assert PARTY_PURPOSE in policy.PARTY_CONSENT_PURPOSES
    scope = _staff_scope()
    member, _other = _hidden_member_and_non_member(scope)
    ConsentRecord.objects.create(
        person=member,
        purpose=PARTY_PURPOSE,
        scope=PARTY_SCOPE,
        policy_version="1",
        channel="web",
        given_at=timezone.now(),
    )
    page = login("staff").get(f"/people/{member.pk}/").content.decode()
    assert 'data-party-status="hidden"' in page
    # before the fix: the consent's purpose and text ("that you are a Party member") were on the page
    assert PARTY_PURPOSE not in page and "Party member" not in page
    admin_page = login("admin").get(f"/people/{member.pk}/").content.decode()
    assert PARTY_PURPOSE in admin_page


# ---------------------------------------------------------------- finding 3: 6-digit codes could be guessed


def test_wrong_check_in_codes_are_limited_per_volunteer(activity, settings, monkeypatch):
    import datetime as dt

    from tests.test_volunteering import _signed_up, _volunteers
    from xinye.common import ratelimit
    from xinye.volunteering import codes, services
    from xinye.volunteering.models import Attendance

    settings.XINYE_RATES = {**settings.XINYE_RATES, "code_miss": "5/hour"}
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_000.0 + 60)  # away from a window's edge
    shift = activity["shift"]
    (p,) = _volunteers(activity, 1)
    _signed_up(shift, [p])
    at = shift.starts_at + dt.timedelta(minutes=1)
    right = codes.current(shift.pk, at).digits
    wrong = [g for g in (f"{n:06d}" for n in range(7)) if g != right][:5]
    for guess in wrong:
        with pytest.raises(services.Refused) as exc:
            services.attendance_check(person=p, shift=shift, code=guess, now=at)
        assert not re.search(TOO_MANY, exc.value.message)
    # over the budget: even the right code is refused until the window ends (before the fix: checked in)
    with pytest.raises(services.Refused, match=TOO_MANY):
        services.attendance_check(person=p, shift=shift, code=right, now=at)
    assert not Attendance.objects.filter(shift=shift, person=p).exists()


def test_wrong_points_codes_are_limited_per_operator(activity, settings, monkeypatch):
    from django.test import Client
    from django.utils import timezone

    from tests.test_volunteering import _volunteers
    from tests.test_volunteering_points import _operator_and_stations
    from xinye.common import ratelimit
    from xinye.volunteering import hours, passes
    from xinye.volunteering.services import Refused

    settings.XINYE_RATES = {**settings.XINYE_RATES, "points_code": "5/hour"}
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_000.0 + 60)
    (p,) = _volunteers(activity, 1)
    operator, station, _other = _operator_and_stations()
    now = timezone.now()
    right = passes.current(p.pk, now).short_code
    guesses = [g for g in (f"{p.pk}-{n:06d}" for n in range(7)) if g != right][:5]
    for guess in guesses:
        assert hours.pass_lookup(actor=operator, code=guess, now=now) is None
    with pytest.raises(Refused, match=TOO_MANY_TYPED):  # before the fix: the holder's name and balance
        hours.pass_lookup(actor=operator, code=right, now=now)
    c = Client()
    c.force_login(operator)
    page = c.get("/volunteering/redeem/", {"code": right, "station": station.pk}).content.decode()
    assert p.name not in page


# ---------------------------------------------------------------- finding 4: an operator role reaching further


def test_an_organizer_gives_an_operator_role_only_when_all_its_stations_are_theirs(demo):
    from xinye.accounts import users
    from xinye.stations.models import Station

    district = get_user_model().objects.get(username="district")
    scope = scope_for(district)
    (prefix,) = scope.division_prefixes
    inside = Station.objects.filter(division__code__startswith=prefix).order_by("pk").first()
    outside = Station.objects.exclude(division__code__startswith=prefix).exclude(division__isnull=True).first()
    Station.objects.filter(pk__in=[inside.pk, outside.pk]).update(operator_name="跨区运营方")
    # before the fix: allowed, and the new operator ran (and redeemed points at) the station in another district
    assert not policy.may_assign(scope, "station_operator", operator_name="跨区运营方")
    assert "跨区运营方" not in policy.operators_in_reach(scope)
    with pytest.raises(users.PermissionDenied):
        users.invite(
            scope,
            district,
            username="op-x",
            full_name="",
            email="",
            spec=users.RoleSpec("station_operator", operator_name="跨区运营方"),
        )
    Station.objects.filter(pk=outside.pk).update(operator_name="另一运营方")
    assert policy.may_assign(scope, "station_operator", operator_name="跨区运营方")


# ---------------------------------------------------------------- finding 5: a checked roster stayed on disk


def test_a_checked_roster_with_id_card_numbers_does_not_stay_on_disk(login, tmp_path, settings):
    import os
    import stat
    import time

    from xinye.common.schedules import planned
    from xinye.people import roster

    settings.XINYE_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    number = "11010519491231002X"  # GB 11643's example number
    assert roster.valid_id_card(number)
    path = tmp_path / "r.csv"
    path.write_text(f"姓名,手机号,职业,身份证号\n张测试,13900000071,快递员,{number}\n", encoding="utf-8")
    client = login("organizer")
    with path.open("rb") as fh:
        response = client.post("/people/import/", {"file": fh, "dry_run": "1"}, follow=True)
    assert response.context["result"]["ok"] and response.context["may_import"]
    (kept,) = list((tmp_path / "media" / "imports").iterdir())
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # the owner only
    assert number in kept.read_text(encoding="utf-8")
    # nobody imports it: two hours later it is gone (before the fix: kept for good), and cannot be imported
    old = time.time() - 2 * 3600 - 60
    os.utime(kept, (old, old))
    assert not roster.upload_fresh(kept)
    job = response.context["job"]
    assert client.post(f"/people/import/{job.pk}/import/").status_code == 404
    assert roster.uploads_sweep() == 1 and not kept.exists()
    assert "xinye.people.roster.uploads_sweep" in {p.func for p in planned()}


# ---------------------------------------------------------------- finding 6: hours entered by hand, approved alone


def test_a_leader_does_not_approve_hours_they_checked_in_by_hand(activity):
    import datetime as dt

    from tests.test_volunteering import _signed_up, _volunteers
    from xinye.volunteering import codes, hours, selectors, services
    from xinye.volunteering.models import HoursRecord

    leader, org_a = activity["leader_user"], activity["org_a"]
    shift = activity["shift"]
    by_hand, by_code = _volunteers(activity, 2)
    _signed_up(shift, [by_hand, by_code])
    now = shift.ends_at + dt.timedelta(minutes=30)
    for action, at in (("in", shift.starts_at), ("out", shift.ends_at)):
        services.attendance_manual(
            scope=scope_for(leader), actor=leader, shift=shift, person=by_hand, action=action, reason="没来", at=at,
            now=now,
        )  # fmt: skip
    for at in (shift.starts_at, shift.ends_at - dt.timedelta(minutes=5)):
        services.attendance_check(person=by_code, shift=shift, code=codes.current(shift.pk, at).digits, now=at)
    typed = HoursRecord.objects.get(person=by_hand)
    scanned = HoursRecord.objects.get(person=by_code)
    leader_list = {r.pk for r in selectors.hours_to_review(scope=scope_for(leader))}
    # before the fix: the leader who typed the times approved them (and the points they earn) alone
    assert not policy.may_review_hours(scope_for(leader), typed, leader) and typed.pk not in leader_list
    with pytest.raises(services.NotAllowed):
        hours.hours_review(scope=scope_for(leader), actor=leader, record=typed, approve=True)
    assert policy.may_review_hours(scope_for(leader), scanned, leader) and scanned.pk in leader_list
    assert typed.pk in {r.pk for r in selectors.hours_to_review(scope=scope_for(org_a))}
    hours.hours_review(scope=scope_for(org_a), actor=org_a, record=typed, approve=True)
