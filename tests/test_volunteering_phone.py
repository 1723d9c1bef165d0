"""Volunteering without an account (issue 14): a worker proves the phone with the one-time code of "My data" and
gets a volunteer session bound to their person, on volunteering pages only; and the per-operator limit on typed
points short codes at a station."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests import test_volunteering as base
from tests.test_volunteering import _user, _volunteers
from tests.test_volunteering_points import _approve, _operator_and_stations, _served
from xinye.accounts.models import Role
from xinye.accounts.scope import scope_for
from xinye.common import ratelimit
from xinye.people import rights, sms
from xinye.people.models import Person
from xinye.volunteering import codes, hours, passes, services
from xinye.volunteering.models import Attendance, Signup, TeamMembership
from xinye.volunteering.phone import REASON, SESSION_KEY

pytestmark = pytest.mark.django_db
place = base.place
activity = base.activity

PHONE = "13912340007"


@pytest.fixture(autouse=True)
def test_sender(settings):
    settings.XINYE_SMS_SENDER = "xinye.people.sms.LocmemSender"
    sms.outbox.clear()
    cache.clear()
    ratelimit.reset()
    yield
    sms.outbox.clear()
    ratelimit.reset()


@pytest.fixture
def worker(activity):
    """A worker of the team's district, without an account, whose phone is PHONE (nobody else's)."""
    (p,) = _volunteers(activity, 1)
    assert not Person.objects.filter(phone=PHONE).exists()
    p.phone = PHONE
    p.save(update_fields=["phone"])
    return p


def _code() -> str:
    assert len(sms.outbox) == 1, sms.outbox
    phone, text = sms.outbox.pop()
    assert phone == PHONE
    return re.search(r"\b(\d{6})\b", text).group(1)


def _prove(client, phone: str = PHONE, next_path: str = "/volunteering/"):
    r = client.post("/volunteering/phone/", {"phone": phone, "next": next_path})
    assert r.status_code == 302 and r["Location"] == "/volunteering/phone/code/"
    return client.post("/volunteering/phone/code/", {"code": _code()})


def test_a_worker_without_an_account_signs_up_cancels_and_checks_in_from_a_phone(client, activity, worker):
    shift = activity["shift"]
    # anyone without an account or a session is sent to prove their phone, and comes back where they were
    r = client.get(f"/volunteering/activities/{activity['activity'].pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/volunteering/phone/?next=%2Fvolunteering%2Factivities")
    page = client.get(r["Location"]).content.decode()
    assert "一次性" in page or "验证码" in page  # in Chinese (the default language)
    r = _prove(client, next_path=f"/volunteering/activities/{activity['activity'].pk}/")
    assert r.status_code == 302 and r["Location"] == f"/volunteering/activities/{activity['activity'].pk}/"
    held = client.session[SESSION_KEY]
    assert held["person"] == worker.pk and PHONE not in str(held)  # the phone only as a keyed hash
    # the activity (open to volunteers of the district) and the volunteer's bar with a masked phone
    html = client.get(r["Location"]).content.decode()
    assert activity["activity"].title in html and worker.masked_phone in html and PHONE not in html
    # sign up, see the shift among "my shifts", cancel
    r = client.post(f"/volunteering/shifts/{shift.pk}/sign-up/")
    assert r.status_code == 302
    s = Signup.objects.get(shift=shift, person=worker)
    assert s.status == "confirmed"
    assert s.history.order_by("-history_date").first().history_change_reason == REASON
    assert s.history.order_by("-history_date").first().history_user is None
    html = client.get("/volunteering/").content.decode()
    assert f"/volunteering/shifts/{shift.pk}/" in html
    client.post(f"/volunteering/shifts/{shift.pk}/cancel/")
    s.refresh_from_db()
    assert s.status == "cancelled" and s.history.order_by("-history_date").first().history_change_reason == REASON
    # a shift running now: sign up, check in by typing the code shown at the place
    leader = activity["leader_user"]
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    running = services.shift_add(
        scope=scope_for(leader), actor=leader, activity=activity["activity"], starts_at=start,
        ends_at=start + dt.timedelta(hours=2), capacity=3,
    )  # fmt: skip
    services.signup_create(person=worker, shift=running, now=start - dt.timedelta(hours=1))
    r = client.post(
        f"/volunteering/shifts/{running.pk}/check/", {"code": codes.current(running.pk, timezone.now()).digits}
    )
    assert r.status_code == 302
    att = Attendance.objects.get(shift=running, person=worker)
    assert att.check_in_method == "code" and att.check_in_by is None
    assert att.history.first().history_change_reason == REASON
    # their hours, points (with the code to show at a station) and certificate
    for path in ("/volunteering/my-hours/", "/volunteering/my-points/", "/volunteering/my-hours/certificate/"):
        assert client.get(path).status_code == 200, path
    html = client.get("/volunteering/my-points/").content.decode()
    window = passes.window_of(timezone.now())
    assert any(passes.short_code_for(worker.pk, w) in html for w in (window, window - 1))
    # their private calendar address (made without a user)
    r = client.post("/volunteering/calendar/")
    assert r.status_code == 200 and ".ics" in r.content.decode()
    # joining a team near them: asked from the phone, answered by a leader
    r = client.post(f"/volunteering/teams/{activity['team'].pk}/join/", {"note": "下午有空"})
    assert r.status_code == 302
    m = TeamMembership.objects.get(team=activity["team"], person=worker)
    assert m.status == "requested" and m.history.first().history_change_reason == REASON
    # leaving ends the session
    client.post("/volunteering/phone/end/")
    assert client.get("/volunteering/").status_code == 302


def test_the_volunteer_session_acts_for_that_person_on_volunteering_pages_only(client, activity, worker):
    _prove(client)
    shift = activity["shift"]
    services.signup_create(person=activity["leader"], shift=shift)
    # the shift's page: no roster of others, no capacity change, no code to show, no check-in by hand
    r = client.get(f"/volunteering/shifts/{shift.pk}/")
    assert r.status_code == 200 and r.context["runs"] is False and r.context["roster"] is None
    assert client.post(f"/volunteering/shifts/{shift.pk}/", {"capacity": "9"}).status_code == 404
    shift.refresh_from_db()
    assert shift.capacity == 2
    r = client.post(f"/volunteering/shifts/{shift.pk}/by-hand/", {"person": activity["leader"].pk, "reason": "x"})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert not Attendance.objects.filter(shift=shift).exists()
    # pages for those who run, review, redeem or oversee want a signed-in user
    for path in (
        f"/volunteering/shifts/{shift.pk}/code/",
        "/volunteering/hours/review/",
        "/volunteering/redeem/",
        "/volunteering/overview/",
        "/volunteering/teams/new/",
        f"/volunteering/activities/{activity['activity'].pk}/award-hours/",
        f"/volunteering/teams/{activity['team'].pk}/hours.csv",
    ):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), path
    # so does the rest of Xinye, and "My data" still wants its own proof
    r = client.get("/people/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    r = client.get("/my-data/view/")
    assert r.status_code == 302 and r["Location"].startswith("/my-data/")
    # an activity of another district is missing (404), as for anyone out of scope
    a_b = _activity_in(activity["community_b"], activity["org_b"])
    assert client.get(f"/volunteering/activities/{a_b.pk}/").status_code == 404
    # someone else's hours are not among theirs
    other = next(p for p in _volunteers(activity, 2) if p.pk != worker.pk)
    _att, rec = _served(activity, other)
    mine = client.get("/volunteering/my-hours/").context["page"].object_list
    assert rec.pk not in [h.pk for h in mine]


def _activity_in(community, organizer):
    """An activity of a team of another district, set up by that district's organizer."""
    scope = scope_for(organizer)
    team = services.team_create(scope=scope, actor=organizer, name="别区志愿队", community=community)
    return services.activity_create(
        scope=scope, actor=organizer, title="别区的文明劝导", kind="civility", team=team, community=community,
        open_nearby=False,
    )  # fmt: skip


def test_the_session_ends_with_consent_with_a_new_phone_and_after_the_longest_session(
    client, activity, worker, settings
):
    _prove(client)
    assert client.get("/volunteering/").status_code == 200
    # the phone on record changes: the proof was for the old one
    worker.phone = "13912340008"
    worker.save(update_fields=["phone"])
    assert client.get("/volunteering/").status_code == 302
    worker.phone = PHONE
    worker.save(update_fields=["phone"])
    _prove(client)
    # past XINYE_SESSION_MAX_HOURS
    session = client.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "at": timezone.now().timestamp() - 3600 * 13}
    session.save()
    settings.XINYE_SESSION_MAX_HOURS = 12
    assert client.get("/volunteering/").status_code == 302
    _prove(client)
    assert client.get("/volunteering/my-points/").status_code == 200
    # consent withdrawn: nothing more
    rights.consent_withdraw(phone=PHONE)
    assert client.get("/volunteering/my-points/").status_code == 302


def test_unknown_or_shared_phones_open_no_session_and_codes_are_limited_as_for_my_data(client, activity, worker):
    # an unknown phone: the same answer, no message, and no code can open anything
    r = client.post("/volunteering/phone/", {"phone": "139 1234 0099"})
    assert r.status_code == 302 and sms.outbox == []
    r = client.post("/volunteering/phone/code/", {"code": "123456"})
    assert r.status_code == 400 and SESSION_KEY not in client.session
    # a phone two people share: proven, but no session (the community corrects the record)
    (other,) = [p for p in _volunteers(activity, 2) if p.pk != worker.pk][:1]
    other.phone = PHONE
    other.save(update_fields=["phone"])
    r = _prove(client)
    assert r.status_code == 400 and SESSION_KEY not in client.session
    assert "不止一人" in r.content.decode() or "more than one" in r.content.decode().lower()
    # the per-phone limit of "My data" counts these requests too: 3 an hour
    ratelimit.reset()
    client.post("/my-data/", {"phone": PHONE})
    client.post("/volunteering/phone/", {"phone": PHONE})
    client.post("/volunteering/phone/", {"phone": PHONE})
    r = client.post("/volunteering/phone/", {"phone": PHONE})
    assert r.status_code == 429
    # a wrong code is refused; a signed-in user is sent to the volunteering page
    client.force_login(_user("someone"))
    assert client.get("/volunteering/phone/")["Location"] == "/volunteering/"
    # ... whose volunteering page, with no person on record, gives the address workers use
    assert "/volunteering/phone/</code>" in client.get("/volunteering/").content.decode()


# ---------------------------------------------------------------------------------------------- the points code


def test_typed_points_codes_are_limited_per_operator_with_a_clear_message(activity, settings, client):
    settings.XINYE_POINTS_PER_HOUR = 10
    settings.XINYE_RATES = {**settings.XINYE_RATES, "points_code": "3/hour"}
    (p,) = _volunteers(activity, 1)
    _att, rec = _served(activity, p)
    _approve(activity, rec)
    operator, station, _other = _operator_and_stations()
    client.force_login(operator)
    now = timezone.now()
    right = passes.current(p.pk, now)
    # right codes do not use up the limit
    for _ in range(5):
        r = client.get(f"/volunteering/redeem/?code={right.short_code}&station={station.pk}")
        assert r.status_code == 200 and p.name in r.content.decode()
    # three wrong codes are answered "not valid"; the fourth pauses typing, even a right code then
    for k in range(3):
        r = client.get(f"/volunteering/redeem/?code={p.pk}-00000{k}")
        assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    r = client.get(f"/volunteering/redeem/?code={p.pk}-000009")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    text = r.content.decode()
    assert "暂停" in text and "二维码" in text  # in Chinese: typing is paused, scan the QR code instead
    r = client.post("/volunteering/redeem/", {"station": station.pk, "code": right.short_code, "points": "5"})
    assert r.status_code == 429 and hours.points_balance(p.pk) == 20
    with pytest.raises(hours.CodeLimited):
        hours.points_redeem(scope=scope_for(operator), actor=operator, station=station, code=right.short_code, points=1)
    # scanning the QR code (a token no one can guess) still works for this operator
    r = client.post("/volunteering/redeem/", {"station": station.pk, "code": right.token, "points": "5"})
    assert r.status_code == 302 and hours.points_balance(p.pk) == 15
    # the limit is this operator's: another operator of the same stations types on
    colleague = _user("operator-2")
    for role in Role.objects.filter(user=operator):
        role.pk = None
        role.user = colleague
        role.save()
    client.force_login(colleague)
    r = client.get(f"/volunteering/redeem/?code={right.short_code}")
    assert r.status_code == 200 and p.name in r.content.decode()
