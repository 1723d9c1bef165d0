"""Getting to a station (issue 16, item 4 and defect 9): the finder shows each station's address and phone, a call
button, and opens the route in Amap, Baidu and Tencent with coordinates in the datum each app documents."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinye.accounts.models import Role, RoleKind
from xinye.algorithms import geo
from xinye.common.concurrency import save_versioned
from xinye.stations import navigation
from xinye.stations.models import Station

# Published reference values (the coordtransform README, standard formulas; also in tests/test_geo.py):
# GCJ-02 (39.915, 116.404) is BD-09 (39.92133699351022, 116.41036949371029).
GCJ = (39.915, 116.404)
BD = (39.92133699351022, 116.41036949371029)
# WGS-84 (39.915, 116.404) is GCJ-02 (39.91640428150164, 116.41024449916938).
WGS_REF = (39.915, 116.404)
GCJ_OF_WGS_REF = (39.91640428150164, 116.41024449916938)
# 6 decimals in the links, and the inverse GCJ-02 -> WGS-84 is iterative (well under a centimetre)
TOL = 2e-6


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _pair(text: str) -> tuple[float, float]:
    a, b = text.split(",")[:2]
    return float(a), float(b)


def test_links_carry_each_apps_datum_for_a_station_at_a_published_reference_point():
    # given a station whose GCJ-02 position is the reference point (stored, as always, in WGS-84)
    lat, lon = geo.to_wgs84(*GCJ, "gcj02")
    links = dict(navigation.route_links(lat=lat, lon=lon, name="天安门驿站", origin=(39.9, 116.39), source="xinye"))
    # Amap: GCJ-02 as lon,lat,name
    amap = _query(links["amap"])
    assert links["amap"].startswith("https://uri.amap.com/navigation?")
    g_lon, g_lat = _pair(amap["to"])
    assert abs(g_lat - GCJ[0]) < TOL and abs(g_lon - GCJ[1]) < TOL
    assert amap["to"].endswith(",天安门驿站") and amap["mode"] == "ride" and amap["src"] == "xinye"
    # Baidu: BD-09 as latlng:lat,lon, with coord_type=bd09ll said
    baidu = _query(links["baidu"])
    assert links["baidu"].startswith("https://api.map.baidu.com/direction?")
    assert baidu["coord_type"] == "bd09ll" and baidu["output"] == "html" and baidu["src"] == "webapp.xinye.finder"
    dest = baidu["destination"]
    assert dest.startswith("latlng:") and dest.endswith("|name:天安门驿站")
    b_lat, b_lon = _pair(dest.removeprefix("latlng:").split("|")[0])
    assert abs(b_lat - BD[0]) < TOL and abs(b_lon - BD[1]) < TOL
    o_lat, o_lon = _pair(baidu["origin"].removeprefix("latlng:").split("|")[0])
    assert (o_lat, o_lon) == tuple(round(v, 6) for v in geo.from_wgs84(39.9, 116.39, "bd09"))
    # Tencent: GCJ-02 as lat,lon
    tencent = _query(links["tencent"])
    assert links["tencent"].startswith("https://apis.map.qq.com/uri/v1/routeplan?")
    t_lat, t_lon = _pair(tencent["tocoord"])
    assert abs(t_lat - GCJ[0]) < TOL and abs(t_lon - GCJ[1]) < TOL
    assert tencent["to"] == "天安门驿站" and tencent["referer"] == "xinye" and tencent["type"] == "walk"


def test_wgs84_reference_point_becomes_its_published_gcj02_in_amap_and_tencent():
    links = dict(navigation.route_links(lat=WGS_REF[0], lon=WGS_REF[1], name="x", origin=WGS_REF, source="s"))
    g_lon, g_lat = _pair(_query(links["amap"])["to"])
    t_lat, t_lon = _pair(_query(links["tencent"])["tocoord"])
    for la, lo in ((g_lat, g_lon), (t_lat, t_lon)):
        assert abs(la - GCJ_OF_WGS_REF[0]) < 1e-6 and abs(lo - GCJ_OF_WGS_REF[1]) < 1e-6


def test_a_name_cannot_add_or_break_a_parameter():
    name = "站,名|name:x&referer=evil#frag 驿站"
    links = dict(navigation.route_links(lat=22.5, lon=114.0, name=name, origin=(22.5, 114.0), source="s"))
    for url in links.values():
        assert "#" not in url and "&referer=evil" not in url and " " not in url
    assert _query(links["tencent"])["referer"] == "s"
    assert _query(links["amap"])["to"].count(",") == 2
    assert _query(links["baidu"])["destination"].count("|") == 1


def test_tencent_gets_the_deployments_key_as_referer():
    links = dict(
        navigation.route_links(lat=22.5, lon=114.0, name="x", origin=(22.5, 114.0), source="s", tencent_key="K")
    )
    assert _query(links["tencent"])["referer"] == "K"


@pytest.mark.parametrize(
    ("stored", "link"), [("0755-1234 5678", "tel:075512345678"), ("+86 138 0000 0000", "tel:+8613800000000"), ("", "")]
)
def test_the_call_button_dials_the_stored_number(stored, link):
    assert navigation.tel_url(stored) == link


# ---------------------------------------------------------------- the finder page, the API, the registry


def _station_in_service() -> Station:
    s = Station.objects.filter(status="open", division__isnull=False).exclude(contact_phone="").first()
    s.address = "南山区粤海街道科技南十二路 2 号"
    save_versioned(s, expected_version=s.version)
    return s


@pytest.mark.django_db
def test_the_finder_shows_address_phone_call_button_and_three_route_links(client):
    # regression (issue 16, defect 9): the finder gave no way to get to the station
    s = _station_in_service()
    page = client.get(f"/stations/finder/?lat={s.lat}&lon={s.lon}", HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = page.content.decode()
    first = page.context["results"][0]
    assert first["station"].pk == s.pk
    assert "南山区粤海街道科技南十二路 2 号" in body
    digits = "".join(c for c in s.contact_phone if c.isdigit() or c == "+")
    assert f'href="tel:{digits}"' in body and s.contact_phone in body
    for app in ("amap", "baidu", "tencent"):
        assert f'data-route="{app}"' in body
    assert "高德地图" in body and "百度地图" in body and "腾讯地图" in body
    routes = {r["app"]: r["url"] for r in first["routes"]}
    g_lat, g_lon = geo.from_wgs84(s.lat, s.lon, "gcj02")
    b_lat, b_lon = geo.from_wgs84(s.lat, s.lon, "bd09")
    assert _query(routes["amap"])["to"].startswith(f"{g_lon:.6f},{g_lat:.6f},")
    assert _query(routes["tencent"])["tocoord"] == f"{g_lat:.6f},{g_lon:.6f}"
    assert _query(routes["baidu"])["destination"].startswith(f"latlng:{b_lat:.6f},{b_lon:.6f}|")
    # a station without an address says where it is from its community, street and district
    other = page.context["results"][1]["station"]
    if not other.address:
        assert other.division.name in body


@pytest.mark.django_db
def test_the_finder_does_not_load_the_map_script_until_asked(client):
    s = _station_in_service()
    body = client.get(f"/stations/finder/?lat={s.lat}&lon={s.lon}").content.decode()
    assert "<script src=" not in body.split("</head>")[1].replace('src="/static/xinye/app.js"', "")
    assert "data-map-load" in body and "echarts.min.js" in body  # named by the button, not loaded
    page = client.get(f"/stations/finder/?lat={s.lat}&lon={s.lon}")
    assert page.context["map"]["geo"] is None and page.context["map"]["points"]  # outlines come with the map
    outlines = client.get("/stations/finder/map.json?city=4403")
    assert outlines.json()["type"] == "FeatureCollection" and outlines.json()["features"]
    assert "public" in outlines["Cache-Control"] and "max-age=86400" in outlines["Cache-Control"]
    assert client.get("/stations/finder/map.json?city=x' OR 1").json()["features"]  # a bad code: the default city
    # a rider who opened the map keeps it on the next search: it comes with the page then
    shown = client.get(f"/stations/finder/?lat={s.lat}&lon={s.lon}&map=1")
    assert '<script src="/static/vendor/echarts/echarts.min.js" defer>' in shown.content.decode()
    assert shown.context["map"]["geo"]["features"]


@pytest.mark.django_db
def test_the_nearest_api_gives_address_phone_and_routes(client):
    s = _station_in_service()
    data = client.get(f"/api/stations/nearest?lat={s.lat}&lon={s.lon}&limit=2").json()
    assert data[0]["id"] == s.pk and data[0]["address"] == s.address and data[0]["contact_phone"] == s.contact_phone
    assert set(data[0]["routes"]) == {"amap", "baidu", "tencent"}
    g_lat, g_lon = geo.from_wgs84(s.lat, s.lon, "gcj02")
    assert _query(data[0]["routes"]["tencent"])["tocoord"] == f"{g_lat:.6f},{g_lon:.6f}"


def _operator_name():
    return Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name


@pytest.mark.django_db
def test_the_form_and_the_csv_import_and_export_carry_the_address(login):
    client = login("operator")
    form = {
        "name": "有地址的驿站",
        "kind": "union",
        "operator_name": _operator_name(),
        "crs": "wgs84",
        "lat": "22.54",
        "lon": "114.05",
        "opening_hours": "24/7",
        "contact_phone": "0755-1234",
        "address": "福田区福田街道福华三路 100 号",
        "status": "open",
    }
    assert client.post("/stations/new/", form).status_code == 302
    s = Station.objects.get(name="有地址的驿站")
    assert s.address == "福田区福田街道福华三路 100 号"
    assert "福华三路 100 号" in client.get(f"/stations/{s.pk}/").content.decode()
    exported = list(
        csv.DictReader(io.StringIO(client.get("/stations/export.csv?q=有地址").content.decode("utf-8-sig")))
    )
    assert exported[0]["address"] == "福田区福田街道福华三路 100 号"
    # change the address in the exported file and import it back
    exported[0]["address"] = "福田区莲花街道红荔路 1 号"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(exported[0]))
    w.writeheader()
    w.writerows(exported)
    done = client.post(
        "/stations/import/", {"file": SimpleUploadedFile("s.csv", buf.getvalue().encode()), "crs": "wgs84"}
    )
    assert done.status_code == 200, done.content.decode()[-1500:]
    s.refresh_from_db()
    assert s.address == "福田区莲花街道红荔路 1 号"
    # a file without the column keeps the address
    del exported[0]["address"]
    exported[0]["version"] = str(s.version)
    exported[0]["capacity"] = "9"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(exported[0]))
    w.writeheader()
    w.writerows(exported)
    client.post("/stations/import/", {"file": SimpleUploadedFile("s.csv", buf.getvalue().encode()), "crs": "wgs84"})
    s.refresh_from_db()
    assert s.capacity == 9 and s.address == "福田区莲花街道红荔路 1 号"
