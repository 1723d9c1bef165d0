"""Links that open a route to a station in the map apps people use in China: Amap (高德), Baidu and Tencent
(腾讯地图), each through its documented web URI, which shows the route in the browser and, on a phone with the
app installed, offers to open the app.

Stations are stored in WGS-84; each app is given the datum its URI documents (issue 16, item 4):

=========  ==========================================  ===========================================
app        URI                                         coordinates
=========  ==========================================  ===========================================
Amap       https://uri.amap.com/navigation             GCJ-02, ``to=lon,lat,name`` (the URI's
                                                       datum, "高德坐标")
Baidu      https://api.map.baidu.com/direction         BD-09, ``latlng:lat,lon`` with
                                                       ``coord_type=bd09ll`` said explicitly
Tencent    https://apis.map.qq.com/uri/v1/routeplan    GCJ-02, ``tocoord=lat,lon`` (the default
                                                       datum, "腾讯坐标")
=========  ==========================================  ===========================================

Start of the route: Amap and Tencent take the phone's own position when no start is given (their documents:
"起点为空则自动传入用户当前的位置信息", "移动端如果起点名称和起点坐标均未传递，则使用当前定位位置作为起点"),
which keeps following the rider; Baidu's web URI requires a start, so it gets the point the rider searched
from. Mode: by bike for Amap (``mode=ride``, mobile only); Baidu's and Tencent's web URIs document no cycling
mode, so they show the walking route (a rider's e-bike uses the non-motor lanes a walking route follows).

This module does not import Django: coordinates are WGS-84 (lat, lon) degrees; names are plain text and are
percent-encoded here, so a name can never add a parameter.

References
----------
- Amap URI API, 路径规划: https://lbs.amap.com/api/uri-api/guide/travel/route
- Baidu URI API (web), 公交、驾车、步行导航: https://lbsyun.baidu.com/index.php?title=uri/api/web
- Tencent URI API, 路线规划: https://lbs.qq.com/webApi/uriV1/uriGuide/uriWebRoute

Examples
--------
>>> links = route_links(lat=22.5431, lon=114.0579, name="驿站", origin=(22.54, 114.05), source="xinye")
>>> [app for app, _url in links]
['amap', 'baidu', 'tencent']
>>> links[0][1].startswith("https://uri.amap.com/navigation?to=114.06")
True
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, urlencode

from xinye.algorithms import geo

AMAP = "https://uri.amap.com/navigation"
BAIDU = "https://api.map.baidu.com/direction"
TENCENT = "https://apis.map.qq.com/uri/v1/routeplan"
#: 6 decimals of a degree are about 0.1 m: finer than any of the datums' own accuracy
DIGITS = 6
#: characters that separate fields inside a parameter of one of the URIs: never part of a name sent there
_SEPARATORS = re.compile(r"[,，|:;&=?#\s]+")


def _name(text: str, fallback: str) -> str:
    cleaned = _SEPARATORS.sub(" ", text or "").strip()[:60]
    return cleaned or fallback


def _fmt(value: float) -> str:
    return f"{value:.{DIGITS}f}"


def _query(params: dict[str, str]) -> str:
    # commas and colons may stand in a query as they are (RFC 3986) and keep the links readable; everything
    # else is percent-encoded, the pipe of Baidu's "latlng:...|name:..." too (%7C: a URI may not hold "|")
    return urlencode(params, quote_via=quote, safe=",:")


#: the links to a station do not depend on the request (but for Baidu's start): each process keeps the latest
#: ones, so a finder request converts and encodes only the rider's own point (issue 11, item 5)
_CACHED = functools.lru_cache(maxsize=20_000)


@_CACHED
def amap_url(*, lat: float, lon: float, name: str, source: str) -> str:
    """Amap's route page to (lat, lon) WGS-84, sent as GCJ-02 ``lon,lat,name``; start: the phone's position."""
    g_lat, g_lon = geo.from_wgs84(lat, lon, "gcj02")
    to = f"{_fmt(g_lon)},{_fmt(g_lat)},{_name(name, '驿站')}"
    return f"{AMAP}?" + _query({"to": to, "mode": "ride", "callnative": "1", "src": source})


def baidu_url(
    *, lat: float, lon: float, name: str, origin: tuple[float, float], origin_name: str, region: str, source: str
) -> str:
    """Baidu's route page from `origin` to (lat, lon), both WGS-84, sent as BD-09 (``coord_type=bd09ll``)."""
    start = _baidu_origin(origin[0], origin[1], origin_name)
    return f"{BAIDU}?{start}&" + _baidu_to(lat, lon, name, region, source)


@functools.lru_cache(maxsize=64)  # the few answers of one request share their start
def _baidu_origin(lat: float, lon: float, origin_name: str) -> str:
    o_lat, o_lon = geo.from_wgs84(lat, lon, "bd09")
    return _query({"origin": f"latlng:{_fmt(o_lat)},{_fmt(o_lon)}|name:{_name(origin_name, '我的位置')}"})


@_CACHED
def _baidu_to(lat: float, lon: float, name: str, region: str, source: str) -> str:
    b_lat, b_lon = geo.from_wgs84(lat, lon, "bd09")
    params = {
        "destination": f"latlng:{_fmt(b_lat)},{_fmt(b_lon)}|name:{_name(name, '驿站')}",
        "mode": "walking",
        "coord_type": "bd09ll",
        "output": "html",
        "src": f"webapp.{source}.finder",
    }
    if region:
        params["region"] = _name(region, "")
    return _query(params)


@_CACHED
def tencent_url(*, lat: float, lon: float, name: str, referer: str) -> str:
    """Tencent's route page to (lat, lon) WGS-84, sent as GCJ-02 ``tocoord=lat,lon``; start: the phone's
    position. `referer` is the developer key where the deployment has one (Tencent asks for it), else the
    application's name."""
    g_lat, g_lon = geo.from_wgs84(lat, lon, "gcj02")
    params = {
        "type": "walk",
        "to": _name(name, "station"),
        "tocoord": f"{_fmt(g_lat)},{_fmt(g_lon)}",
        "policy": "0",
        "referer": referer,
    }
    return f"{TENCENT}?" + _query(params)


def route_links(
    *,
    lat: float,
    lon: float,
    name: str,
    origin: tuple[float, float],
    source: str,
    origin_name: str = "",
    region: str = "",
    tencent_key: str = "",
) -> list[tuple[str, str]]:
    """[(app, url)] for Amap, Baidu and Tencent, in that order: a route from the rider to a station.
    (lat, lon) and `origin` are WGS-84 degrees."""
    geo.check_latlon(lat, lon)
    geo.check_latlon(*origin)
    return [
        ("amap", amap_url(lat=lat, lon=lon, name=name, source=source)),
        (
            "baidu",
            baidu_url(
                lat=lat, lon=lon, name=name, origin=origin, origin_name=origin_name, region=region, source=source
            ),
        ),
        ("tencent", tencent_url(lat=lat, lon=lon, name=name, referer=tencent_key or source)),
    ]


def tel_url(phone: str) -> str:
    """A tel: link (RFC 3966) for a station's phone as stored (digits, spaces, + and -), or "" for none."""
    digits = re.sub(r"[^0-9+]", "", phone or "")
    return f"tel:{digits}" if len(digits.lstrip("+")) >= 3 else ""


def station_directions(
    station, *, origin: tuple[float, float], source: str, origin_name: str = "", region: str = "", tencent_key: str = ""
) -> dict:
    """How a rider gets to `station` (a Station: name, lat, lon, address, contact_phone, division): its address
    or, without one, its community, street and district (`area`), the phone with its tel: link, and
    ``routes`` [(app, url)] from `origin` (WGS-84) as `route_links` makes them."""
    area = []
    d = station.division
    while d is not None and len(area) < 3:
        area.append(d.name)
        d = d.parent
    return {
        "address": station.address,
        "area": " ".join(reversed(area)),
        "phone": station.contact_phone,
        "tel": tel_url(station.contact_phone),
        "routes": route_links(
            lat=station.lat,
            lon=station.lon,
            name=station.name,
            origin=origin,
            origin_name=origin_name,
            region=region,
            source=source,
            tencent_key=tencent_key,
        ),
    }
