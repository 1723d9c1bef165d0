"""Issue 10, "hidden identity is one policy in one place" (accounts.policy): a leak matrix over every page
and endpoint that shows demands x every demo role (and a platform body's handler, and the member who
entered the demand), party status of company workers outside the viewer's organizations, and a merged
demand's tracking page.

These tests use HTTP and the models only, so they run (and fail) on code without accounts.policy too.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from xinye.accounts.models import Role, RoleKind
from xinye.demands import open311, services
from xinye.demands.models import BodyKind, Category, Demand, DemandStatus, LiaisonPair, ResponsibleBody
from xinye.organizations.models import Organization
from xinye.people.models import Membership, Person
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db
User = get_user_model()

WORKER = "滕秘隐"
PHONE = "13987654321"
MASKED = "139****4321"
MEMBER = "甄录入"
MEMBER_LOGIN = "zhenluru"
MARKER = "紫藤标记"  # a word of the description: the platform side may read the text, without the names
DEMO_ROLES = ["admin", "organizer", "district", "staff", "secretary", "member", "operator"]


def _user(username: str, **role):
    u = User.objects.create_user(username=username, password="x-" + username)
    if role:
        Role.objects.create(user=u, **role)
    return u


@pytest.fixture
def hidden(demo):
    """A member of a branch of company 1 enters, for a worker they keep in touch with, a demand hidden from
    the platform about company 1; it reaches the branch (its secretary), the company's committee (its staff)
    and the company's contact (a body handler). Handlers then write notes naming the worker."""
    branch = User.objects.get(username="secretary").roles.get().organization
    company = branch.company
    assert company is not None and Organization.objects.get(pk=1).company_id == company.pk
    district = User.objects.get(username="district").roles.get().division
    place = Division.objects.filter(level=Level.COMMUNITY, code__startswith=district.code).order_by("code").first()
    entrant = _user(MEMBER_LOGIN, kind=RoleKind.MEMBER, organization=branch)
    member = Person.objects.create(name=MEMBER, phone="13700001111", occupation="delivery_rider", user=entrant)
    Membership.objects.create(person=member, organization=branch, status="formal", since=dt.date(2020, 1, 1))
    worker = Person.objects.create(name=WORKER, phone=PHONE, occupation="delivery_rider", work_community=place)
    worker.platforms.add(company)
    LiaisonPair.objects.create(member=member, worker=worker, since=dt.date(2025, 1, 1))
    carer = _user("carer")
    body = ResponsibleBody.objects.get(kind=BodyKind.PLATFORM, company=company)
    body.handlers.add(carer)

    c = Client()
    c.force_login(entrant)
    r = c.post(
        "/demands/new/",
        {
            "worker": worker.pk,
            "category": "deactivation_penalties",
            "description": f"我是{WORKER}，电话{PHONE}（139 8765 4321），{MEMBER}帮我录入。{MARKER}：账号被封",
            "hide_from_platform": "1",
            "company": company.pk,
            "city": "4403",
            "street": place.parent.code,
            "community": place.code,
            "address": f"{WORKER}家楼下",
            "submit": "1",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    d = Demand.objects.get(person=worker)
    assert d.hide_from_platform and d.organization == branch and d.body == body and d.entered_by == entrant
    admin = User.objects.get(username="admin")
    d = services.demand_transition(d, to=DemandStatus.ACCEPTED, version=d.version, actor=admin,
                                   note=f"已联系{WORKER}（{MASKED}）")  # fmt: skip
    services.demand_note(d, actor=entrant, note=f"{WORKER}说已经申诉，电话 139-8765-4321", public=True)
    return d


def _viewers():
    out = {name: User.objects.get(username=name) for name in DEMO_ROLES}
    out["carer"] = User.objects.get(username="carer")  # handles the platform company's contact body only
    out[MEMBER_LOGIN] = User.objects.get(username=MEMBER_LOGIN)  # entered it: may see it
    out["anonymous"] = None
    return out


PLATFORM_SIDE = {"staff", "secretary", "member", "carer"}


def _text(r) -> str:
    return r.content.decode("utf-8", errors="replace") if r.status_code < 400 else ""


def test_a_hidden_demand_leaks_no_identity_to_the_platform_side_anywhere(hidden):
    d = hidden
    branch = d.organization
    keys = {n: open311.api_key_create(user=u, name=f"t {n}")[1] for n, u in _viewers().items() if u is not None}
    demand_strings = [WORKER, PHONE, MASKED, "139 8765 4321", "139-8765-4321", MEMBER, MEMBER_LOGIN]
    pages = [
        "/",
        "/demands/",
        "/demands/?status=all",
        f"/demands/{d.pk}/",
        "/demands/stats/",
    ]
    # the tracking page answers whoever holds the tracking code: the worker (or the member who entered it)
    # the liaison pages show who keeps in touch with whom (names are theirs to see); they must not show
    # anything of the demand
    liaison_pages = [
        "/liaison/",
        "/liaison/mine/",
        f"/liaison/branch/{branch.pk}/",
        f"/liaison/organization/{branch.pk}/",
    ]
    leaks: list[tuple[str, str, str]] = []
    seen_by: dict[str, set[str]] = {}
    for name, u in _viewers().items():
        c = Client()
        if u is not None:
            c.force_login(u)
        bodies = [(p, _text(c.get(p))) for p in pages]
        bodies += [(p, _text(c.get(p))) for p in liaison_pages]
        # searching the queue for the worker's name must not find the hidden demand for the platform side
        found = _text(c.get("/demands/", {"status": "all", "q": WORKER}))
        if f'data-demand="{d.pk}"' in found and name in PLATFORM_SIDE:
            leaks.append((name, "/demands/?q=<worker>", "the search found the hidden demand"))
        for fmt in ("json", "xml"):
            params = {"api_key": keys[name]} if name in keys else {}
            for path, extra in [
                ("requests", {}),
                ("requests", {"service_request_id": d.reference}),
                (f"requests/{d.reference}", {}),
                ("servicerequestupdates", {}),
                ("servicerequestupdates", {"service_request_id": d.reference}),
            ]:
                r = c.get(f"/open311/v2/{path}.{fmt}", {**params, **extra})
                assert r.status_code == 200, (name, path, r.content[:300])
                text = r.content.decode("utf-8")
                if fmt == "json":
                    text += json.dumps(json.loads(text), ensure_ascii=False)
                bodies.append((f"open311 {path}.{fmt} {extra or ''}", text))
        seen = set()
        for where, text in bodies:
            strings = demand_strings if not where.startswith("/liaison/") else [PHONE, MASKED, MARKER, d.reference]
            for s in strings:
                if s in text:
                    seen.add(s)
                    if name in PLATFORM_SIDE:
                        leaks.append((name, where, s))
            if MARKER in text:
                seen.add(MARKER)
        seen_by[name] = seen
    assert not leaks, "hidden identity leaked to the platform side:\n" + "\n".join(map(str, leaks))
    # not vacuous: the platform side does see the demand's text; administrators and organizers the identity
    assert {"staff", "secretary", "carer"} <= {n for n, s in seen_by.items() if MARKER in s}
    assert {WORKER, PHONE, MEMBER_LOGIN} <= seen_by["admin"] and {WORKER, PHONE} <= seen_by["organizer"]
    assert WORKER in seen_by[MEMBER_LOGIN]  # the member who entered it sees whom it is for
    track = _track_page(Client(), d.tracking_code)
    assert MEMBER_LOGIN not in track and d.tracking_code in track  # it names no handler or member


def test_the_platform_sides_detail_page_shows_the_redacted_text_and_the_member_as_a_label(hidden):
    c = Client()
    c.force_login(User.objects.get(username="secretary"))
    page = c.get(f"/demands/{hidden.pk}/").content.decode()
    text = re.search(r'<p class="pre-wrap">(.*?)</p>', page, re.S).group(1)
    assert MARKER in text and WORKER not in text and "8765" not in text and MEMBER not in text
    assert MEMBER_LOGIN not in page and WORKER not in page


# ---------------------------------------------------------------- party status


@pytest.fixture
def outsider(demo):
    """A worker of company 1 who is a probationary member of an organization outside the company's tree."""
    staff = User.objects.get(username="staff").roles.get().organization
    inside = set(staff.descendants(include_self=True).values_list("pk", flat=True))
    other = Organization.objects.exclude(pk__in=inside).order_by("pk").first()
    person = (
        Person.objects.filter(business_unit__company=staff.company, memberships__isnull=True).order_by("pk").first()
    )
    Membership.objects.create(person=person, organization=other, status="probationary", since=dt.date(2024, 5, 1))
    return person, other


def test_platform_staff_do_not_see_party_status_outside_their_organization_subtree(outsider, login):
    person, other = outsider
    c = login("staff")
    page = c.get(f"/people/{person.pk}/").content.decode()
    assert person.name in page  # staff see the company's worker ...
    assert (
        other.name not in page and "预备党员" not in page and "Probationary" not in page
    )  # ... not their party status
    data = c.get("/api/people/", {"q": person.name}).json()
    row = next(r for r in data["results"] if r["id"] == person.pk)
    assert row["memberships"] == []
    members = c.get("/api/people/", {"q": person.name, "members": "1"}).json()
    assert person.pk not in [r["id"] for r in members["results"]]  # the filter is no oracle either
    # the organizer of the area (and administrators) do see it
    c = login("admin")
    assert other.name in c.get(f"/people/{person.pk}/").content.decode()


# ---------------------------------------------------------------- merged demands


def test_a_merged_demands_tracking_page_names_no_other_merged_demand(demo, login):
    cat = Category.objects.get(code="traffic_safety")
    place = Division.objects.filter(level=Level.COMMUNITY, code__startswith="4403").order_by("code").first()
    ds = [
        services.demand_submit(category=cat, description=f"路口红绿灯太短 {i}", anonymous=True, community=place)
        for i in range(3)
    ]
    into = services.demand_merge(ds, actor=User.objects.get(username="admin"))
    anonymous = Client()
    for d in ds:
        others = {x.reference for x in ds if x.pk != d.pk}
        for code in (d.tracking_code, into.tracking_code):
            page = _track_page(anonymous, code)
            refs = set(re.findall(r"(?<![A-Za-z0-9])D[0-9]+(?![0-9])", page))
            assert not refs & others, (code, refs & others)
    # the handlers still see them
    queue = login("admin").get(f"/demands/{into.pk}/").content.decode()
    assert all(d.reference in queue for d in ds)


def test_redaction_blanks_names_and_phone_like_numbers_but_keeps_dates_and_references(hidden):
    from xinye.accounts import policy

    text = f"{WORKER}于2026-01-31 08:00来电 +86 139 8765 4321，另留 0755-12345678，"
    text += f"工号 D{hidden.pk}，{MEMBER}陪同，139****4321"
    out = policy.demand_text_for(None, hidden, text, machine=True)
    assert out == f"***于2026-01-31 08:00来电 ***，另留 ***，工号 D{hidden.pk}，***陪同，***", out
    secretary = policy_scope("secretary")
    assert policy.demand_text_for(secretary, hidden, text) == out  # the platform side
    assert policy.demand_text_for(policy_scope("organizer"), hidden, text) == text  # not the platform side


def policy_scope(username: str):
    from xinye.accounts.scope import scope_for

    return scope_for(User.objects.get(username=username))


def _track_page(client, code: str) -> str:
    """The submitter's page: the code is posted in the form (never in an address), the page follows."""
    assert client.post("/demands/track/", {"code": code}).status_code == 302
    return client.get("/demands/tracked/").content.decode()


def test_phone_numbers_in_full_width_digits_or_split_by_dots_and_slashes_are_redacted_too(hidden):
    # found by the outsider review: only ASCII digits split by spaces or dashes were taken for phones
    from xinye.accounts import policy

    text = "电话１８１９０７４３９１５，或 181.9074.3915、181/9074/3915、（181）9074-3915，2026年1月31日、2026/1/31"
    out = policy.demand_text_for(policy_scope("secretary"), hidden, text)
    assert not any(d in out for d in ("１８１", "9074", "3915")), out
    assert "2026年1月31日" in out and "2026/1/31" in out


def test_the_platform_side_sees_no_photo_of_a_hidden_demand(hidden):
    from django.core.files.base import ContentFile

    from xinye.demands.models import Attachment

    photo = Attachment.objects.create(
        demand=hidden,
        content_type="image/jpeg",
        extension="jpg",
        size=1,
        sha256="0" * 64,
        file=ContentFile(b"x", name="a.jpg"),
    )
    for username, shown in (("secretary", False), ("staff", False), ("organizer", True), ("admin", True)):
        c = Client()
        c.force_login(User.objects.get(username=username))
        page = c.get(f"/demands/{hidden.pk}/").content.decode()
        url = f"/demands/{hidden.pk}/photos/{photo.pk}/"
        assert (url in page) is shown, username
        assert (c.get(url).status_code == 200) is shown, username
