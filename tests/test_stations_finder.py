"""The station finder: opening hours, nearest stations, the public API and page. Issue #5 (first part)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from xinye.algorithms import geo
from xinye.algorithms.errors import InputError
from xinye.stations import selectors, services
from xinye.stations.models import Station


@pytest.mark.parametrize(
    ("expression", "when", "open_"),
    [
        ("24/7", "2026-11-29 03:00", True),
        ("Mo-Su 10:00-02:00", "2026-11-29 01:30", True),  # overnight: still open after midnight
        ("Mo-Su 10:00-02:00", "2026-11-29 02:30", False),
        ("Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00", "2026-11-29 17:00", False),  # a Sunday
        ("Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00", "2026-11-27 17:00", True),  # a Friday
        ("Mo-Sa 08:30-20:30; PH off", "2026-10-01 10:00", False),  # National Day is a public holiday in China
        ("Mo-Sa 08:30-20:30; PH off", "2026-10-12 10:00", True),
    ],
)
def test_opening_hours_edge_cases(expression, when, open_):
    assert services.is_open(expression, datetime.fromisoformat(when)) is open_


def test_bad_opening_hours_name_the_value():
    with pytest.raises(InputError, match="'Mo-Xx 25:00'"):
        services.opening_hours_check("Mo-Xx 25:00")


def test_nearest_index_matches_brute_force():
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(22.4, 22.8, 500), rng.uniform(113.8, 114.4, 500)
    index = geo.NearestIndex(lats, lons)
    for lat, lon in rng.uniform([22.4, 113.8], [22.8, 114.4], (20, 2)):
        idx, metres = index.query(lat, lon, k=5)
        brute = geo.haversine_m_array(lat, lon, lats, lons)
        assert list(idx) == list(np.argsort(brute)[:5])
        assert np.allclose(metres, np.sort(brute)[:5], rtol=1e-6)


@pytest.mark.django_db
def test_the_api_finds_open_stations_with_the_amenities_asked_for(client):
    s = Station.objects.filter(status="open").first()
    response = client.get(f"/api/stations/nearest?lat={s.lat}&lon={s.lon}&limit=3")
    assert response.status_code == 200
    data = response.json()
    assert data[0]["id"] == s.pk and data[0]["distance_m"] < 1
    assert data[1]["minutes_walk"] > data[1]["minutes_ebike"] > 0
    wanted = client.get(
        f"/api/stations/nearest?lat={s.lat}&lon={s.lon}&amenity=microwave&amenity=charging&limit=5"
    ).json()
    assert wanted and all({"microwave", "charging"} <= set(r["amenities"]) for r in wanted)
    now_open = client.get(f"/api/stations/nearest?lat={s.lat}&lon={s.lon}&open_now=true&limit=5").json()
    assert all(r["open_now"] for r in now_open)
    distances = [r["distance_m"] for r in wanted]
    assert distances == sorted(distances)
    assert client.get("/api/stations/nearest?lat=95&lon=114").status_code == 400
    assert client.get("/api/stations/nearest?lat=22.5&lon=114&amenity=jacuzzi").status_code == 400


@pytest.mark.django_db
def test_the_finder_page_needs_no_login_and_speaks_both_languages(client):
    s = Station.objects.filter(status="open").first()
    zh = client.get(f"/stations/finder/?lat={s.lat}&lon={s.lon}", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert zh.status_code == 200 and "找驿站" in zh.content.decode() and s.name in zh.content.decode()
    en = client.get(f"/stations/finder/?community={s.division.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert "Find a rest station" in en.content.decode() and en.context["results"]


@pytest.mark.django_db
def test_nearest_respects_open_now_at_a_given_time():
    s = Station.objects.filter(status="open", opening_hours="Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00").first()
    if s is None:
        pytest.skip("no such station in the demo")
    at_night = datetime.fromisoformat("2026-11-27 23:00")
    found = selectors.station_nearest(lat=s.lat, lon=s.lon, open_now=True, limit=10, at=at_night)
    assert s.pk not in {r["station"].pk for r in found}
