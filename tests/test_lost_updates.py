"""No lost updates (issue 10, item 7): a stale save of anything people share and edit - a station (form or
import), an organization, a post, a demand category - is refused with the other change shown (who, when,
field by field), and the user's values are kept. See xinye.common.concurrency."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

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
    assert response.status_code == 200 and "version" in response.context["form"].errors
    s.refresh_from_db()
    assert s.capacity != 3


def test_any_save_of_a_stale_instance_is_refused_not_only_the_forms():
    s = _own_station()
    mine, theirs = Station.objects.get(pk=s.pk), Station.objects.get(pk=s.pk)
    theirs.capacity = 99
    theirs.save()
    mine.opening_hours = "Mo-Su 10:00-12:00"
    with pytest.raises(Conflict) as caught:
        mine.save()
    assert [f[2] for c in caught.value.changes for f in c.fields] == ["99"]
    s.refresh_from_db()
    assert s.capacity == 99 and s.opening_hours != "Mo-Su 10:00-12:00"
    mine.refresh_from_db()
    mine.opening_hours = "Mo-Su 10:00-12:00"
    mine.save()  # read again: saved, and both changes are there
    s.refresh_from_db()
    assert (s.capacity, s.opening_hours, s.version) == (99, "Mo-Su 10:00-12:00", mine.version)


# ---------------------------------------------------------------- the station import


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def _row(s: Station, **over) -> dict:
    row = {"id": s.pk, "name": s.name, "kind": s.kind, "operator": s.operator_name, "lat": s.lat, "lon": s.lon}
    row.update(over)
    return row


def _import(client, body: bytes, **extra):
    return client.post("/stations/import/", {"file": SimpleUploadedFile("stations.csv", body), **extra})


def test_an_import_of_a_row_changed_since_the_export_is_refused_naming_row_column_and_value():
    s = _own_station()
    operator = _client("operator")
    exported = operator.get(f"/stations/export.csv?q={s.name}").content.decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["id"] == str(s.pk)]
    assert rows and rows[0]["version"] == str(s.version)
    # someone changes the station on its page meanwhile
    assert (
        _client("admin").post(f"/stations/{s.pk}/edit/", _station_form(s, s.version, capacity="5")).status_code == 302
    )
    rows[0]["name"] = "改名的驿站"
    response = _import(operator, _csv(rows))
    page = response.content.decode()
    assert response.status_code == 400
    assert "stations.csv 第 2 行 “version”列" in page and f"（值：{s.version}）" in page
    assert "admin" in page  # who changed it
    s.refresh_from_db()
    assert s.capacity == 5 and s.name != "改名的驿站"


def test_an_import_of_a_station_changed_after_its_dry_run_is_refused():
    s = _own_station()
    operator = _client("operator")
    body = _csv([_row(s, name="改名的驿站")])
    dry = _import(operator, body, dry_run="1")
    assert dry.status_code == 200
    token = re.search(r'name="seen" value="([^"]+)"', dry.content.decode()).group(1)
    fresh = Station.objects.get(pk=s.pk)
    fresh.capacity = 5
    fresh.save()  # someone else's change between the dry run and the import
    response = _import(operator, body, seen=token)
    assert response.status_code == 400 and "changed after the dry run" in response.content.decode()
    s.refresh_from_db()
    assert s.capacity == 5 and s.name != "改名的驿站"
    # a tampered record is refused, not trusted
    assert _import(operator, body, seen=token[:-3] + "xyz").status_code == 400
    # with a new dry run the import goes through and keeps the other change
    token = re.search(r'name="seen" value="([^"]+)"', _import(operator, body, dry_run="1").content.decode()).group(1)
    assert _import(operator, body, seen=token).status_code == 200
    s.refresh_from_db()
    assert s.capacity == 5 and s.name == "改名的驿站"


def test_a_row_changed_while_the_import_runs_is_not_overwritten(monkeypatch):
    from xinye.stations import registry

    s = _own_station()
    real_same = registry._same

    def someone_saves_meanwhile(a, b):  # called after the import read the stations, before it writes
        if a.pk == s.pk:
            other = Station.objects.get(pk=s.pk)
            other.capacity = 77
            other.save()
        return real_same(a, b)

    monkeypatch.setattr(registry, "_same", someone_saves_meanwhile)
    response = _import(_client("operator"), _csv([_row(s, name="改名的驿站")]))
    assert response.status_code == 400 and "changed while the file was being imported" in response.content.decode()


# ---------------------------------------------------------------- organizations, posts, categories


def test_a_stale_organization_update_is_refused_with_the_other_change():
    from xinye.organizations import services
    from xinye.organizations.models import Organization

    org = Organization.objects.order_by("pk").first()
    mine, theirs = Organization.objects.get(pk=org.pk), Organization.objects.get(pk=org.pk)
    services.organization_update(organization=theirs, name="他们的名称", reason="renamed")
    with pytest.raises(Conflict) as caught:
        services.organization_update(organization=mine, name="我的名称", reason="renamed too")
    change = caught.value.changes[-1]
    assert (str(Organization._meta.get_field("name").verbose_name), org.name, "他们的名称") in change.fields
    assert change.reason == "renamed"
    org.refresh_from_db()
    assert org.name == "他们的名称"
    # with an explicit version (the one an edit page was opened on), the same
    with pytest.raises(Conflict):
        services.organization_update(organization=Organization.objects.get(pk=org.pk), name="x", version=1)


def test_a_stale_post_update_is_refused():
    from xinye.organizations import services
    from xinye.organizations.models import Post

    post = Post.objects.order_by("pk").first()
    mine, theirs = Post.objects.get(pk=post.pk), Post.objects.get(pk=post.pk)
    services.post_update(post=theirs, end_date=post.start_date, reason="term ended")
    with pytest.raises(Conflict):
        services.post_update(post=mine, role="deputy")
    post.refresh_from_db()
    assert post.end_date == post.start_date and post.role == theirs.role


def test_update_versioned_sets_fields_only_at_the_expected_version():
    from xinye.organizations.models import Post

    post = Post.objects.order_by("pk").first()
    update_versioned(Post, post.pk, post.version, role="deputy")
    with pytest.raises(Conflict):
        update_versioned(Post, post.pk, post.version, role="committee_member")
    assert Post.objects.get(pk=post.pk).role == "deputy"


def _category_form(c, version, **over) -> dict:
    data = {
        "code": c.code,
        "name_en": c.name_en,
        "name_zh": c.name_zh,
        "description_en": c.description_en,
        "description_zh": c.description_zh,
        "group": c.group,
        "due_days": str(c.due_days),
        "order": str(c.order),
        "active": "on" if c.active else "",
        "base_version": str(version),
    }
    data.update(over)
    return data


def test_a_stale_category_save_in_the_admin_is_refused_showing_the_other_change():
    from xinye.demands.models import Category

    c = Category.objects.order_by("pk").first()
    url = f"/admin/demands/category/{c.pk}/change/"
    one, two = _client("admin"), _client("admin")
    assert f'name="base_version" value="{c.version}"' in one.get(url).content.decode()
    assert one.post(url, _category_form(c, c.version, due_days="9")).status_code == 302
    stale = two.post(url, _category_form(c, c.version, name_en="Mine"))
    page = stale.content.decode()
    assert stale.status_code == 200 and "→ 9" in page and "Mine" in page
    assert f'name="base_version" value="{c.version + 1}"' in page  # saving again keeps the typed values
    c.refresh_from_db()
    assert c.due_days == 9 and c.name_en != "Mine"
    assert two.post(url, _category_form(c, c.version, name_en="Mine")).status_code == 302
    c.refresh_from_db()
    assert c.due_days == 9 and c.name_en == "Mine"


def test_a_business_import_refuses_when_another_version_was_imported_meanwhile(monkeypatch, tmp_path):
    from xinye.algorithms.errors import InputError
    from xinye.organizations import planning
    from xinye.organizations.models import BusinessVersion

    company = Role.objects.get(user__username="staff").organization.company
    path = tmp_path / "business.xlsx"
    path.write_bytes(_client("staff").get(f"/companies/{company.pk}/business.xlsx").content)
    real = planning.business_by_key

    def another_import_lands(c):  # while this import reads the file and the current version
        last = c.versions.order_by("-number").first()
        number = (last.number if last else 0) + 1
        BusinessVersion.objects.create(company=c, number=number, effective_on=timezone.localdate())
        return real(c)

    monkeypatch.setattr(planning, "business_by_key", another_import_lands)
    before = BusinessVersion.objects.filter(company=company).count()
    with pytest.raises(InputError) as caught:
        planning.business_version_import(company=company, path=path)
    assert "another business version" in str(caught.value) and "column 'version'" in str(caught.value)
    assert BusinessVersion.objects.filter(company=company).count() == before + 1  # only the other one
