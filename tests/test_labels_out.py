"""Labels next to codes in exports and in the API (issue 16: "Chinese throughout"): a reader gets 开放 next to
`open`, a program keeps the code. The labels are in the request's language and come from the models' choices
and xinye.common.labels."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import translation
from openpyxl import load_workbook
from rdflib import Graph, Literal
from rdflib.namespace import SKOS

from xinye.accounts.models import Role
from xinye.organizations.models import OrgKind, UnitKind
from xinye.people.models import MembershipStatus, Occupation
from xinye.stations.models import Amenity, Station, StationKind, StationStatus

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def zh(choices, code) -> str:
    with translation.override("zh-hans"):
        return str(dict(choices.choices)[code])


def en(choices, code) -> str:
    with translation.override("en"):
        return str(dict(choices.choices)[code])


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def station():
    s = Station.objects.filter(status=StationStatus.OPEN).order_by("pk").first()
    s.amenities = [Amenity.values[0], "充电宝"]
    s.save(update_fields=["amenities"])
    return s


# ------------------------------------------------------------------------------------------------ exports


def test_station_csv_export_has_chinese_labels_after_the_codes(login, station):
    client = login("admin")
    body = client.get(f"/stations/export.csv?q={station.name}", **ZH).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    row = next(r for r in rows if r["id"] == str(station.pk))
    assert row["kind"] == station.kind and row["status"] == "open"  # codes stay for an import
    assert row["kind_label"] == zh(StationKind, station.kind) and _has_han(row["kind_label"])
    assert row["status_label"] == zh(StationStatus, "open") and _has_han(row["status_label"])
    assert row["amenities_label"] == zh(Amenity, Amenity.values[0]) + "；充电宝"


def test_station_export_labels_follow_the_language_of_the_request(login, station):
    client = login("admin")
    body = client.get(f"/stations/export.csv?q={station.name}", **EN).content.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["id"] == str(station.pk))
    assert row["status_label"] == en(StationStatus, "open")


def test_station_xlsx_and_geojson_exports_have_labels(login, station):
    client = login("admin")
    ws = load_workbook(io.BytesIO(client.get(f"/stations/export.xlsx?q={station.name}", **ZH).content))["stations"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["status"] == "open" and row["status_label"] == zh(StationStatus, "open")
    gj = json.loads(client.get(f"/stations/export.geojson?q={station.name}", **ZH).content)
    props = next(f["properties"] for f in gj["features"] if f["id"] == station.pk)
    assert props["kind_label"] == zh(StationKind, station.kind)
    assert props["amenities_label"] == [zh(Amenity, Amenity.values[0]), "充电宝"]


def test_the_import_template_keeps_only_the_columns_an_import_reads(login):
    ws = load_workbook(io.BytesIO(login("admin").get("/stations/template.xlsx", **ZH).content))["stations"]
    assert "status_label" not in [c.value for c in ws[1]]


def test_exported_stations_import_back_unchanged_with_their_label_columns(login, station):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login("admin")
    exported = client.get(f"/stations/export.csv?q={station.name}", **ZH).content
    data = {"file": SimpleUploadedFile("stations.csv", exported), "crs": "wgs84", "dry_run": "1"}
    response = client.post("/stations/import/", data, **ZH)
    assert response.status_code == 200
    assert 'data-created="0" data-updated="0"' in response.content.decode()


def test_business_download_has_labels_of_kinds_and_statuses(login):
    company = Role.objects.get(user__username="staff").organization.company
    client = login("staff")
    wb = load_workbook(io.BytesIO(client.get(f"/companies/{company.pk}/business.xlsx", **ZH).content))
    units = [[c.value for c in r] for r in wb["units"].iter_rows()]
    assert units[0][-2:] == ["kind_label", "status_label"]
    kind, label = units[1][3], units[1][-2]
    assert label == zh(UnitKind, kind) and _has_han(label)
    assert _has_han(units[1][-1])  # 有效 / 已撤销 / 已合并, whatever the unit's status
    members = [[c.value for c in r] for r in wb["members"].iter_rows()]
    assert members[0] == ["id", "unit", "status", "status_label"]
    assert members[1][3] == zh(MembershipStatus, members[1][2])


def test_indicators_csv_has_the_occupation_and_unit_labels(login):
    client = login("admin")
    body = client.get("/indicators/?division=4403&occupation=courier&format=csv", **ZH).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows and rows[0]["occupation"] == "courier"
    assert rows[0]["occupation_label"] == zh(Occupation, "courier")
    assert _has_han(rows[0]["unit_label"])


def test_organization_rdf_labels_its_kinds_in_the_language_of_the_request(login):
    root = Role.objects.get(user__username="staff").organization
    body = login("staff").get(f"/organizations/{root.pk}/export.ttl", **ZH).content.decode()
    graph = Graph().parse(data=body, format="turtle")
    labels = set(graph.objects(None, SKOS.prefLabel))
    assert Literal(zh(OrgKind, root.kind), lang="zh-Hans") in labels
    popolo = json.loads(login("staff").get(f"/organizations/{root.pk}/export.popolo.json", **ZH).content)
    m = popolo["memberships"][0]
    assert m["label"] == zh(MembershipStatus, m["role"])


# ---------------------------------------------------------------------------------------------------- API


def test_api_gives_a_label_next_to_each_code_in_chinese(login, station):
    client = login("admin")
    data = client.get(f"/api/stations/{station.pk}/", **ZH).json()
    assert data["status"] == "open" and data["status_label"] == zh(StationStatus, "open")
    assert data["kind_label"] == zh(StationKind, station.kind)
    assert data["amenities_labels"] == [zh(Amenity, Amenity.values[0]), "充电宝"]
    people = client.get("/api/people/?members=true", **ZH).json()["results"]
    person = next(p for p in people if p["memberships"])
    assert person["occupation_label"] == zh(Occupation, person["occupation"])
    m = person["memberships"][0]
    assert m["status_label"] == zh(MembershipStatus, m["status"]) and _has_han(m["status_label"])
    org = client.get("/api/organizations/", **ZH).json()["results"][0]
    assert org["kind_label"] == zh(OrgKind, org["kind"]) and _has_han(org["kind_label"])
    division = client.get("/api/divisions/4403/", **ZH).json()
    assert _has_han(division["level_label"])


def test_api_labels_are_english_for_an_english_request(login, station):
    data = login("admin").get(f"/api/stations/{station.pk}/", **EN).json()
    assert data["status_label"] == en(StationStatus, "open")


def test_finder_api_gives_the_kind_and_amenity_labels(client, station):
    found = client.get(f"/api/stations/nearest/?lat={station.lat}&lon={station.lon}&limit=1", **ZH).json()[0]
    assert found["id"] == station.pk
    assert found["kind_label"] == zh(StationKind, station.kind)
    assert found["amenities_labels"] == [zh(Amenity, Amenity.values[0]), "充电宝"]


def test_indicators_api_gives_the_occupation_and_indicator_labels(login):
    data = login("admin").get("/api/indicators/?division=4403&occupation=courier", **ZH).json()
    assert data["occupation"] == "courier" and data["occupation_label"] == zh(Occupation, "courier")
    assert _has_han(data["figures"][0]["indicator_label"])


def test_the_schema_documents_the_labels(client):
    spec = client.get("/api/schema/?format=json").json()
    station = spec["components"]["schemas"]["Station"]["properties"]
    assert {"status_label", "kind_label", "amenities_labels"} <= set(station)
