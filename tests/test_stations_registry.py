"""The station registry: operators' scope, entry in GCJ-02/BD-09, import/export (CSV, .xlsx, GeoJSON) with
template, dry run and row errors. Issue #5, item 1."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinye.accounts.models import Role, RoleKind
from xinye.algorithms import geo
from xinye.stations.models import Station

pytestmark = pytest.mark.django_db


def _operator_name():
    return Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name


def test_an_operator_sees_and_edits_only_their_own_stations(login):
    client = login("operator")
    own = Station.objects.filter(operator_name=_operator_name())
    other = Station.objects.exclude(operator_name=_operator_name()).first()
    page = client.get("/stations/?q=")
    assert page.status_code == 200
    assert page.content.decode().count("data-station=") == min(own.count(), 50)
    assert client.get(f"/stations/{own.first().pk}/edit/").status_code == 200
    assert client.get(f"/stations/{other.pk}/").status_code == 404
    assert client.get(f"/stations/{other.pk}/edit/").status_code == 404
    assert client.post(f"/stations/{other.pk}/edit/", {"name": "x"}).status_code == 404


@pytest.mark.parametrize("username", ["secretary", "member"])
def test_people_without_a_station_role_have_no_registry(login, username):
    client = login(username)
    assert client.get("/stations/").status_code == 404
    assert client.get("/stations/export.csv").status_code == 404
    assert client.get("/stations/coverage/").status_code == 404


def _form(**over):
    data = {
        "name": "测试驿站",
        "kind": "union",
        "operator_name": _operator_name(),
        "crs": "gcj02",
        "lat": "22.5431",
        "lon": "114.0579",
        "standard_amenities": ["water", "microwave"],
        "custom_amenities": "充电宝；雨具",
        "community": "",
        "opening_hours": "Mo-Su 08:00-22:00; PH off",
        "capacity": "12",
        "contact_phone": "0755-1234",
        "status": "open",
        "verified_on": "2026-11-01",
    }
    data.update(over)
    return data


def test_a_station_entered_in_gcj02_is_stored_in_wgs84_with_its_community(login):
    client = login("operator")
    response = client.post("/stations/new/", _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    s = Station.objects.get(name="测试驿站")
    lat, lon = geo.to_wgs84(22.5431, 114.0579, "gcj02")
    assert geo.haversine_m(s.lat, s.lon, lat, lon) < 0.01
    assert geo.haversine_m(s.lat, s.lon, 22.5431, 114.0579) > 200  # the offset was removed
    assert s.amenities == ["water", "microwave", "充电宝", "雨具"]
    assert s.division is not None and s.division.level == "community"
    assert s.history.first().history_user.username == "operator"
    detail = client.get(f"/stations/{s.pk}/").content.decode()
    assert "GCJ-02: 22.543100, 114.057900" in detail


def test_the_form_names_bad_opening_hours_and_another_operators_name_is_refused(login):
    client = login("operator")
    response = client.post("/stations/new/", _form(opening_hours="Mo-Xx 25:00"))
    assert response.status_code == 200 and "opening_hours" in response.content.decode()
    response = client.post("/stations/new/", _form(operator_name="别人的驿站运营方"))
    assert response.status_code == 200
    assert not Station.objects.filter(name="测试驿站").exists()


def _upload(client, name, body, *, dry_run=False, crs="wgs84"):
    data = {"file": SimpleUploadedFile(name, body), "crs": crs}
    if dry_run:
        data["dry_run"] = "1"
    return client.post("/stations/import/", data)


def _csv(rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def test_import_dry_run_then_import_then_reimport_changes_nothing(login):
    client = login("operator")
    op = _operator_name()
    rows = [
        {
            "name": "导入驿站一",
            "kind": "platform",
            "operator": op,
            "lat": "22.55",
            "lon": "114.06",
            "amenities": "饮用水;charging",
            "opening_hours": "24/7",
        },
        {
            "name": "导入驿站二",
            "kind": "工会户外劳动者服务站",
            "operator": op,
            "lat": "22.56",
            "lon": "114.07",
            "amenities": "",
            "opening_hours": "Mo-Fr 09:00-18:00",
        },
    ]
    before = Station.objects.count()
    dry = _upload(client, "new.csv", _csv(rows), dry_run=True)
    assert dry.status_code == 200, dry.content.decode()[-1500:]
    assert 'data-created="2" data-updated="0"' in dry.content.decode()
    assert Station.objects.count() == before
    done = _upload(client, "new.csv", _csv(rows))
    assert done.status_code == 200
    assert Station.objects.count() == before + 2
    one = Station.objects.get(name="导入驿站一")
    assert one.amenities == ["water", "charging"] and one.kind == "platform"
    assert Station.objects.get(name="导入驿站二").kind == "union"
    # export what the operator has, import it back: nothing changes
    exported = client.get("/stations/export.csv").content
    again = _upload(client, "stations.csv", exported)
    assert again.status_code == 200
    body = again.content.decode()
    assert Station.objects.count() == before + 2
    assert 'data-created="0" data-updated="0"' in body, body[
        body.find("data-created") : body.find("data-created") + 1500
    ]


def test_bad_rows_are_named_and_nothing_is_written(login):
    client = login("operator")
    op = _operator_name()
    other = Station.objects.exclude(operator_name=op).first()
    rows = [
        {
            "id": "",
            "name": "好的一行",
            "kind": "union",
            "operator": op,
            "lat": "22.5",
            "lon": "114.0",
            "opening_hours": "24/7",
            "capacity": "",
        },
        {
            "id": "",
            "name": "坏的一行",
            "kind": "castle",
            "operator": op,
            "lat": "95",
            "lon": "114.0",
            "opening_hours": "Mo-Xx",
            "capacity": "many",
        },
        {
            "id": str(other.pk),
            "name": "别人的",
            "kind": "union",
            "operator": op,
            "lat": "22.5",
            "lon": "114.0",
            "opening_hours": "24/7",
            "capacity": "",
        },
        {
            "id": "",
            "name": "冒名",
            "kind": "union",
            "operator": "别的运营方",
            "lat": "22.5",
            "lon": "114.0",
            "opening_hours": "24/7",
            "capacity": "",
        },
    ]
    before = Station.objects.count()
    response = _upload(client, "bad.csv", _csv(rows))
    assert response.status_code == 400
    text = response.content.decode()
    assert "bad.csv 第 3 行 “kind”列" in text and "castle" in text
    assert "第 3 行 “lat/lon”列" in text
    assert "第 3 行 “opening_hours”列" in text
    assert "第 3 行 “capacity”列" in text
    # (the problem in the page's language: Chinese by default)
    assert f"第 4 行 “id”列：没有您可编辑的此 id 的驿站 （值：{other.pk}）" in text
    assert "第 5 行 “operator”列" in text
    assert Station.objects.count() == before and not Station.objects.filter(name="好的一行").exists()


def test_geojson_and_xlsx_round_trip_and_the_template_imports(login):
    client = login("admin")
    gj = client.get("/stations/export.geojson?q=" + Station.objects.first().name)
    data = json.loads(gj.content)
    assert data["type"] == "FeatureCollection" and data["features"]
    f = data["features"][0]
    s = Station.objects.get(pk=f["id"])
    assert f["geometry"]["coordinates"] == [round(s.lon, 7), round(s.lat, 7)]
    assert f["properties"]["amenities"] == s.amenities
    assert 'data-created="0" data-updated="0"' in _upload(client, "s.geojson", gj.content).content.decode()
    xlsx = client.get("/stations/export.xlsx?q=" + s.name).content
    assert 'data-created="0" data-updated="0"' in _upload(client, "s.xlsx", xlsx).content.decode()
    template = client.get("/stations/template.xlsx")
    assert template.status_code == 200
    dry = _upload(client, "template.xlsx", template.content, dry_run=True).content.decode()
    assert 'data-created="1" data-updated="0"' in dry
    # GCJ-02 export converts the coordinates
    gcj = list(
        csv.DictReader(
            io.StringIO(client.get(f"/stations/export.csv?crs=gcj02&q={s.name}").content.decode("utf-8-sig"))
        )
    )[0]
    assert geo.haversine_m(*geo.to_wgs84(float(gcj["lat"]), float(gcj["lon"]), "gcj02"), s.lat, s.lon) < 0.1


def test_a_broken_file_gets_a_clear_error(login):
    client = login("admin")
    response = _upload(client, "x.xlsx", b"not a workbook")
    assert response.status_code == 400 and "x.xlsx" in response.content.decode()
    response = _upload(
        client,
        "x.geojson",
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString"}}]}',
    )
    assert response.status_code == 400 and "第 1 条记录" in response.content.decode()  # features[0]
