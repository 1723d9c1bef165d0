"""Volunteering on a 390 px phone in Chinese (issue 14): a member signs up for a shift and checks in by typing the
rotating 6-digit code; the team's leader shows the code (a QR code) and sees who came. Every page passes the
phone checks of tests/test_browser_phone.py (no sideways scrolling, 44 px targets, axe) and no page breaks the
Content-Security-Policy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import test_browser
from tests.test_browser import _login, _watched
from tests.test_browser_phone import AXE, PHONE, _check_page

pytestmark = test_browser.pytestmark
browser = test_browser.browser


@pytest.mark.django_db(transaction=True)
def test_a_member_signs_up_and_checks_in_by_code_on_a_phone(live_server, live_demo, browser, settings):
    from xinye.accounts.scope import scope_for
    from xinye.volunteering import codes, services
    from xinye.volunteering.models import Attendance, Signup

    settings.XINYE_CHECKIN_WINDOW_SECONDS = 15  # the code page must show the next code by itself: soon
    settings.XINYE_CHECKIN_GRACE_SECONDS = 5
    User = get_user_model()
    admin, secretary, member = (User.objects.get(username=u) for u in ("admin", "secretary", "member"))
    community = member.person.work_community
    # given a team of the member's community led by the branch secretary, and a patrol with a shift running now
    # and one tomorrow
    team = services.team_create(
        scope=scope_for(admin), actor=admin, name="骑手平安志愿队", community=community, leader=secretary.person
    )
    lead = scope_for(secretary)
    activity = services.activity_create(
        scope=lead, actor=secretary, title="早高峰路口安全巡查", kind="safety_patrol", team=team,
        community=community, address="地铁站 A 口",
    )  # fmt: skip
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    now_shift = services.shift_add(
        scope=lead, actor=secretary, activity=activity, starts_at=start, ends_at=start + dt.timedelta(hours=2),
        capacity=5,
    )  # fmt: skip
    tomorrow = start + dt.timedelta(days=1)
    later_shift = services.shift_add(
        scope=lead, actor=secretary, activity=activity, starts_at=tomorrow, ends_at=tomorrow + dt.timedelta(hours=2),
        capacity=1,
    )  # fmt: skip
    services.signup_create(person=member.person, shift=now_shift, now=start - dt.timedelta(hours=1))

    base = live_server.url
    problems: list[str] = []
    failures: list[str] = []

    # the member, on a phone: signs up for tomorrow's shift from the activity's page
    ctx = _watched(browser, problems, **PHONE)
    ctx.add_init_script(path=str(AXE))
    page = ctx.new_page()
    _login(page, base, "member")
    page.goto(f"{base}/volunteering/")
    _check_page(page, "member /volunteering/", failures)
    page.goto(f"{base}/volunteering/activities/{activity.pk}/")
    _check_page(page, "member activity", failures)
    page.locator(f"form[action='/volunteering/shifts/{later_shift.pk}/sign-up/'] button").click()
    page.wait_for_url(f"{base}/volunteering/activities/{activity.pk}/")
    assert Signup.objects.get(shift=later_shift, person=member.person).status == "confirmed"
    assert page.locator(f"form[action='/volunteering/shifts/{later_shift.pk}/cancel/']").count() == 1
    # ... and checks in to the running shift by typing the code shown at the place
    page.goto(f"{base}/volunteering/shifts/{now_shift.pk}/")
    _check_page(page, "member shift", failures)
    page.fill("#code", codes.current(now_shift.pk, timezone.now()).digits)
    page.locator("#checkform button[type=submit]").click()
    page.wait_for_url(f"{base}/volunteering/shifts/{now_shift.pk}/")
    assert "签到" in page.locator("main").inner_text()
    att = Attendance.objects.get(shift=now_shift, person=member.person)
    assert att.check_in_method == "code" and att.checked_out_at is None
    _check_page(page, "member shift, checked in", failures)
    ctx.close()

    # the leader, on a phone: the code to show (a QR code and 6 digits), who signed up and who came
    ctx = _watched(browser, problems, **PHONE)
    ctx.add_init_script(path=str(AXE))
    page = ctx.new_page()
    _login(page, base, "secretary")
    page.goto(f"{base}/volunteering/shifts/{now_shift.pk}/code/")
    assert page.locator("svg.qr").is_visible()
    first = page.locator(".code-huge").inner_text().replace(" ", "")
    assert len(first) == 6 and first.isdigit()
    _check_page(page, "leader code", failures)
    # the next window's code replaces it without a reload (app.js under the Content-Security-Policy)
    page.wait_for_function(
        "(old) => document.querySelector('.code-huge').textContent.replace(/\\s/g, '') !== old", arg=first,
        timeout=25_000,
    )  # fmt: skip
    assert page.locator("svg.qr").is_visible()
    page.goto(f"{base}/volunteering/shifts/{now_shift.pk}/")
    assert member.person.name in page.locator("main").inner_text()
    _check_page(page, "leader shift", failures)
    page.goto(f"{base}/volunteering/teams/{team.pk}/")
    _check_page(page, "leader team", failures)
    ctx.close()
    assert not failures, "\n".join(failures)
    assert not problems, problems


@pytest.mark.django_db(transaction=True)
def test_a_worker_without_an_account_signs_up_from_a_phone_after_a_one_time_code(
    live_server, live_demo, browser, settings
):
    """The demo worker of the branch's team proves the phone with the one-time code of "My data", signs up for
    a station duty with a free place, sees their points and leaves; every page passes the phone checks."""
    import re

    from xinye.common import ratelimit
    from xinye.people import sms
    from xinye.people.models import Person
    from xinye.volunteering.models import Activity, PointsEntry, Shift, Signup
    from xinye.volunteering.phone import REASON

    settings.XINYE_SMS_SENDER = "xinye.people.sms.LocmemSender"
    sms.outbox.clear()
    ratelimit.reset()
    # given the demo's worker whose points were redeemed at the station (no account), and station duty ahead
    worker = Person.objects.get(
        pk=PointsEntry.objects.filter(kind="redeem", person__user__isnull=True).first().person_id
    )
    assert Person.objects.filter(phone=worker.phone).count() == 1
    duty = Activity.objects.get(kind="station_duty")
    shift = next(s for s in Shift.objects.filter(activity=duty).order_by("starts_at") if s.signups.count() < s.capacity)

    base = live_server.url
    problems: list[str] = []
    failures: list[str] = []
    ctx = _watched(browser, problems, **PHONE)
    ctx.add_init_script(path=str(AXE))
    page = ctx.new_page()
    page.goto(f"{base}/volunteering/activities/{duty.pk}/")
    page.wait_for_url(re.compile(r".*/volunteering/phone/\?next=.*"))
    _check_page(page, "worker phone start", failures)
    page.fill("#phone", worker.phone)
    page.locator("main button.primary").click()
    page.wait_for_url(f"{base}/volunteering/phone/code/")
    _check_page(page, "worker code", failures)
    phone, text = sms.outbox.pop()
    assert phone == worker.phone
    page.fill("#code", re.search(r"\b(\d{6})\b", text).group(1))
    page.locator("main button.primary").click()
    page.wait_for_url(f"{base}/volunteering/activities/{duty.pk}/")
    assert worker.masked_phone in page.locator("header").inner_text()
    _check_page(page, "worker activity", failures)
    page.locator(f"form[action='/volunteering/shifts/{shift.pk}/sign-up/'] button").click()
    page.wait_for_url(f"{base}/volunteering/activities/{duty.pk}/")
    signup = Signup.objects.get(shift=shift, person=worker)
    assert signup.status == "confirmed" and signup.history.first().history_change_reason == REASON
    page.goto(f"{base}/volunteering/")
    assert duty.title in page.locator("main").inner_text()
    _check_page(page, "worker volunteering", failures)
    page.goto(f"{base}/volunteering/my-points/")
    assert page.locator("svg.qr").is_visible()
    _check_page(page, "worker points", failures)
    page.locator("header button", has_text="退出").click()
    page.wait_for_url(re.compile(r".*/volunteering/phone/.*"))
    page.goto(f"{base}/volunteering/my-points/")
    page.wait_for_url(re.compile(r".*/volunteering/phone/\?next=.*"))
    ctx.close()
    assert not failures, "\n".join(failures)
    assert not problems, problems
