"""A worker applies to join the trade union from the community report's page; the application reaches the
organizers of their community, who answer it; the worker sees the answer in their data (issue 12, item 6)."""

from __future__ import annotations

import pytest
from django.test import Client

from xinye.people import rights
from xinye.people.models import CommunityReport, UnionApplication
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db


def _form(place, **extra):
    return {
        "submit": "1", "city": "4403", "street": place.parent.code, "community": place.code, "name": "刘想加",
        "phone": "13912340001", "occupation": "courier", "consent": "1", "union_apply": "1", **extra,
    }  # fmt: skip


def test_apply_confirm_answer_and_see_it(login, demo):
    place = Division.objects.filter(level=Level.COMMUNITY, code__startswith="440305").first()
    assert Client().post("/report/", _form(place)).status_code == 200
    report = CommunityReport.objects.get(phone="13912340001")
    assert not UnionApplication.objects.exists()  # nothing about anyone before the report is confirmed
    organizer = login("organizer")
    assert "union_apply" in Client().get(f"/report/?street={place.parent.code}").content.decode()
    organizer.post(f"/community-reports/{report.pk}/decide/", {"confirm": "1"})
    app = UnionApplication.objects.get()
    assert app.person.phone == "13912340001" and app.status == "pending"
    assert "/union-applications/" in organizer.get("/").content.decode()
    page = organizer.get("/union-applications/").content.decode()
    assert "刘想加" in page
    organizer.post("/union-applications/", {"application": app.pk, "answer": "accept", "union_name": ""})
    app.refresh_from_db()
    assert app.status == "pending"  # accepting names the union
    organizer.post(
        "/union-applications/", {"application": app.pk, "answer": "accept", "union_name": "南山区快递行业工会"}
    )
    app.refresh_from_db()
    assert app.status == "accepted" and app.person.union_name == "南山区快递行业工会" and app.person.union_since
    data = rights.person_data(phone="13912340001")
    assert any(a["union"] == "南山区快递行业工会" for p in data["people"] for a in p["union_applications"])


def test_a_union_member_does_not_apply_and_others_cannot_answer(login, demo):
    place = Division.objects.filter(level=Level.COMMUNITY, code__startswith="440305").first()
    Client().post("/report/", _form(place, phone="13912340002", union_name="已有工会"))
    report = CommunityReport.objects.get(phone="13912340002")
    assert report.reported["union_apply"] is False
    for name in ("member", "secretary", "operator", "staff"):
        assert login(name).get("/union-applications/").status_code == 404
