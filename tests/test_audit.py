"""Issue 10, ASVS level 2: the audit log of sign-ins and of reads of sensitive fields (accounts.audit)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from xinye.accounts.models import AuditEvent
from xinye.demo.services import DEMO_PASSWORD
from xinye.people.models import Person

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_sign_in_failed_sign_in_and_sign_out_are_recorded(demo):
    c = Client(REMOTE_ADDR="203.0.113.7")
    c.post("/accounts/login/", {"username": "organizer", "password": "wrong"})
    assert c.post("/accounts/login/", {"username": "organizer", "password": DEMO_PASSWORD}).status_code == 302
    c.post("/accounts/logout/")
    events = list(AuditEvent.objects.filter(username="organizer").order_by("pk"))
    assert [e.kind for e in events] == ["sign_in_failed", "sign_in", "sign_out"]
    assert events[1].user == User.objects.get(username="organizer") and events[1].address == "203.0.113.7"
    assert all(e.path == "/accounts/login/" for e in events[:2])
    assert "wrong" not in str([vars(e) for e in events])  # never the password


def test_a_full_phone_shown_to_an_organizer_is_recorded_once_per_page(demo, login):
    organizer = User.objects.get(username="organizer")
    person = Person.objects.exclude(phone="").filter(work_community__code__startswith="4403").order_by("pk").first()
    c = login("organizer")
    assert person.phone in c.get(f"/people/{person.pk}/").content.decode()
    (e,) = AuditEvent.objects.filter(kind="read", user=organizer)
    assert (e.field, e.subject_type, e.subject_ids, e.count) == ("full_phone", "people.person", str(person.pk), 1)
    assert e.path == f"/people/{person.pk}/" and person.phone not in str(vars(e))  # the subject, not the value
    AuditEvent.objects.all().delete()
    c.get("/people/")  # a list page: one entry naming how many numbers it showed
    (e,) = AuditEvent.objects.filter(kind="read", user=organizer)
    assert e.count == 50 and len(e.subject_ids.split(",")) == 50
    AuditEvent.objects.all().delete()
    c.get("/api/people/")
    (e,) = AuditEvent.objects.filter(kind="read", user=organizer)
    assert e.field == "full_phone" and e.count > 1


def test_nothing_is_recorded_when_the_phone_is_masked(demo, login):
    c = login("secretary")
    person = Person.objects.filter(memberships__organization__in=User.objects.get(username="secretary").roles.values(
        "organization")).exclude(phone="").first()  # fmt: skip
    page = c.get(f"/people/{person.pk}/").content.decode()
    assert person.phone not in page and person.masked_phone in page
    c.get("/people/")
    c.get("/api/people/")
    assert not AuditEvent.objects.filter(kind="read").exists()


def test_a_hidden_demands_identity_and_party_status_read_by_an_administrator_are_recorded(demo, login):
    from xinye.demands.models import Demand

    d = Demand.objects.filter(hide_from_platform=True, anonymous=False, person__isnull=False).first()
    c = login("admin")
    c.get(f"/demands/{d.pk}/")
    fields = set(AuditEvent.objects.filter(kind="read").values_list("field", flat=True))
    assert {"hidden_identity", "full_phone"} <= fields
    member = Person.objects.filter(memberships__isnull=False).first()
    c.get(f"/people/{member.pk}/")
    assert AuditEvent.objects.filter(kind="read", field="party_status", subject_ids=str(member.pk)).exists()


def test_the_audit_page_is_for_administrators_only(demo, login):
    for name in ["organizer", "district", "staff", "secretary", "member", "operator"]:
        assert login(name).get("/audit/").status_code == 404, name
    assert Client().get("/audit/").status_code == 404
    c = login("admin")
    AuditEvent.objects.create(at="2026-01-02T03:04:05+08:00", username="someone", kind="sign_in_failed")
    page = c.get("/audit/", {"user": "someone", "kind": "sign_in_failed", "since": "2026-01-01", "until": "2026-01-02"})
    assert page.status_code == 200 and page.content.decode().count('data-audit="sign_in_failed"') == 1
    assert c.get("/audit/", {"user": "someone", "since": "2026-01-03"}).content.decode().count("data-audit=") == 0
    assert c.get("/audit/", {"since": "yesterday"}).status_code == 400
    # the Django admin shows it read-only
    assert c.get("/admin/accounts/auditevent/").status_code == 200
    assert c.get("/admin/accounts/auditevent/add/").status_code == 403


def test_a_date_filter_at_the_end_of_the_calendar_is_no_error(demo, login):
    assert login("admin").get("/audit/?until=9999-12-31&since=0001-01-01").status_code == 200
