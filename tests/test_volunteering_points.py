"""Volunteering (issue 14, items 4-5): recorded and awarded hours and their review, points at a rate with a yearly
expiry, redemption at a station that never overspends (two threads), the certificate (page and PDF) and the
export for the national volunteer information system, and who sees and does what."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests import test_volunteering as base
from tests.test_volunteering import _signed_up, _user, _volunteers
from xinye.accounts import policy
from xinye.accounts.models import RoleKind
from xinye.accounts.scope import scope_for
from xinye.people.models import Membership, Person
from xinye.stations.models import Station
from xinye.volunteering import codes, exports, hours, passes, selectors, services
from xinye.volunteering.models import HoursRecord, HoursStatus, PointsBalance, PointsEntry
from xinye.volunteering.services import NotAllowed, Refused

pytestmark = pytest.mark.django_db
User = get_user_model()
#: the fixtures of items 1-3: a team of a community of district A led by a worker, and its activity with a shift
place = base.place
activity = base.activity


# ---------------------------------------------------------------------------------------------- helpers


def _served(activity, person, *, minutes: int = 120, shift=None, reason: str = "手机没电"):
    """Given `person` signed up for the shift (default: the activity's, tomorrow 09:00-11:00), checked in at its
    start and out `minutes` later by the team's leader: the attendance and its recorded hours."""
    shift = shift or activity["shift"]
    leader = activity["leader_user"]
    _signed_up(shift, [person])
    scope = scope_for(leader)
    now = shift.ends_at + dt.timedelta(minutes=30)
    services.attendance_manual(
        scope=scope, actor=leader, shift=shift, person=person, action="in", reason=reason, at=shift.starts_at,
        now=now,
    )  # fmt: skip
    att = services.attendance_manual(
        scope=scope, actor=leader, shift=shift, person=person, action="out", reason=reason,
        at=shift.starts_at + dt.timedelta(minutes=minutes), now=now,
    )  # fmt: skip
    return att, HoursRecord.objects.filter(attendance=att).first()


def _another_shift(activity, days: int):
    leader = activity["leader_user"]
    start = activity["shift"].starts_at + dt.timedelta(days=days)
    return services.shift_add(
        scope=scope_for(leader), actor=leader, activity=activity["activity"], starts_at=start,
        ends_at=start + dt.timedelta(hours=2), capacity=10,
    )  # fmt: skip


def _approve(activity, rec, *, now=None):
    org_a = activity["org_a"]
    return hours.hours_review(scope=scope_for(org_a), actor=org_a, record=rec, approve=True, now=now)


def _ledger_sum(person) -> int:
    return sum(PointsEntry.objects.filter(person=person).values_list("points", flat=True))


def _aware(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h, 0))  # noqa: DTZ001 - made aware in local time


def _pdf_streams(pdf: bytes) -> list[bytes]:
    """The PDF's streams, inflated where they are compressed (fonts and text maps hide inside them)."""
    import re
    import zlib

    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return out


def _operator_and_stations():
    """The demo's station operator, one of their stations, and a station of another operator."""
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.get(username="operator")
    names = scope_for(operator).operator_names
    own = Station.objects.filter(operator_name__in=names).order_by("pk").first()
    other = Station.objects.exclude(operator_name__in=names).exclude(operator_company__isnull=False).first()
    other = other or Station.objects.exclude(operator_name__in=names).first()
    return operator, own, other


# ---------------------------------------------------------------------------------------------- recorded hours


def test_recorded_hours_follow_the_attendance_until_they_are_reviewed(activity):
    (p,) = _volunteers(activity, 1)
    att, rec = _served(activity, p, minutes=50)
    assert rec is None  # 50 of 120 minutes: under the share that counts, so nothing to review
    leader = activity["leader_user"]
    shift = activity["shift"]
    now = shift.ends_at + dt.timedelta(minutes=30)
    att = services.attendance_manual(
        scope=scope_for(leader), actor=leader, shift=shift, person=p, action="out", reason="补录签退",
        at=shift.starts_at + dt.timedelta(minutes=100), now=now,
    )  # fmt: skip
    rec = HoursRecord.objects.get(attendance=att)
    assert (rec.kind, rec.status, rec.minutes) == ("recorded", "pending", 100)
    assert (rec.starts_at, rec.ends_at) == (shift.starts_at, shift.starts_at + dt.timedelta(minutes=100))
    # while pending it follows the attendance
    services.attendance_manual(
        scope=scope_for(leader), actor=leader, shift=shift, person=p, action="out", reason="补录签退",
        at=shift.ends_at, now=now,
    )  # fmt: skip
    rec.refresh_from_db()
    assert rec.minutes == 120
    _approve(activity, rec)
    # once reviewed, the attendance cannot be changed by hand any more (award hours instead)
    with pytest.raises(Refused):
        services.attendance_manual(
            scope=scope_for(leader), actor=leader, shift=shift, person=p, action="out", reason="再改",
            at=shift.starts_at + dt.timedelta(minutes=70), now=now,
        )  # fmt: skip
    rec.refresh_from_db()
    assert rec.minutes == 120 and rec.status == "approved"


def test_hours_checked_out_by_code_wait_for_review(activity):
    shift = activity["shift"]
    (p,) = _volunteers(activity, 1)
    _signed_up(shift, [p])
    for at in (shift.starts_at, shift.ends_at - dt.timedelta(minutes=5)):
        services.attendance_check(person=p, shift=shift, code=codes.current(shift.pk, at).digits, now=at)
    rec = HoursRecord.objects.get(person=p)
    assert (rec.kind, rec.status, rec.minutes) == ("recorded", "pending", 115)


def test_review_states_say_who_and_when_and_a_decision_is_taken_once(activity):
    a, b = _volunteers(activity, 2)
    _att, rec_a = _served(activity, a)
    _att, rec_b = _served(activity, b)
    leader = activity["org_a"]  # the team's leader checked them in by hand: the district's organizer reviews
    scope = scope_for(leader)
    assert {r.pk for r in selectors.hours_to_review(scope=scope)} >= {rec_a.pk, rec_b.pk}
    when = timezone.now()
    hours.hours_review(scope=scope, actor=leader, record=rec_a, approve=True, now=when)
    rec_a.refresh_from_db()
    assert (rec_a.status, rec_a.reviewed_by, rec_a.reviewed_at) == ("approved", leader, when)
    with pytest.raises(Refused):  # once
        hours.hours_review(scope=scope, actor=leader, record=rec_a, approve=False, note="不对")
    with pytest.raises(Refused):  # declining says why
        hours.hours_review(scope=scope, actor=leader, record=rec_b, approve=False, note="")
    hours.hours_review(scope=scope, actor=leader, record=rec_b, approve=False, note="当天未到岗")
    rec_b.refresh_from_db()
    assert rec_b.status == "declined" and rec_b.review_note == "当天未到岗"
    # both steps are in history
    assert [h.status for h in rec_a.history.order_by("history_date")] == ["pending", "approved"]
    assert rec_a.pk not in {r.pk for r in selectors.hours_to_review(scope=scope)}
    with pytest.raises(IntegrityError), transaction.atomic():  # a decision without a time: the database refuses
        HoursRecord.objects.filter(pk=rec_b.pk).update(reviewed_at=None)


def test_nobody_approves_their_own_hours(activity):
    leader_person, leader = activity["leader"], activity["leader_user"]
    _att, rec = _served(activity, leader_person)
    assert not policy.may_review_hours(scope_for(leader), rec, leader)
    with pytest.raises(NotAllowed):
        hours.hours_review(scope=scope_for(leader), actor=leader, record=rec, approve=True)
    assert rec.pk not in {r.pk for r in selectors.hours_to_review(scope=scope_for(leader))}
    _approve(activity, rec)  # the district's organizer does
    rec.refresh_from_db()
    assert rec.status == HoursStatus.APPROVED


# ---------------------------------------------------------------------------------------------- awarded hours


def test_awarded_hours_need_a_reason_are_kept_apart_and_reviewed_by_someone_else(activity, settings):
    settings.XINYE_POINTS_PER_HOUR = 10
    (p,) = _volunteers(activity, 1)
    _att, recorded = _served(activity, p)  # 09:00-11:00
    leader, org_a = activity["leader_user"], activity["org_a"]
    shift = activity["shift"]
    now = shift.ends_at + dt.timedelta(hours=1)
    award = dict(scope=scope_for(leader), actor=leader, activity=activity["activity"], person=p, now=now)
    before = shift.starts_at - dt.timedelta(minutes=45)
    with pytest.raises(Refused):  # no reason
        hours.hours_award(**award, starts_at=before, ends_at=shift.starts_at, reason=" ")
    with pytest.raises(Refused):  # overlaps the recorded hours
        hours.hours_award(**award, starts_at=before, ends_at=shift.starts_at + dt.timedelta(minutes=10), reason="布置")
    with pytest.raises(Refused):  # not in the future
        hours.hours_award(**award, starts_at=now, ends_at=now + dt.timedelta(hours=1), reason="布置")
    (stranger,) = [x for x in _volunteers(activity, 3) if x.pk != p.pk][-1:]
    with pytest.raises(Refused):  # not a volunteer of this activity
        hours.hours_award(**{**award, "person": stranger}, starts_at=before, ends_at=shift.starts_at, reason="布置")
    with pytest.raises(NotAllowed):  # an organizer of another district
        hours.hours_award(**{**award, "scope": scope_for(activity["org_b"])}, starts_at=before,
                          ends_at=shift.starts_at, reason="布置")  # fmt: skip
    rec = hours.hours_award(**award, starts_at=before, ends_at=shift.starts_at, reason="提前布置路口")
    assert (rec.kind, rec.status, rec.minutes, rec.created_by) == ("awarded", "pending", 45, leader)
    # whoever awarded them does not approve them; another person who runs the activity does
    assert not policy.may_review_hours(scope_for(leader), rec, leader)
    with pytest.raises(NotAllowed):
        hours.hours_review(scope=scope_for(leader), actor=leader, record=rec, approve=True)
    hours.hours_review(scope=scope_for(org_a), actor=org_a, record=rec, approve=True)
    hours.hours_review(scope=scope_for(org_a), actor=org_a, record=recorded, approve=True)
    # recorded hours earn points, awarded hours do not
    assert hours.points_balance(p.pk) == 20 == _ledger_sum(p)
    totals = selectors.hours_totals(selectors.hours_of_person(person_id=p.pk))
    assert (totals["approved_recorded"], totals["approved_awarded"], totals["approved"]) == (120, 45, 165)


# ---------------------------------------------------------------------------------------------- points


def test_approved_recorded_hours_earn_points_at_the_configured_rate_once(activity, settings):
    a, b = _volunteers(activity, 2)
    settings.XINYE_POINTS_PER_HOUR = 10
    _att, rec = _served(activity, a, minutes=108)
    _approve(activity, rec)
    assert hours.points_balance(a.pk) == 18  # 108 minutes at 10 an hour, rounded down
    earn = PointsEntry.objects.get(person=a)
    assert (earn.kind, earn.points, earn.hours_id, earn.year) == ("earn", 18, rec.pk, timezone.localdate().year)
    with pytest.raises(IntegrityError), transaction.atomic():  # points are earned once per record
        PointsEntry.objects.create(person=a, kind="earn", points=18, hours=rec, created_at=timezone.now())
    settings.XINYE_POINTS_PER_HOUR = 25
    _att, rec = _served(activity, b, minutes=90)
    _approve(activity, rec)
    assert hours.points_balance(b.pk) == 37  # 90 minutes at 25 an hour
    # declined hours earn nothing
    (c,) = [x for x in _volunteers(activity, 3) if x.pk not in (a.pk, b.pk)]
    _att, rec = _served(activity, c)
    org_a = activity["org_a"]
    hours.hours_review(scope=scope_for(org_a), actor=org_a, record=rec, approve=False, note="重复记录")
    assert hours.points_balance(c.pk) == 0 and not PointsEntry.objects.filter(person=c).exists()


def test_the_points_setting_is_validated_when_the_process_starts():
    import os
    import subprocess
    import sys

    for name, value in (("XINYE_POINTS_PER_HOUR", "1001"), ("XINYE_POINTS_PER_HOUR", "-1"),
                        ("XINYE_POINTS_PER_HOUR", "ten"), ("XINYE_POINTS_EXPIRE_YEARS", "11")):  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-c", "import xinye.config.settings"],
            env=os.environ | {name: value}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode != 0 and name in out.stderr, (name, value)


def test_points_expire_at_the_end_of_the_years_after_oldest_first(activity, settings):
    settings.XINYE_POINTS_PER_HOUR = 10
    settings.XINYE_POINTS_EXPIRE_YEARS = 1
    (p,) = _volunteers(activity, 1)
    operator, station, _other = _operator_and_stations()
    # 20 points credited in 2024, 20 in 2025; 15 redeemed in 2025 (from 2024's, the oldest)
    _att, rec = _served(activity, p)
    _approve(activity, rec, now=_aware(2024, 6, 1))
    _att, rec = _served(activity, p, shift=_another_shift(activity, 1))
    _approve(activity, rec, now=_aware(2025, 6, 1))
    at = _aware(2025, 7, 1)
    hours.points_redeem(
        scope=scope_for(operator), actor=operator, station=station, code=passes.current(p.pk, at).token, points=15,
        now=at,
    )  # fmt: skip
    assert hours.points_balance(p.pk) == 25
    assert hours.points_expire(today=dt.date(2025, 12, 31)) == 0  # 2024's points are good until the end of 2025
    assert hours.points_expiring(p.pk, today=dt.date(2025, 3, 1)) == (5, 2025)
    assert hours.points_expire(today=dt.date(2026, 1, 1)) == 5  # what is left of 2024's
    assert hours.points_expire(today=dt.date(2026, 1, 2)) == 0  # once
    assert hours.points_balance(p.pk) == 20 == _ledger_sum(p)
    assert hours.points_expiring(p.pk, today=dt.date(2026, 3, 1)) == (20, 2026)
    assert hours.points_expire(today=dt.date(2027, 1, 1)) == 20
    assert hours.points_balance(p.pk) == 0 == _ledger_sum(p)
    assert list(PointsEntry.objects.filter(person=p, kind="expire").order_by("year").values_list("year", "points")) == [
        (2024, -5),
        (2025, -20),
    ]
    settings.XINYE_POINTS_EXPIRE_YEARS = 0  # off: nothing expires
    assert hours.points_expire(today=dt.date(2040, 1, 1)) == 0 and hours.points_expiring(p.pk) is None


def test_the_balance_never_goes_negative(activity, settings):
    settings.XINYE_POINTS_PER_HOUR = 10
    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    _approve(activity, rec)
    operator, station, _other = _operator_and_stations()
    scope = scope_for(operator)
    code = passes.current(p.pk, timezone.now()).short_code
    with pytest.raises(Refused) as err:
        hours.points_redeem(scope=scope, actor=operator, station=station, code=code, points=21)
    assert "20" in err.value.message
    with pytest.raises(Refused):
        hours.points_redeem(scope=scope, actor=operator, station=station, code=code, points=0)
    assert hours.points_balance(p.pk) == 20 and not PointsEntry.objects.filter(kind="redeem", person=p).exists()
    entry = hours.points_redeem(scope=scope, actor=operator, station=station, code=code, points=20, note="矿泉水")
    assert (entry.points, entry.station_name, entry.created_by) == (-20, station.name, operator)
    assert hours.points_balance(p.pk) == 0 == _ledger_sum(p)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses a negative balance too
        PointsBalance.objects.filter(person=p).update(balance=-1)


def test_a_code_redeems_once_and_an_old_or_forged_code_spends_nothing(activity, settings):
    settings.XINYE_POINTS_PER_HOUR = 10
    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    _approve(activity, rec)
    operator, station, _other = _operator_and_stations()
    redeem = dict(scope=scope_for(operator), actor=operator, station=station, points=5)
    now = timezone.now()
    code = passes.current(p.pk, now)
    hours.points_redeem(**redeem, code=code.token, now=now)
    with pytest.raises(Refused):  # the same code again (the form sent twice): once only
        hours.points_redeem(**redeem, code=code.short_code, now=now)
    old = passes.current(p.pk, now - dt.timedelta(minutes=10))
    for bad in (old.token, old.short_code, f"{p.pk}-000000", f"{p.pk}.{code.window}.AAAAAAAAAAAAAAAAAAAAAA", "", "x"):
        with pytest.raises(Refused):
            hours.points_redeem(**redeem, code=bad, now=now)
    # the code of the window just before is still taken (shown at the turn of a window)
    later = now + dt.timedelta(seconds=passes.WINDOW_SECONDS)
    hours.points_redeem(**redeem, code=passes.current(p.pk, later).short_code, now=later)
    assert passes.read(code.short_code, later + dt.timedelta(seconds=passes.WINDOW_SECONDS)) is None
    assert hours.points_balance(p.pk) == 10 == _ledger_sum(p)


def test_an_operator_of_another_station_cannot_redeem(activity, settings, client):
    settings.XINYE_POINTS_PER_HOUR = 10
    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    _approve(activity, rec)
    operator, own, other = _operator_and_stations()
    assert own is not None and other is not None and other.operator_name != own.operator_name
    scope = scope_for(operator)
    assert policy.may_redeem_at(scope, own) and not policy.may_redeem_at(scope, other)
    code = passes.current(p.pk, timezone.now()).token
    with pytest.raises(NotAllowed):
        hours.points_redeem(scope=scope, actor=operator, station=other, code=code, points=5)
    # organizers and administrators hand out nothing at stations
    with pytest.raises(NotAllowed):
        org_a = activity["org_a"]
        hours.points_redeem(scope=scope_for(org_a), actor=org_a, station=own, code=code, points=5)
    client.force_login(operator)
    r = client.post("/volunteering/redeem/", {"station": other.pk, "code": code, "points": "5"})
    assert r.status_code == 404
    client.force_login(activity["org_a"])
    assert client.get(f"/volunteering/redeem/?t={code}").status_code == 404
    assert hours.points_balance(p.pk) == 20
    # the operator at their own station, from the scanned address
    client.force_login(operator)
    html = client.get(f"/volunteering/redeem/?t={code}").content.decode()
    assert p.name in html and 'name="code"' in html
    r = client.post("/volunteering/redeem/", {"station": own.pk, "code": code, "points": "5", "note": "<b>水</b>"})
    assert r.status_code == 302
    assert hours.points_balance(p.pk) == 15
    # the volunteer sees it on their page, escaped
    client.force_login(_user("points-volunteer", person=p))
    html = client.get("/volunteering/my-points/").content.decode()
    assert "&lt;b&gt;水&lt;/b&gt;" in html and own.name in html and "<svg" in html
    fragment = client.get("/volunteering/my-points/?fragment=1").content.decode()
    assert "<svg" in fragment and "<html" not in fragment


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_cannot_spend_the_same_points(settings):
    """Two threads, two connections, redeeming 60 of 100 points at once, 6 times: one succeeds, the other is
    refused, the balance is 40 and equals the ledger (on SQLite and on PostgreSQL)."""
    import threading

    from django.contrib.auth import get_user_model
    from django.db import connections

    from xinye.accounts.models import Role
    from xinye.organizations.models import Organization
    from xinye.places.models import Division, Level

    settings.XINYE_POINTS_PER_HOUR = 50
    User = get_user_model()
    county = Division.objects.create(code="449902", name="测试区", level=Level.COUNTY)
    community = Division.objects.create(code="449902001001", name="测试社区", level=Level.COMMUNITY, parent=county)
    org = Organization.objects.create(name="测试支部", kind="branch", anchor_kind="division", division=county)
    admin = User.objects.create_superuser("points-admin", password=None)
    reviewer = User.objects.create_superuser("points-reviewer", password=None)  # not who checked them in by hand
    operator = User.objects.create_user("points-operator", password=None)
    Role.objects.create(user=operator, kind=RoleKind.STATION_OPERATOR, operator_name="测试驿站运营方")
    station = Station.objects.create(
        name="测试驿站", kind="union", operator_name="测试驿站运营方", lat=22.5, lon=114.0, h3_cell=1,
        division=community,
    )  # fmt: skip
    a_scope, o_scope = scope_for(admin), scope_for(operator)
    team = services.team_create(scope=a_scope, actor=admin, name="并发积分队", organization=org)
    act = services.activity_create(
        scope=a_scope, actor=admin, title="并发积分", kind="training", team=team, community=community
    )
    base = timezone.now() - dt.timedelta(days=30)
    for trial in range(6):
        person = Person.objects.create(name=f"积分志愿者{trial}", occupation="courier")
        start = base + dt.timedelta(days=trial)
        shift = services.shift_add(
            scope=a_scope, actor=admin, activity=act, starts_at=start, ends_at=start + dt.timedelta(hours=2),
            capacity=1,
        )  # fmt: skip
        services.signup_create(person=person, shift=shift, now=start - dt.timedelta(hours=1))
        for action, at in (("in", start), ("out", shift.ends_at)):
            att = services.attendance_manual(
                scope=a_scope, actor=admin, shift=shift, person=person, action=action, reason="测试", at=at
            )
        rec = HoursRecord.objects.get(attendance=att)
        hours.hours_review(scope=scope_for(reviewer), actor=reviewer, record=rec, approve=True)
        assert hours.points_balance(person.pk) == 100
        now = timezone.now()
        # two codes the volunteer showed: this window's and the previous one's (both still taken)
        pair = [passes.current(person.pk, now).token, passes.current(person.pk, now - dt.timedelta(seconds=120)).token]
        barrier = threading.Barrier(2)
        done, refused, errors = [], [], []

        def redeem(code, barrier=barrier, done=done, refused=refused, errors=errors, now=now):
            try:
                barrier.wait()
                done.append(
                    hours.points_redeem(scope=o_scope, actor=operator, station=station, code=code, points=60, now=now)
                )
            except Refused as exc:
                refused.append(exc)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=redeem, args=(c,)) for c in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(done) == 1 and len(refused) == 1, trial
        assert hours.points_balance(person.pk) == 40 == _ledger_sum(person), trial


# ---------------------------------------------------------------------------------------------- scoping


def test_a_member_or_an_organizer_of_another_division_cannot_see_hours(activity, client):
    from xinye.organizations.models import Organization

    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    community_b = activity["community_b"]
    branch_b = Organization.objects.filter(division__code__startswith=community_b.code[:6]).first()
    member_b = Person.objects.filter(memberships__organization=branch_b, user__isnull=True).first()
    member_user = _user("member-b", kind=RoleKind.MEMBER, organization=branch_b, person=member_b)
    for user in (member_user, activity["org_b"]):
        scope = scope_for(user)
        assert not selectors.hours_list(scope=scope).filter(pk=rec.pk).exists()
        assert not selectors.hours_to_review(scope=scope).filter(pk=rec.pk).exists()
        assert not policy.may_review_hours(scope, rec, user)
        client.force_login(user)
        assert client.post(f"/volunteering/hours/{rec.pk}/decide/", {"decision": "approve"}).status_code == 404
        assert p.name not in client.get("/volunteering/hours/review/").content.decode()
        assert client.get(f"/volunteering/activities/{activity['activity'].pk}/hours.csv").status_code == 404
        assert client.get(f"/volunteering/teams/{activity['team'].pk}/hours.xlsx").status_code == 404
    rec.refresh_from_db()
    assert rec.status == "pending"
    # the volunteer sees their own, the organizer of the district and the team's leader see it
    assert selectors.hours_list(scope=scope_for(_user("own-hours", person=p))).filter(pk=rec.pk).exists()
    for user in (activity["org_a"], activity["leader_user"]):
        assert selectors.hours_list(scope=scope_for(user)).filter(pk=rec.pk).exists()
    assert Membership.objects.filter(person=member_b, organization=branch_b).exists()


# ---------------------------------------------------------------------------------------------- certificate


def test_the_certificate_page_is_in_chinese_and_the_pdf_embeds_a_chinese_font(activity, client, settings):
    from tests.test_i18n_pages import _data_words, english_words, visible_text

    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    _approve(activity, rec)
    leader = activity["leader_user"]
    shift = activity["shift"]
    awarded = hours.hours_award(
        scope=scope_for(leader), actor=leader, activity=activity["activity"], person=p,
        starts_at=shift.ends_at, ends_at=shift.ends_at + dt.timedelta(minutes=30), reason="收尾",
        now=shift.ends_at + dt.timedelta(hours=1),
    )  # fmt: skip
    _approve(activity, awarded)
    user = _user("certificate-volunteer", person=p)
    client.force_login(user)
    client.cookies["django_language"] = "en"  # an official document: Chinese whatever the page's language
    r = client.get("/volunteering/my-hours/certificate/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'lang="zh-Hans"' in html and "志愿服务记录证明" in html
    assert activity["team"].name in html and p.name in html and "2.50" in html  # 2 h recorded + 0.5 h awarded
    assert p.phone not in html and p.masked_phone in html
    data_words = _data_words() | {"pdf"} | {u.username.lower() for u in User.objects.all()}
    assert english_words(visible_text(html), data_words) == set()
    r = client.get("/volunteering/my-hours/certificate.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    streams = _pdf_streams(r.content)
    assert any(b"WenQuanYi" in s for s in streams)  # the CJK font is embedded: no empty boxes
    assert any(b"<5fd7>" in s.lower() for s in streams)  # its text maps back to Chinese: 志 (U+5FD7) of 志愿服务
    # someone without a person on record has no certificate
    client.force_login(activity["org_a"])
    assert client.get("/volunteering/my-hours/certificate/").status_code == 404
    assert client.get("/volunteering/my-hours/certificate.pdf").status_code == 404


# ---------------------------------------------------------------------------------------------- export


def test_the_export_has_the_documented_columns_and_formula_safe_cells(activity, client, settings):
    from openpyxl import load_workbook

    from tests.test_exports_inert import assert_inert_csv, assert_inert_xlsx

    (p,) = _volunteers(activity, 1)
    Person.objects.filter(pk=p.pk).update(name='=HYPERLINK("http://x","y")')
    p.refresh_from_db()
    a = activity["activity"]
    type(a).objects.filter(pk=a.pk).update(title="@SUM(A1) 巡查")
    _att, rec = _served(activity, p)
    _approve(activity, rec)
    (q,) = [x for x in _volunteers(activity, 2) if x.pk != p.pk]
    _att, pending = _served(activity, q)  # not approved: not exported
    headers = [h for _k, h in exports.COLUMNS]
    assert headers == [
        "姓名", "证件类型", "证件号码", "服务日期", "开始时间", "结束时间", "服务时长（小时）", "活动名称", "记录组织",
    ]  # fmt: skip
    # the team's leader (a worker) exports; the phone is masked for them
    client.force_login(activity["leader_user"])
    r = client.get(f"/volunteering/teams/{activity['team'].pk}/hours.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    fields = assert_inert_csv(r.content)
    assert fields[: len(headers)] == headers and len(fields) == 2 * len(headers)
    row = fields[len(headers) :]
    start = timezone.localtime(rec.starts_at)
    assert row[0] == "'" + p.name and row[1] == "手机号码" and row[2] == p.masked_phone
    assert row[3:7] == [start.date().isoformat(), f"{start:%H:%M}", f"{timezone.localtime(rec.ends_at):%H:%M}", "2.0"]
    assert row[7] == "'@SUM(A1) 巡查" and row[8] == activity["team"].name
    # the district's organizer sees full phones (audited) and gets the same rows as .xlsx
    client.force_login(activity["org_a"])
    r = client.get(f"/volunteering/activities/{a.pk}/hours.xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    texts = assert_inert_xlsx(r.content)
    assert p.name in texts and p.phone in texts and q.name not in texts
    ws = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in ws[1]] == headers and ws.max_row == 2 and ws["G2"].value == 2
    assert ws.title == "志愿服务时长"
    from xinye.accounts.models import AuditEvent

    assert AuditEvent.objects.filter(user=activity["org_a"], field="full_phone").exists()
    assert pending.status == "pending"


# ---------------------------------------------------------------------------------------------- pages


def test_every_hours_and_points_page_reads_chinese_and_answers_on_a_phone(activity, client, settings):
    from tests.test_i18n_pages import _data_words, english_words, visible_text

    settings.XINYE_POINTS_PER_HOUR = 10
    settings.XINYE_POINTS_EXPIRE_YEARS = 1
    a, b = _volunteers(activity, 2)
    _att, rec = _served(activity, a)
    _approve(activity, rec)
    _served(activity, b)  # pending: on the review page
    volunteer = _user("page-volunteer", person=a)
    operator, station, _other = _operator_and_stations()
    act = activity["activity"]
    pages = {
        volunteer: ["/volunteering/", "/volunteering/my-hours/", "/volunteering/my-points/",
                    "/volunteering/my-hours/certificate/"],
        activity["leader_user"]: ["/volunteering/", "/volunteering/hours/review/",
                                  f"/volunteering/activities/{act.pk}/award-hours/",
                                  f"/volunteering/activities/{act.pk}/", f"/volunteering/teams/{activity['team'].pk}/"],
        operator: ["/volunteering/", "/volunteering/redeem/",
                   f"/volunteering/redeem/?t={passes.current(a.pk, timezone.now()).token}"],
    }  # fmt: skip
    data_words = _data_words() | {"pdf", "csv", "xlsx"} | {u.username.lower() for u in User.objects.all()}
    client.cookies["django_language"] = "zh-hans"
    found = {}
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            r = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert r.status_code == 200, (user.username, url)
            html = r.content.decode()
            assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
            bad = english_words(visible_text(html), data_words)
            if bad:
                found[(user.username, url)] = bad
    assert found == {}
    # the award form works on the page
    client.force_login(activity["leader_user"])
    shift = activity["shift"]
    day = f"{timezone.localtime(shift.starts_at):%Y-%m-%d}"
    r = client.post(
        f"/volunteering/activities/{act.pk}/award-hours/",
        {"person": a.pk, "day": day, "start": "08:15", "end": "09:00", "reason": "提前布置"},
    )
    if shift.starts_at > timezone.now():  # tomorrow's shift: hours in the future are refused on the page
        assert r.status_code == 200 and "提前布置" in r.content.decode()
        assert not HoursRecord.objects.filter(kind="awarded", person=a).exists()
    # a volunteer without the right to review gets 404 on a decision
    client.force_login(volunteer)
    pending = HoursRecord.objects.get(person=b)
    assert client.post(f"/volunteering/hours/{pending.pk}/decide/", {"decision": "approve"}).status_code == 404
    client.force_login(activity["org_a"])  # the leader checked them in by hand: someone else reviews
    r = client.post(f"/volunteering/hours/{pending.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.reviewed_by == activity["org_a"]


def test_the_overview_counts_approved_hours_and_points_in_the_viewers_area(activity, settings, client):
    from xinye.volunteering.overview import overview

    settings.XINYE_POINTS_PER_HOUR = 10
    a, b = _volunteers(activity, 2)
    _att, rec = _served(activity, a)
    _served(activity, b)  # stays pending: not approved hours
    org_a, org_b = activity["org_a"], activity["org_b"]
    before_a, before_b = overview(scope=scope_for(org_a)), overview(scope=scope_for(org_b))
    _approve(activity, rec)
    after_a, after_b = overview(scope=scope_for(org_a)), overview(scope=scope_for(org_b))
    assert round(after_a["approved_hours"] - before_a["approved_hours"], 1) == 2.0
    assert after_a["points_earned"] - before_a["points_earned"] == 20
    for key in ("approved_hours", "points_earned"):  # another district's organizer: nothing of ours
        assert after_b[key] == before_b[key]
    client.force_login(org_a)
    html = client.get("/volunteering/overview/").content.decode()
    assert 'data-count="approved-hours"' in html and 'data-count="points-earned"' in html


def test_the_expire_points_command_runs_the_expiry(activity, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.XINYE_POINTS_PER_HOUR = 10
    settings.XINYE_POINTS_EXPIRE_YEARS = 1
    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    _approve(activity, rec, now=timezone.now() - dt.timedelta(days=800))  # credited two or three years ago
    out = StringIO()
    call_command("volunteering", "expire-points", stdout=out)
    assert out.getvalue().strip() == "20 point(s) expired" and hours.points_balance(p.pk) == 0
    out = StringIO()
    call_command("volunteering", "expire-points", stdout=out)
    assert out.getvalue().strip() == "0 point(s) expired"
    from xinye.common.schedules import planned

    assert "xinye.volunteering.hours.points_expire" in {x.func for x in planned()}
