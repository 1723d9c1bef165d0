"""Regression tests for the findings of an independent review (privacy, merging, imports, bad input)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xinye.accounts.models import Role, RoleKind
from xinye.demands import services
from xinye.demands.models import Category, Demand
from xinye.people.models import Person
from xinye.stations.models import Station

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()


def _community():
    return Person.objects.filter(work_community__isnull=False).first().work_community


def test_an_anonymous_demand_from_a_logged_in_worker_keeps_no_account_and_history_names_no_one(client, login):
    member = Person.objects.get(user__username="member")
    c = login("member")
    r = c.post(
        "/demands/new/",
        {"submit": "1", "category": "pay", "description": "匿名", "anonymous": "1", "community": _community().code},
    )
    assert r.status_code == 302
    d = Demand.objects.latest("pk")
    assert d.anonymous and d.person is None and d.entered_by is None
    assert d.events.get(kind="submitted").actor is None
    named = services.demand_submit(
        category=Category.objects.get(code="pay"),
        description="实名",
        person=member,
        entered_by=member.user,
        hide_from_platform=True,
        community=_community(),
    )
    page = login("organizer").get(f"/demands/{named.pk}/").content.decode()
    assert "member" not in page.split("<h2>")[-1]  # the history says "submitter", not the account


def test_the_submitter_sees_only_public_events_on_the_demand_page(login):
    member = Person.objects.get(user__username="member")
    d = services.demand_submit(
        category=Category.objects.get(code="pay"), description="x", person=member, community=_community()
    )
    services.demand_note(d, actor=None, note="内部备注：先核实", public=False)
    page = login("member").get(f"/demands/{d.pk}/")
    assert page.status_code == 200 and "内部备注" not in page.content.decode()


def test_merging_into_an_ordinary_demand_makes_a_new_collective_one_and_codes_stay_secret(client):
    a = services.demand_submit(category=Category.objects.get(code="pay"), description="a", community=_community())
    b = services.demand_submit(category=Category.objects.get(code="pay"), description="b", community=_community())
    into = services.demand_merge([b], into=a, actor=None)
    a.refresh_from_db()
    b.refresh_from_db()
    assert into.collective and into.pk not in (a.pk, b.pk)
    assert a.merged_into == into and b.merged_into == into
    client.post("/demands/track/", {"code": b.tracking_code})
    page = client.get("/demands/tracked/").content.decode()
    assert a.tracking_code not in page and into.reference in page


def test_bulk_needs_the_version_each_row_showed_and_names_demands_by_number(login):
    d = services.demand_submit(category=Category.objects.get(code="pay"), description="x", community=_community())
    c = login("organizer")
    r = c.post("/demands/bulk/", {"action": "accepted", "ids": [str(d.pk)]}, follow=True)
    body = r.content.decode()
    assert d.tracking_code not in body and d.reference in body
    d.refresh_from_db()
    assert d.status == "submitted"


@pytest.mark.parametrize(
    "url",
    ["/demands/?q=D%C2%B2", "/demands/track/?code=AB/CD", "/demands/track/%00/"],
)
def test_odd_input_gets_a_clear_answer_not_a_crash(login, url):
    assert login("organizer").get(url).status_code in (200, 400, 404)


def test_odd_form_input_gets_a_clear_answer(login, client):
    r = client.post("/demands/new/", {"submit": "1", "category": "pay", "description": "x", "company": "abc"})
    assert r.status_code == 302  # an unknown company is ignored
    r = login("organizer").post("/demands/bulk/", {"action": "accepted", "ids": ["²", "9" * 30]})
    assert r.status_code == 302


def test_open311_dates_out_of_range_are_a_400(client):
    r = client.get("/open311/v2/requests.json?start_date=9999-12-31T00:00:00Z")
    assert r.status_code == 400


def test_a_category_due_in_zero_days_does_not_escalate_on_every_run():
    cat = Category.objects.create(code="now", name_en="Now", name_zh="即时", due_days=0)
    t0 = timezone.now()
    services.demands_escalate(now=t0)  # the demo's own overdue demands (issue 16) are escalated first
    services.demand_submit(category=cat, description="x", community=_community(), now=t0)
    runs = [services.demands_escalate(now=t0 + dt.timedelta(minutes=5 * i)) for i in range(1, 6)]
    assert sum(runs) <= 1


def _import(client, rows, name="s.csv"):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return client.post("/stations/import/", {"file": SimpleUploadedFile(name, buf.getvalue().encode()), "crs": "wgs84"})


def test_a_partial_import_keeps_the_columns_it_does_not_have(login):
    op = Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name
    s = Station.objects.filter(operator_name=op).first()
    Station.objects.filter(pk=s.pk).update(
        status="closed", amenities=["water", "shower"], capacity=9, opening_hours="Mo-Fr 08:00-18:00"
    )
    r = _import(
        login("operator"), [{"id": s.pk, "name": "新名字", "kind": s.kind, "operator": op, "lat": s.lat, "lon": s.lon}]
    )
    assert r.status_code == 200, r.content.decode()[-600:]
    s.refresh_from_db()
    assert s.name == "新名字" and s.status == "closed" and s.amenities == ["water", "shower"]
    assert s.capacity == 9 and s.opening_hours == "Mo-Fr 08:00-18:00"


def test_import_refuses_nul_long_values_and_huge_numbers(login):
    op = Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name
    before = Station.objects.count()
    nul = {"id": "", "name": "a\x00b", "kind": "union", "operator": op, "lat": "22.5", "lon": "114", "capacity": ""}
    r = _import(login("operator"), [nul])
    body = r.content.decode()
    assert r.status_code == 400 and "第 2 行 “name”列" in body and "NUL" in body
    r = _import(
        login("operator"),
        [
            {"id": "", "name": "ok", "kind": "union", "operator": op, "lat": "22.5", "lon": "114", "capacity": ""},
            {"id": "9" * 25, "name": "x", "kind": "union", "operator": op, "lat": "22.5", "lon": "114", "capacity": ""},
            {"id": "", "name": "y", "kind": "union", "operator": op, "lat": "22.5", "lon": "114", "capacity": "9" * 25},
        ],
    )
    body = r.content.decode()
    assert r.status_code == 400 and "第 3 行 “id”列" in body
    assert "第 4 行 “capacity”列" in body
    assert Station.objects.count() == before
    gj = (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1], '
        b'"geometry": {"type": "Point", "coordinates": [114, 22.5]}}]}'
    )
    r = login("operator").post("/stations/import/", {"file": SimpleUploadedFile("g.geojson", gj), "crs": "wgs84"})
    assert r.status_code == 400 and "properties 必须是对象" in r.content.decode()  # "properties must be an object"


def test_coverage_with_minutes_not_a_number_falls_back_to_15(login):
    page = login("organizer").get("/stations/coverage/?division=4403&minutes=nan").content.decode()
    assert "3750" in page
