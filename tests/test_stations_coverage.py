"""Coverage of workers by stations and placement of new ones, on the demo city. Issue #5, items 3 and 4."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinye.algorithms import geo
from xinye.stations import coverage
from xinye.stations.models import PlacementRun, Station

pytestmark = pytest.mark.django_db
CITY = "4403"


@pytest.fixture(autouse=True)
def inline_jobs(settings):
    settings.XINYE_JOBS_INLINE = True


def _brute_counts(cells, stations, radius):
    s_lat = np.array([s.lat for s in stations])
    s_lon = np.array([s.lon for s in stations])
    pairs = zip(cells.lat, cells.lon, strict=True)
    return np.array([int((geo.haversine_m_array(la, lo, s_lat, s_lon) <= radius).sum()) for la, lo in pairs])


def test_coverage_matches_a_brute_force_count():
    report = coverage.coverage_report(division_code=CITY, minutes=10, mode="ebike")
    cells = coverage.worker_cells(CITY)
    stations = list(Station.objects.filter(status="open"))
    counts = _brute_counts(cells, stations, report["radius_m"])
    assert report["radius_m"] == pytest.approx(2500)  # 10 minutes at 15 km/h
    assert report["workers"] == cells.workers.sum() > 0
    assert report["covered"] == cells.workers[counts >= 1].sum()
    assert report["double"] == cells.workers[counts >= 2].sum()
    assert 0 < report["share"] < 1
    assert sum(r["workers"] for r in report["by_district"]) == report["workers"]
    assert sum(r["covered"] for r in report["by_occupation"]) == report["covered"]
    assert all(a["covered"] <= report["covered"] for a in report["by_amenity"])
    assert report["night_covered"] <= report["covered"]
    assert sum(n for _c, n in report["uncovered_cells"]) == report["workers"] - report["covered"]


def test_walking_covers_less_and_a_new_station_covers_its_cell():
    ebike = coverage.coverage_report(division_code=CITY)
    walk = coverage.coverage_report(division_code=CITY, mode="walk")
    assert walk["radius_m"] == pytest.approx(1125) and walk["covered"] <= ebike["covered"]
    cell, n = walk["uncovered_cells"][0]  # the most crowded cell out of walking reach
    lat, lon = geo.h3_center(cell)
    Station.objects.create(
        name="新站", kind="union", operator_name="x", lat=lat, lon=lon, h3_cell=0, opening_hours="24/7"
    )
    after = coverage.coverage_report(division_code=CITY, mode="walk")
    assert cell not in dict(after["uncovered_cells"])
    assert after["covered"] >= walk["covered"] + n


def test_the_coverage_page_and_its_geojson(login):
    client = login("organizer")
    page = client.get(f"/stations/coverage/?division={CITY}&minutes=15&mode=ebike&at=night")
    assert page.status_code == 200 and 'data-coverage="share"' in page.content.decode()
    gj = json.loads(client.get(f"/stations/coverage/?division={CITY}&format=geojson").content)
    assert gj["type"] == "FeatureCollection" and gj["features"]
    f = gj["features"][0]
    assert f["geometry"]["type"] == "Polygon" and f["properties"]["workers"] > 0
    ring = f["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7  # a closed hexagon


def test_a_district_organizer_sees_only_their_district(login):
    from xinye.accounts.models import Role

    district = Role.objects.get(user__username="district").division.code
    client = login("district")
    assert client.get(f"/stations/coverage/?division={CITY}").status_code == 404
    assert client.get(f"/stations/coverage/?division={district}").status_code == 200
    assert client.get(f"/stations/placement/?division={CITY}").status_code == 404


def test_placement_job_finds_sites_with_a_certified_bound(login):
    client = login("organizer")
    before = coverage.coverage_report(division_code=CITY, minutes=10)
    response = client.post(
        "/stations/placement/", {"division": CITY, "k": 5, "minutes": 10, "mode": "ebike", "source": "communities"}
    )
    assert response.status_code == 302
    run = PlacementRun.objects.latest("pk")
    s = run.result["summary"]
    assert s["covered_before"] == before["covered"]
    picks = run.result["picks"]
    assert [p["rank"] for p in picks] == [1, 2, 3, 4, 5]
    assert [p["gain"] for p in picks] == sorted((p["gain"] for p in picks), reverse=True)
    assert sum(p["gain"] for p in picks) == pytest.approx(s["covered_after"] - s["covered_before"])
    assert s["covered_after"] <= s["upper_bound"] and 0.63 <= s["guarantee"] <= 1
    # the picks, built as stations, cover what the summary says
    for p in picks:
        Station.objects.create(
            name=p["name"],
            kind="community_centre",
            operator_name="x",
            lat=p["lat"],
            lon=p["lon"],
            h3_cell=0,
            opening_hours="24/7",
        )
    assert coverage.coverage_report(division_code=CITY, minutes=10)["covered"] == s["covered_after"]
    page = client.get(f"/stations/placement/{run.pk}/")
    assert page.status_code == 200 and page.content.decode().count("data-pick") == 5
    csv_rows = client.get(f"/stations/placement/{run.pk}/?format=csv").content.decode("utf-8-sig").splitlines()
    assert csv_rows[0] == "id,name,lat,lon,rank,gain,covered" and len(csv_rows) == 6


def test_uploaded_candidates_with_a_bad_row_start_nothing(login):
    client = login("organizer")
    body = b"id,lat,lon,name\nA,22.55,114.05,site A\nB,north,114.06,site B\n"
    response = client.post(
        "/stations/placement/",
        {
            "division": CITY,
            "k": 1,
            "minutes": 15,
            "mode": "ebike",
            "source": "upload",
            "file": SimpleUploadedFile("c.csv", body),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()  # where the problem is, in the page's language (Chinese by default)
    assert '<td data-label="文件">c.csv</td>' in html and "第 3 行" in html and "“lat”列" in html
    assert '<td data-label="值">north</td>' in html and "不是数字" in html
    assert not PlacementRun.objects.exists()
    ok = b"id,lat,lon,name\nA,22.55,114.05,site A\nB,22.60,114.10,site B\n"
    response = client.post(
        "/stations/placement/",
        {
            "division": CITY,
            "k": 1,
            "minutes": 15,
            "mode": "ebike",
            "source": "upload",
            "file": SimpleUploadedFile("c.csv", ok),
        },
    )
    assert response.status_code == 302
    run = PlacementRun.objects.get()
    assert run.result["candidates"] == 2 and len(run.result["picks"]) <= 1
