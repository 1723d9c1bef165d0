"""Issue 16: the station form reads the opening hours back as they are typed, in Chinese, under the CSP."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import test_browser
from tests.test_browser import _login, _watched

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the fixture: one chromium for the test


def test_the_hours_preview_follows_the_typing_in_chinese(live_server, live_demo, browser):
    problems: list[str] = []
    ctx = _watched(browser, problems, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    page = ctx.new_page()
    _login(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/stations/new/")
    preview = page.locator("#hours-preview")
    field = page.locator("input[name=opening_hours]")
    field.fill("Mo-Fr 09:00-18:00; PH off")
    expect(preview).to_have_text("周一至周五 09:00-18:00，法定节假日休息")
    field.fill("Mo-Fr 9 bis 18")
    expect(preview).to_contain_text("不是有效的营业时间")
    expect(field).to_have_attribute("aria-invalid", "true")
    # the reading sits right under the field it reads
    expect(page.locator("p:has(> input[name=opening_hours]) + p[data-hours-box]")).to_have_count(1)
    ctx.close()
    assert not problems, problems
