"""Redeeming volunteer points at a station on a 390 px phone in Chinese (issue 14, item 8): the station's operator
types the volunteer's short code, sees the name and balance, redeems some points and the balance drops; a second
redemption beyond what is left is refused and spends nothing; a scanned QR code opens the same form. Every page
passes the phone checks of tests/test_browser_phone.py (no sideways scrolling, 44 px targets, axe) and no page
breaks the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import test_browser
from tests.test_browser import _login, _watched
from tests.test_browser_phone import AXE, PHONE, _check_page

pytestmark = test_browser.pytestmark
browser = test_browser.browser


@pytest.mark.django_db(transaction=True)
def test_an_operator_redeems_points_at_a_station_on_a_phone(live_server, live_demo, browser):
    from xinye.accounts import policy
    from xinye.accounts.scope import scope_for
    from xinye.stations.models import Station
    from xinye.volunteering import hours, passes
    from xinye.volunteering.models import PointsEntry

    # given the demo member with points earned on the demo's patrols, and the demo operator's station
    member = get_user_model().objects.get(username="member").person
    operator = get_user_model().objects.get(username="operator")
    station = Station.objects.filter(policy.points_stations_q(scope_for(operator))).order_by("name", "pk").first()
    before = hours.points_balance(member.pk)
    assert before >= 3, "the demo gives the member points"
    redeemed = PointsEntry.objects.filter(kind="redeem").count()

    base = live_server.url
    problems: list[str] = []
    failures: list[str] = []
    ctx = _watched(browser, problems, **PHONE)
    ctx.add_init_script(path=str(AXE))
    page = ctx.new_page()
    _login(page, base, "operator")
    page.goto(f"{base}/volunteering/redeem/")
    _check_page(page, "operator redeem", failures)
    assert member.name in page.locator("#recent-redemptions").inner_text()  # the demo's earlier redemption

    # the operator types the short code shown on the volunteer's phone
    page.fill("#code", passes.current(member.pk, timezone.now()).short_code)
    page.locator("main form[method=get] button[type=submit]").click()
    page.wait_for_selector("#points")
    main = page.locator("main").inner_text()
    assert member.name in main and str(before) in main
    _check_page(page, "operator redeem, volunteer found", failures)
    page.select_option("#station", str(station.pk))
    page.fill("#points", "2")
    page.fill("#note", "矿泉水两瓶")
    page.locator("main form[method=post] button.primary").click()
    page.wait_for_url(f"{base}/volunteering/redeem/?station={station.pk}")
    assert hours.points_balance(member.pk) == before - 2
    assert f"{before - 2}" in page.locator("main").inner_text()  # "2 points redeemed for ...; n left."
    assert PointsEntry.objects.filter(kind="redeem").count() == redeemed + 1
    _check_page(page, "operator redeemed", failures)

    # the volunteer's QR code, scanned: the same form; more points than are left are refused, nothing is spent
    left = before - 2
    page.goto(f"{base}/volunteering/redeem/?t={passes.current(member.pk, timezone.now()).token}")
    page.wait_for_selector("#points")
    assert str(left) in page.locator("main").inner_text()
    page.fill("#points", str(left + 1))
    page.locator("main form[method=post] button.primary").click()
    page.wait_for_selector(".err")
    error = page.locator(".err").inner_text()
    assert "积分不足" in error or str(left) in error, error
    assert hours.points_balance(member.pk) == left
    assert PointsEntry.objects.filter(kind="redeem").count() == redeemed + 1
    _check_page(page, "operator redeem refused", failures)
    ctx.close()
    assert not failures, "\n".join(failures)
    assert not problems, problems
