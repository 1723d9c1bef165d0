"""No lost updates (issue 10, item 7): a stale save of anything people share and edit - a station (form or
import), an organization, a post, a demand category - is refused with the other change shown (who, when,
field by field), and the user's values are kept. See xinye.common.concurrency."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from xinye.accounts.models import Role, RoleKind
from xinye.common.concurrency import Conflict, update_versioned
from xinye.stations.models import Station

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def _own_station() -> Station:
    name = Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name
    return Station.objects.filter(operator_name=name).order_by("pk").first()


def _station_form(s: Station, version, **over) -> dict:
    data = {
        "name": s.name,
        "kind": s.kind,
        "operator_name": s.operator_name,
        "crs": "wgs84",
        "lat": repr(s.lat),
        "lon": repr(s.lon),
        "standard_amenities": [a for a in s.amenities if a in ("water", "toilet", "seats")],
        "custom_amenities": "",
        "community": s.division.code if s.division_id else "",
        "opening_hours": s.opening_hours,
        "capacity": "" if s.capacity is None else str(s.capacity),
        "contact_phone": s.contact_phone,
        "status": s.status,
        "verified_on": "",
        "version": "" if version is None else str(version),
    }
    data.update(over)
    return data


def test_a_stale_station_form_is_refused_showing_the_other_change_and_keeping_the_typed_values():
    s = _own_station()
    seen = s.version  # both people open the edit page at this version
    assert _client("operator").get(f"/stations/{s.pk}/edit/").content.decode().count(f'value="{seen}"') >= 1
    first = _client("operator").post(f"/stations/{s.pk}/edit/", _station_form(s, seen, capacity="7"))
    assert first.status_code == 302
    admin = _client("admin")
    stale = admin.post(f"/stations/{s.pk}/edit/", _station_form(s, seen, opening_hours="Mo-Fr 09:00-17:00"))
    page = stale.content.decode()
    assert stale.status_code == 200 and "data-conflict" in page
    assert "operator" in page  # who made the other change
    assert ">7<" in page  # the other change, field by field (capacity old -> 7)
    assert "Mo-Fr 09:00-17:00" in page  # what the admin typed is kept in the form
    s.refresh_from_db()
    assert s.capacity == 7 and s.opening_hours != "Mo-Fr 09:00-17:00" and s.version == seen + 1
    # saving again from the conflict page (it carries the current version) keeps the admin's values
    again = admin.post(f"/stations/{s.pk}/edit/", _station_form(s, seen + 1, opening_hours="Mo-Fr 09:00-17:00"))
    assert again.status_code == 302
    s.refresh_from_db()
    assert s.capacity == 7 and s.opening_hours == "Mo-Fr 09:00-17:00" and s.version == seen + 2


def test_a_station_form_without_a_version_is_refused():
    s = _own_station()
    response = _client("operator").post(f"/stations/{s.pk}/edit/", _station_form(s, None, capacity="3"))
    assert response.status_code == 200 and "reload the page" in response.content.decode()
    s.refresh_from_db()
    assert s.capacity != 3
