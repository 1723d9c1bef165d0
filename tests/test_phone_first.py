"""Issue 16: the menu shows each role only what it can use, and a member calls or texts their own workers with
one tap (the number revealed for that worker only, each reveal audited). The 390 px checks are in
tests/test_browser_phone.py."""

from __future__ import annotations

import re

import pytest

from xinye.accounts.models import AuditEvent
from xinye.demands import liaison
from xinye.demands.models import LiaisonPair
from xinye.organizations.models import Organization
from xinye.people.models import Person

pytestmark = pytest.mark.django_db

ROLES = ["admin", "organizer", "district", "staff", "secretary", "member", "operator"]
NAV = re.compile(r'<nav class="main".*?</nav>', re.S)
KEYS = {
    "/": "dashboard",
    "/organizations/": "organizations",
    "/people/": "people",
    "/members/": "members",
    "/liaison/": "liaisons",
    "/liaison/mine/": "my_workers",
    "/companies/": "companies",
    "/community-reports/": "reports",
    "/stations/": "stations",
    "/demands/": "demands",
    "/places/": "places",
    "/volunteering/": "volunteering",
    "/audit/": "audit",
    "/api/docs/": "api",
}
HREF = re.compile(r'href="(/[^"#?]*)[^"]*"')
# addresses not to follow from a list: files, the logout form's target, the API's own pages
SKIP = re.compile(r"^/(static|media|api|admin|open311|accounts/logout)/|\.(csv|xlsx|geojson|json|ttl|jsonld|svg)$")


def _menu(client) -> dict[str, str]:
    nav = NAV.search(client.get("/").content.decode()).group(0)
    return {KEYS.get(url, url): url for url in HREF.findall(nav)}


def _shape(path: str) -> str:
    """Addresses of the same page for different objects count once: /people/12/ and /people/13/."""
    return re.sub(r"/\d+/", "/N/", path)


@pytest.mark.parametrize("role", ROLES)
def test_menu_and_the_links_of_its_pages_never_lead_to_a_missing_page(login, role):
    # given a demo user, when they follow every menu entry and every link on those pages (one of each kind)
    client = login(role)
    menu = _menu(client)
    assert "dashboard" in menu and "places" in menu
    seen: set[str] = set()
    broken = []
    for key, url in menu.items():
        response = client.get(url, follow=True)
        assert response.status_code == 200, (role, key, url, response.status_code)
        for href in HREF.findall(response.content.decode()):
            if SKIP.search(href) or _shape(href) in seen:
                continue
            seen.add(_shape(href))
            status = client.get(href).status_code
            if status == 404:
                broken.append((url, href))
    # then nothing they are shown leads to "not found" (coverage and placement for staff and operators did)
    assert not broken, (role, broken)


def test_menu_leaves_out_pages_that_hold_nothing_for_the_role(login):
    # an operator manages stations (and their volunteer teams): no organizations, people, members or companies
    # lead to empty pages
    operator = _menu(login("operator"))
    assert set(operator) == {"dashboard", "stations", "volunteering", "places"}
    # every organization and company list the menu offers holds something
    for role in ROLES:
        client = login(role)
        menu = _menu(client)
        if "companies" in menu:
            assert client.get(menu["companies"]).context["page"].paginator.count > 0, role
        if "organizations" in menu:
            assert client.get(menu["organizations"]).context["tree"], role
    # a member's own page is "my workers", not the liaison assignment of an area
    member = _menu(login("member"))
    assert member["my_workers"] == "/liaison/mine/" and "liaisons" not in member and "people" not in member


def test_station_planning_links_only_for_planners(login):
    for role, planner in [("operator", False), ("staff", False), ("district", True)]:
        page = login(role).get("/stations/").content.decode()
        assert ('href="/stations/coverage/"' in page) is planner, role
        assert ('href="/stations/placement/"' in page) is planner, role


# ----------------------------------------------------------------------------------------------- one tap


def _member_with_workers() -> tuple[Person, list[LiaisonPair]]:
    """The demo member, with workers assigned by the liaison service (the demo may leave them none)."""
    member = Person.objects.get(user__username="member")
    if not LiaisonPair.objects.filter(member=member, until__isnull=True).exists():
        branch = Organization.objects.get(memberships__person=member, memberships__until__isnull=True)
        liaison.quota_set(organization=branch, min_load=1, max_load=10)
        liaison.liaison_assign_run(area=liaison.area_for_organization(branch), max_km=20)
    pairs = list(LiaisonPair.objects.filter(member=member, until__isnull=True).select_related("worker"))
    pairs = [p for p in pairs if p.worker.phone]
    if not pairs:  # no worker near enough: pair one by hand so the reveal itself is still tested
        worker = Person.objects.exclude(phone="").exclude(liaisons__until__isnull=True).exclude(pk=member.pk).first()
        pairs = [LiaisonPair.objects.create(member=member, worker=worker, since=worker.created_at.date())]
    return member, pairs


def test_member_calls_and_texts_their_own_worker_with_one_tap_and_each_reveal_is_audited(login):
    member, pairs = _member_with_workers()
    worker = pairs[0].worker
    client = login("member")

    # the list carries no full number, only the masked one and the two taps
    page = client.get("/liaison/mine/").content.decode()
    assert worker.phone not in page
    assert f'href="/liaison/mine/{worker.pk}/call/"' in page and f'href="/liaison/mine/{worker.pk}/sms/"' in page

    before = AuditEvent.objects.filter(field=AuditEvent.Field.FULL_PHONE, username="member").count()
    call = client.get(f"/liaison/mine/{worker.pk}/call/")
    assert call.status_code == 302 and call["Location"] == f"tel:{worker.phone}"
    text = client.get(f"/liaison/mine/{worker.pk}/sms/")
    assert text.status_code == 302 and text["Location"] == f"sms:{worker.phone}"
    rows = AuditEvent.objects.filter(field=AuditEvent.Field.FULL_PHONE, username="member").order_by("pk")
    assert rows.count() == before + 2
    last = rows.last()
    assert last.subject_type == "people.person" and last.subject_ids == str(worker.pk)
    assert last.path == f"/liaison/mine/{worker.pk}/sms/"
    assert worker.phone not in f"{last.subject_ids} {last.path}"


def test_no_number_for_a_worker_who_is_not_the_members_own(login):
    member, pairs = _member_with_workers()
    mine = {p.worker_id for p in pairs}
    other = Person.objects.exclude(phone="").exclude(pk__in=mine).exclude(pk=member.pk).first()
    before = AuditEvent.objects.filter(field=AuditEvent.Field.FULL_PHONE).count()
    for role in ["member", "secretary", "operator"]:
        client = login(role)
        for how in ["call", "sms"]:
            response = client.get(f"/liaison/mine/{other.pk}/{how}/")
            assert response.status_code == 404, (role, how)
            assert other.phone not in response.content.decode() and other.phone not in response.get("Location", "")
    # another user cannot reveal the member's workers either
    response = login("secretary").get(f"/liaison/mine/{pairs[0].worker_id}/call/")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(field=AuditEvent.Field.FULL_PHONE).count() == before


def test_reveal_policy_names_only_the_members_own_open_pairs(login):
    from xinye.accounts import policy
    from xinye.accounts.scope import scope_for

    member, pairs = _member_with_workers()
    scope = scope_for(member.user)
    assert policy.reveal_phone_for(scope, pairs[0].worker) == pairs[0].worker.phone
    LiaisonPair.objects.filter(pk=pairs[0].pk).update(until=pairs[0].since)  # the pair ended
    assert policy.reveal_phone_for(scope, pairs[0].worker) == ""
    other = Person.objects.exclude(phone="").exclude(pk__in=[p.worker_id for p in pairs]).first()
    assert policy.reveal_phone_for(scope, other) == ""
