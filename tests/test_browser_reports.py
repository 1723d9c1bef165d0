"""The monthly reports page (issue 15, item 4) on a 390 px phone in Chinese: a district organizer builds this
month's report with the button, follows the job to the list and finds both files; the page scrolls no sideways,
squeezes no text, has 44 px targets and passes axe (the checks of tests/test_browser_phone.py)."""

from __future__ import annotations

import pytest

from tests import test_browser
from tests.test_browser import SCREENSHOTS, _login, _watched
from tests.test_browser_phone import AXE, PHONE, _check_page

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the fixture: one chromium for the test


@pytest.mark.django_db(transaction=True)
def test_a_district_organizer_builds_and_finds_this_months_report_on_a_phone(live_server, live_demo, browser, settings):
    from xinye.accounts.models import Role
    from xinye.reports.models import MonthlyReport

    settings.XINYE_JOBS_INLINE = True
    base = live_server.url
    code = Role.objects.get(user__username="district").division.code
    problems: list[str] = []
    failures: list[str] = []
    ctx = _watched(browser, problems, **PHONE)
    ctx.add_init_script(path=str(AXE))
    page = ctx.new_page()
    _login(page, base, "district")
    page.goto(f"{base}/indicators/?division={code}")
    page.click("[data-reports-link]")
    page.wait_for_url(f"{base}/indicators/reports/?division={code}")
    _check_page(page, "reports (empty)", failures)
    page.click("[data-generate] button.primary")
    page.wait_for_url(f"{base}/indicators/reports/?division={code}#report-*", timeout=120_000)
    kept = MonthlyReport.objects.get()
    row = page.locator(f"#report-{kept.pk}")
    assert row.is_visible() and row.locator("a[href$='/xlsx/']").count() == 1
    assert row.locator("a[href$='/pdf/']").count() == 1
    _check_page(page, "reports (one)", failures)
    page.screenshot(path=str(SCREENSHOTS / "indicator-reports-phone-zh.png"), full_page=True)
    # the city around the district: seen from outside, no button
    page.goto(f"{base}/indicators/reports/?division={code[:4]}")
    assert page.locator("[data-outside]").is_visible() and page.locator("[data-generate]").count() == 0
    _check_page(page, "reports of the city", failures)
    ctx.close()
    assert failures == [] and problems == [], failures + problems
