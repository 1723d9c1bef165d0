"""A worker reports to their community from a phone, with consent; the organizer confirms. Issue #4."""

from __future__ import annotations

import pytest

from xinye.people.models import CommunityReport, ConsentRecord, Person, ReportStatus
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return Division.objects.filter(level=Level.COMMUNITY, code__startswith="440305").first()


def _form(place, **extra):
    data = {
        "submit": "1",
        "city": "4403",
        "street": place.parent.code,
        "community": place.code,
        "name": "王小明",
        "phone": "13912345678",
        "occupation": "delivery_rider",
        "consent": "1",
        "union_name": "深圳市南山区总工会",
        "union_since": "2025-03-01",
    }
    data.update(extra)
    return data


def test_a_worker_reports_without_logging_in_and_the_organizer_confirms(client, login, community):
    page = client.get(f"/report/?street={community.parent.code}", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert page.status_code == 200 and community.name in page.content.decode()
    done = client.post("/report/", _form(community))
    assert done.status_code == 200
    report = CommunityReport.objects.get(person__phone="13912345678")
    assert report.status == ReportStatus.PENDING and report.tracking_code in done.content.decode()
    assert report.consent.scope and report.consent.purpose == "report to the community"
    person = report.person
    assert person.work_community == community and person.union_name == ""  # applied on confirmation
    organizer = login("district") if community.code.startswith("440311") else login("organizer")
    listing = organizer.get("/community-reports/")
    assert "王小明" in listing.content.decode() and "13912345678" in listing.content.decode()
    organizer.post(f"/community-reports/{report.pk}/decide/", {"confirm": "1"})
    report.refresh_from_db()
    assert report.status == ReportStatus.CONFIRMED and report.decided_by is not None
    person.refresh_from_db()
    assert person.union_name == "深圳市南山区总工会" and str(person.union_since) == "2025-03-01"


def test_without_consent_nothing_is_stored(client, community):
    people, consents = Person.objects.count(), ConsentRecord.objects.count()
    response = client.post("/report/", _form(community, consent=""), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "without it nothing is saved" in response.content.decode()
    assert (Person.objects.count(), ConsentRecord.objects.count()) == (people, consents)


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("phone", "12345", "A mobile number has 11 digits"),
        ("community", "440305999999", "Choose the community where you work"),
        ("union_since", "2999-01-01", "A date in the future is not possible"),
    ],
)
def test_bad_fields_are_named(client, community, field, value, text):
    response = client.post("/report/", _form(community, **{field: value}), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and text in response.content.decode()


def test_other_districts_reports_are_out_of_scope(login, client, community):
    client.post("/report/", _form(community))
    report = CommunityReport.objects.latest("pk")
    district = login("district")
    from xinye.accounts.models import Role

    prefix = Role.objects.get(user__username="district").division.code
    if community.code.startswith(prefix):
        pytest.skip("the demo district is the community's district")
    assert "王小明" not in district.get("/community-reports/").content.decode()
    assert district.post(f"/community-reports/{report.pk}/decide/", {"confirm": "1"}).status_code == 404
    assert login("secretary").get("/community-reports/").status_code == 404


def test_reports_are_rate_limited_per_address(client, community, settings):
    from django.core.cache import cache

    cache.clear()
    for i in range(10):
        assert client.post("/report/", _form(community, phone=f"139000000{i:02d}")).status_code == 200
    assert client.post("/report/", _form(community, phone="13900000099")).status_code == 429
    cache.clear()


def test_a_report_does_not_change_an_existing_persons_record_until_confirmed(client, login, community):
    # given a worker already on record
    existing = (
        Person.objects.exclude(phone="").filter(work_community__isnull=False).exclude(work_community=community).first()
    )
    before = (existing.name, existing.occupation, existing.work_community_id)
    # when someone reports with that phone number and other details
    client.post("/report/", _form(community, phone=existing.phone, name="冒名者", occupation="truck_driver"))
    report = CommunityReport.objects.get(person=existing)
    existing.refresh_from_db()
    # then nothing of the record changed; the report holds what was said
    assert (existing.name, existing.occupation, existing.work_community_id) == before
    assert report.reported["name"] == "冒名者"
    # and a rejection leaves it so, while a confirmation applies it
    login("organizer").post(f"/community-reports/{report.pk}/decide/", {"confirm": "0"})
    existing.refresh_from_db()
    assert (existing.name, existing.occupation, existing.work_community_id) == before
