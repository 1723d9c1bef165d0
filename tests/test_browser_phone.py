"""Issue 16: every page of the menu of every demo role works on a 390 px phone in Chinese, and is accessible.

For each role the test signs in on a 390 px touch phone (zh-CN), opens the menu (a button that says whether it
is open), and visits every page the menu offers. Each page fails the test on
- horizontal scrolling (the document wider than the screen);
- text wrapped one character a line (a link, button, cell or label narrower than two characters and several
  lines tall: the crushed "my workers" and the wrapped menu of the issue);
- a link or button of the menu or of a form, or a checkbox or radio button with its label, smaller than 44 x 44 px
  (WCAG 2.5.5, Apple and Android guidance);
- a serious or critical violation found by axe-core (node_modules/axe-core), WCAG 2.x A and AA rules;
- a Content-Security-Policy violation or a script error (as every browser test).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import test_browser
from tests.test_browser import SCREENSHOTS, _login, _watched
from tests.test_phone_first import _member_with_workers
from xinye.demo.services import DEMO_PASSWORD

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the fixture: one chromium for the test

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
ROLES = ["admin", "organizer", "district", "staff", "secretary", "member", "operator"]
PHONE = {"locale": "zh-CN", "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# Elements whose text must never be squeezed to one character a line, and the targets that must be 44 px.
LAYOUT = """
() => {
  const out = {overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
               squeezed: [], small: []};
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '') +
    ' "' + el.textContent.replace(/\\s+/g, ' ').trim().slice(0, 30) + '"';
  for (const el of document.querySelectorAll('nav a, a.btn, button, td, th, label, h1, h2, dt, dd, .card, .badge')) {
    if (!visible(el)) continue;
    const text = el.textContent.replace(/\\s+/g, '');
    if (text.length < 2) continue;
    const s = getComputedStyle(el);
    const font = parseFloat(s.fontSize);
    const line = parseFloat(s.lineHeight) || font * 1.5;
    const r = el.getBoundingClientRect();
    const width = r.width - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)
      - parseFloat(s.borderLeftWidth) - parseFloat(s.borderRightWidth);
    const height = r.height - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom)
      - parseFloat(s.borderTopWidth) - parseFloat(s.borderBottomWidth);
    if (width < 2 * font && height > 2.5 * line) {
      out.squeezed.push(name(el) + ' ' + Math.round(width) + 'x' + Math.round(height));
    }
  }
  const targets = document.querySelectorAll(
    'header a, header button, header select, nav a, form button, form a, form select, form input[type=submit], a.btn');
  for (const el of targets) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) {
      out.small.push(name(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    }
  }
  // a checkbox or radio button is tapped through itself or its label: one of them must be 44 x 44 px, and
  // every label that shows is at least 44 px tall (a thumb aims at the words as much as at the box)
  for (const el of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!visible(el)) continue;
    const big = (x) => { const r = x.getBoundingClientRect(); return r.height >= 43.5 && r.width >= 43.5; };
    const labels = Array.from(el.labels || []).filter(visible);
    if (!big(el) && !labels.some(big)) {
      const r = el.getBoundingClientRect();
      out.small.push(
        'input[' + el.type + '] ' + (el.name || '') + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    }
    for (const l of labels) {
      const r = l.getBoundingClientRect();
      if (r.height < 43.5) out.small.push('label of input[' + el.type + '] ' + name(l) + ' ' + Math.round(r.height));
    }
  }
  return out;
}
"""

AXE_RUN = """
async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                     resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 160))}));
}
"""


def _check_page(page, where: str, failures: list[str]) -> None:
    layout = page.evaluate(LAYOUT)
    if layout["overflow"] > 0:
        failures.append(f"{where}: scrolls sideways by {layout['overflow']} px")
    if layout["squeezed"]:
        failures.append(f"{where}: one character a line: {layout['squeezed'][:5]}")
    if layout["small"]:
        failures.append(f"{where}: targets under 44 px: {layout['small'][:5]}")
    violations = page.evaluate(AXE_RUN)
    if violations:
        failures.append(f"{where}: axe: {json.dumps(violations, ensure_ascii=False)[:1500]}")


def _menu(page) -> list[str]:
    """Open the menu with its button; the addresses of its entries (the pages and the account's)."""
    toggle = page.locator("[data-menu-toggle]")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("nav.main").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("nav.main").is_visible()
    return page.eval_on_selector_all("#site-menu a", "els => els.map(a => a.getAttribute('href'))")


@pytest.mark.django_db(transaction=True)
def test_every_menu_page_of_every_role_works_on_a_390px_phone_and_passes_axe(live_server, live_demo, browser, settings):
    settings.XINYE_JOBS_INLINE = True
    base = live_server.url
    _member_with_workers()  # "my workers" with workers on it (the demo may leave the member none)
    problems: list[str] = []
    failures: list[str] = []
    visited = 0
    for role in ROLES:
        ctx = _watched(browser, problems, **PHONE)
        ctx.add_init_script(path=str(AXE))  # added by the browser itself: the page's CSP does not apply
        page = ctx.new_page()
        _login(page, base, role)
        # the menu, open: its entries are whole-width targets that never wrap a word
        urls = _menu(page)
        assert urls and "/" in urls, role
        _check_page(page, f"{role} / (menu open)", failures)
        if role == "member":
            page.screenshot(path=str(SCREENSHOTS / "menu-phone-zh.png"), full_page=False)
        for url in urls:
            if url.startswith("/api/docs/"):
                continue  # Swagger UI, a developers' tool drawn by its own script (its controls nest: axe says so)
            page.goto(base + url)
            assert page.locator("h1").count() == 1, (role, url)
            _check_page(page, f"{role} {url}", failures)
            visited += 1
        if role == "member":
            # "my workers": one card a worker, with the call and text buttons; then one worker's page
            page.goto(base + "/liaison/mine/")
            assert page.locator("a[data-reach=tel]").count() > 0
            page.screenshot(path=str(SCREENSHOTS / "my-workers-phone-zh.png"), full_page=False)
            page.locator("td a.btn").first.click()
            _check_page(page, f"{role} {page.url}", failures)
        ctx.close()
    assert visited >= 30

    # without script the menu still opens: its button is a link to the menu, shown when it is the target
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = ctx.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "member")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")  # the language form's button shows without script too
    page.wait_for_url(f"{base}/")
    assert not page.locator("nav.main").is_visible()
    page.click("[data-menu-toggle]")
    assert page.locator("nav.main").is_visible()
    assert page.locator("nav.main a[href='/liaison/mine/']").is_visible()
    ctx.close()
    assert not failures, "\n".join(failures)
    assert not problems, problems


@pytest.mark.django_db(transaction=True)
def test_checkboxes_and_radio_buttons_of_the_public_forms_are_44px_targets_on_a_phone(live_server, live_demo, browser):
    """The forms a worker fills in without logging in (not in any menu): each box or its label 44 x 44 px and
    every label 44 px tall (the consent boxes sit beside their labels, the categories inside theirs)."""
    base = live_server.url
    problems: list[str] = []
    ctx = _watched(browser, problems, **PHONE)
    page = ctx.new_page()
    small = []
    for url in ("/report/?city=4403&street=440303003", "/demands/new/", "/stations/finder/?lat=22.54&lon=114.06"):
        page.goto(base + url)
        boxes = page.locator("input[type=checkbox], input[type=radio]").count()
        assert boxes > 0, url
        small += [f"{url}: {s}" for s in page.evaluate(LAYOUT)["small"] if "input[" in s]
    ctx.close()
    assert not small, small
    assert not problems, problems
