"""Refresh the README's screenshots (docs/screenshots/) from a running demo, in Chinese, on a desktop and on a
390 px phone.

    make demo                      # in another terminal: the demo city, its worker and the server
    make screenshots               # or: .venv/bin/python tools/screenshots.py --base http://127.0.0.1:8000

Playwright drives Debian's chromium (XINYE_CHROMIUM, default /usr/bin/chromium) as the browser tests do. The
pages are the demo roles' own; taking them writes what a user would: a structure plan, a formation of
community-based branches, a placement run and a liaison run (each a job the demo's worker runs), a report and
a demand from a phone. Use a demo database, never a real one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

DEMO_PASSWORD = "xinye-demo-2026"
CHROMIUM = os.environ.get("XINYE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
DESKTOP = {"locale": "zh-CN", "viewport": {"width": 1280, "height": 860}}
PHONE = {
    "locale": "zh-CN",
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
JOB_MS = 180_000  # a job (a plan, a formation, a placement) on the demo city: well under three minutes


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def dashboard(page, base):
    page.wait_for_selector("#occupations canvas")


def structure_plan(page, base):
    page.goto(f"{base}/companies/?q=快马外卖")
    page.locator("tbody a").first.click()
    page.click("a.btn")
    page.click("text=生成调整方案")
    page.wait_for_selector("text=调整后", timeout=JOB_MS)


def community_branches(page, base):
    page.goto(f"{base}/places/4403/branches/")
    page.wait_for_selector("#branch-map canvas")
    page.click("text=组建支部")
    page.wait_for_selector("[data-count=branches]", timeout=JOB_MS)
    page.wait_for_selector("#branch-map canvas")


def coverage(page, base):
    page.goto(f"{base}/stations/coverage/?division=4403")
    page.wait_for_selector("#cov-map canvas")


def placement(page, base):
    page.goto(f"{base}/stations/placement/?division=4403")
    page.fill("input[name=k]", "5")
    page.click("text=计算选址")
    page.wait_for_selector("[data-pick]", timeout=JOB_MS)
    page.wait_for_selector("#pl-map canvas")


def demands_queue(page, base):
    page.goto(f"{base}/demands/")
    page.wait_for_selector("[data-demand]")


def liaison_run(page, base):
    page.goto(f"{base}/liaison/division/4403/")
    page.locator("form[action$='run/'] button").click()
    page.wait_for_url("**/liaison/runs/**", timeout=JOB_MS)


def indicators(page, base):
    page.goto(f"{base}/indicators/?division=4403")
    page.wait_for_selector("h1")


def report_phone(page, base):
    page.goto(f"{base}/report/")
    with page.expect_navigation():
        page.select_option("#street", index=3)
    page.fill("#name", "李四")
    page.fill("#phone", "13800001111")
    page.select_option("#occupation", "courier")
    page.check("#consent")


def finder_phone(page, base):
    page.goto(f"{base}/stations/finder/?lat=22.5431&lon=114.0579")
    page.wait_for_selector("[data-station]")


def demand_phone(page, base):
    page.goto(f"{base}/demands/new/")
    page.locator("input[name=category]").nth(1).check()
    page.fill("#description", "上个月的冲单奖励一直没到账")


def station_phone(page, base):
    page.goto(f"{base}/stations/")
    page.locator("tbody a").first.click()
    page.wait_for_selector("dl.facts")


def menu_phone(page, base):
    page.click("[data-menu-toggle]")
    page.wait_for_selector("nav.main a")


def my_workers_phone(page, base):
    page.goto(f"{base}/liaison/mine/")
    page.wait_for_selector("h1")


#: (file, device, demo login or None, what to do before the picture, the whole page or the first screen)
SHOTS: list[tuple[str, dict, str | None, Callable, bool]] = [
    ("dashboard-zh.png", DESKTOP, "organizer", dashboard, True),
    ("structure-plan-zh.png", DESKTOP, "organizer", structure_plan, False),
    ("community-branches-zh.png", DESKTOP, "organizer", community_branches, False),
    ("coverage-zh.png", DESKTOP, "organizer", coverage, False),
    ("placement-zh.png", DESKTOP, "organizer", placement, False),
    ("demands-queue-zh.png", DESKTOP, "organizer", demands_queue, False),
    ("liaison-run-zh.png", DESKTOP, "organizer", liaison_run, False),
    ("indicators-zh.png", DESKTOP, "organizer", indicators, False),
    ("dashboard-en.png", {**DESKTOP, "locale": "en-US"}, "organizer", dashboard, True),
    ("report-phone-zh.png", PHONE, None, report_phone, True),
    ("finder-phone-zh.png", PHONE, None, finder_phone, False),
    ("demand-phone-zh.png", PHONE, None, demand_phone, True),
    ("station-phone-zh.png", PHONE, "operator", station_phone, False),
    ("dashboard-phone.png", PHONE, "secretary", lambda page, base: None, False),
    ("menu-phone-zh.png", PHONE, "member", menu_phone, False),
    ("my-workers-phone-zh.png", PHONE, "member", my_workers_phone, False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the demo server's address")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="where the pictures go")
    parser.add_argument("--only", nargs="*", default=[], help="only these files (e.g. coverage-zh.png)")
    args = parser.parse_args(argv)
    base = args.base.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    failed = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for name, device, user, prepare, full_page in SHOTS:
            if args.only and name not in args.only:
                continue
            ctx = browser.new_context(**device)
            page = ctx.new_page()
            try:
                if user:
                    login(page, base, user)
                prepare(page, base)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / name), full_page=full_page)
                print(f"{name}: {page.url}")
            except Exception as exc:  # one page that fails leaves the others to be taken
                failed.append(name)
                print(f"{name}: FAILED at {page.url}: {exc}", file=sys.stderr)
            finally:
                ctx.close()
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
