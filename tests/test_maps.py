"""Maps people can read (issue 16, item 5): the base map from the deployment's tile settings (and the policy
that admits its host, only then), the divisions shaded by the value shown, with a legend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from xinye.places.maps import PALETTE, choropleth, page_config, tile_settings

TIANDITU = (
    "https://t{0-7}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
    "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)


def test_no_tile_source_means_no_base_map():
    assert tile_settings("") is None and tile_settings("   ") is None
    assert page_config(None) == {"tiles": None}


def test_a_tianditu_template_spreads_over_its_hosts_with_the_key_filled_in():
    c = tile_settings(TIANDITU, key="K123", attribution="© 天地图 GS(2024)0650号")
    assert len(c["layers"]) == 1 and len(c["layers"][0]) == 8
    assert c["layers"][0][3].startswith("https://t3.tianditu.gov.cn/vec_w/wmts?") and c["layers"][0][3].endswith(
        "tk=K123"
    )
    assert c["hosts"] == [f"https://t{i}.tianditu.gov.cn" for i in range(8)]
    assert c["datum"] == "wgs84" and c["max_zoom"] == 18
    page = page_config(c)
    assert page["attribution"] == "© 天地图 GS(2024)0650号" and "hosts" not in page
    # two layers (streets, then labels) and letters as the range; Amap's tiles are GCJ-02
    two = tile_settings(
        "https://webrd0{1-4}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z} https://{a-c}.example.org/{z}/{x}/{y}.png",
        datum="GCJ02",
    )
    assert [len(urls) for urls in two["layers"]] == [4, 3] and two["datum"] == "gcj02"
    assert "https://b.example.org" in two["hosts"]


@pytest.mark.parametrize(
    ("tiles", "options", "says"),
    [
        ("https://x.org/{z}/{x}.png", {}, "lacks {y}"),
        (TIANDITU, {}, "needs XINYE_MAP_TILES_KEY"),
        ("https://x.org/{z}/{x}/{y}.png", {"datum": "bd09"}, "XINYE_MAP_TILES_DATUM='bd09'"),
        ("ftp://x.org/{z}/{x}/{y}.png", {}, "not an http(s) URL"),
        ("https://t{7-0}.x.org/{z}/{x}/{y}.png", {}, "is not a range"),
        ("https://x.org/{z}/{x}/{y}.png", {"max_zoom": "30"}, "XINYE_MAP_MAX_ZOOM"),
    ],
)
def test_bad_tile_settings_name_the_setting_and_the_value(tiles, options, says):
    with pytest.raises(ImproperlyConfigured, match=re.escape(says)):
        tile_settings(tiles, **options)


def _policy(env: dict) -> dict:
    """The settings' Content-Security-Policy directives in a fresh interpreter with `env`."""
    code = (
        "import json, xinye.config.settings as s;"
        "print(json.dumps({'csp': s.CONTENT_SECURITY_POLICY['DIRECTIVES'], 'map': s.XINYE_MAP}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("XINYE_MAP")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean | env, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_policy_admits_the_configured_tile_hosts_and_nothing_when_none_is_configured():
    plain = _policy({})
    assert plain["map"] is None
    assert plain["csp"]["img-src"] == ["'self'", "data:", "blob:"] and plain["csp"]["connect-src"] == ["'self'"]
    configured = _policy({"XINYE_MAP_TILES": TIANDITU, "XINYE_MAP_TILES_KEY": "K123"})
    for directive in ("img-src", "connect-src"):
        assert "https://t5.tianditu.gov.cn" in configured["csp"][directive]
    assert configured["csp"]["script-src"] == ["'self'"] and configured["map"]["layers"][0][0].endswith("tk=K123")


def _config(page: str) -> dict:
    m = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', page)
    assert m, "the page carries no map config"
    return json.loads(m.group(1))


@pytest.mark.django_db
def test_pages_emit_no_tile_url_unless_one_is_configured_and_then_the_template_and_attribution(login, settings):
    client = login("organizer")
    settings.XINYE_MAP = None
    for url in ("/places/4403/", "/stations/coverage/?division=4403", "/places/4403/branches/"):
        page = client.get(url).content.decode()
        assert _config(page) == {"tiles": None}, url
        assert "tianditu" not in page and "{z}" not in page, url
    settings.XINYE_MAP = tile_settings(TIANDITU, key="K123", attribution="© 天地图 <审图号>")
    page = client.get("/places/4403/").content.decode()
    config = _config(page)
    assert config["tiles"]["layers"][0][0] == TIANDITU.replace("{0-7}", "0").replace("{key}", "K123")
    assert config["attribution"] == "© 天地图 <审图号>" and config["tiles"]["datum"] == "wgs84"
    assert "<审图号>" not in page  # data, escaped in the json block like every other


def test_classes_hold_about_as_many_divisions_each_and_say_their_limits():
    shade = choropleth({"a": 3, "b": 10, "c": 12, "d": 250, "e": 1300, "f": 4100}, unit="workers", classes=3)
    assert [p["label"] for p in shade["pieces"]] == ["3 – 12", "12 – 1,300", "1,300 – 4,100"]
    assert [p["count"] for p in shade["pieces"]] == [2, 2, 2]
    assert [p["color"] for p in shade["pieces"]] == [PALETTE[0], PALETTE[2], PALETTE[4]]
    assert shade["unit"] == "workers" and len(shade["data"]) == 6
    share = choropleth({"a": 0.874, "b": 0.876, "c": 0.999, "d": 1.0}, unit="covered", percent=True, classes=2)
    assert [(p["label"], p["count"]) for p in share["pieces"]] == [("87% – 99%", 2), ("99% – 100%", 2)]
    assert choropleth({"a": 1.0, "b": 1.0}, unit="covered", percent=True)["pieces"][0]["label"] == "100%"
    assert sum(p["count"] for p in share["pieces"]) == 4
    assert choropleth({}, unit="x")["pieces"] == []
    assert len(choropleth({"a": 5, "b": 5}, unit="x")["pieces"]) == 1  # one value, one class


def _legend(page: str) -> tuple[str, list[str]]:
    m = re.search(r"<figure class=\"map-legend\" data-legend><figcaption>(.*?)</figcaption>(.*?)</figure>", page, re.S)
    assert m, "no legend"
    return m.group(1), re.findall(r"</span>([^<]+?) <span class=\"muted\">", m.group(2))


@pytest.mark.django_db
def test_the_coverage_map_shades_districts_by_their_share_covered_with_a_legend(login):
    client = login("organizer")
    page = client.get("/stations/coverage/?division=4403", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    unit, classes = _legend(page)
    assert unit == "Share of workers within reach of a station"
    assert classes and all(re.fullmatch(r"\d+% – \d+%", c) for c in classes)
    data = json.loads(re.search(r'<script id="cov-map-data" type="application/json">(.*?)</script>', page).group(1))
    shade = data["shade"]
    districts = {f["properties"]["name"] for f in data["geo"]["features"]}
    assert shade["percent"] and {d["name"] for d in shade["data"]} <= districts and len(shade["data"]) > 1
    pieces = shade["pieces"]
    assert sum(p["count"] for p in pieces) == len(shade["data"])
    for d in shade["data"]:  # every district falls in a class
        assert pieces[0]["min"] <= d["value"] <= pieces[-1]["max"]


@pytest.mark.django_db
def test_the_city_map_shades_its_districts_by_their_workers_with_a_legend(login):
    client = login("organizer")
    page = client.get("/places/4403/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    unit, classes = _legend(page)
    assert unit == "Workers (in your scope)" and len(classes) >= 2
    data = json.loads(re.search(r'<script id="map-data" type="application/json">(.*?)</script>', page).group(1))
    assert sum(d["value"] for d in data["shade"]["data"]) <= 8000 and len(data["shade"]["data"]) > 1
