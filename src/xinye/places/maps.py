"""What the maps draw beneath and on the divisions (issue 16, "maps people can read").

- `tile_settings` turns the deployment's tile settings into the base-map config that the pages carry (and the
  hosts the Content-Security-Policy admits). Read by config/settings.py, so it imports nothing of Django's but
  its exception.
- `choropleth` puts divisions into classes by the value a page shows (workers, a share covered) and returns
  the classes with the legend text and a colour each; static/xinye/charts.js shades the map from them and the
  page prints the same legend as HTML.

ECharts draws every map (see docs/maps.md for why not MapLibre GL).
"""

from __future__ import annotations

import math
import re
import string
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DATUMS = ("wgs84", "gcj02")
_RANGE = re.compile(r"\{([0-9a-z])-([0-9a-z])\}")

#: five classes, light (least) to dark (most); app.css has the same colours for the legend's swatches
PALETTE = ["#fde0dd", "#f9a7a0", "#ef6a5f", "#cf2f34", "#8c1018"]


def _expand(template: str) -> list[str]:
    """'https://t{0-2}.x/{z}' -> ['https://t0.x/{z}', 'https://t1.x/{z}', 'https://t2.x/{z}']."""
    m = _RANGE.search(template)
    if not m:
        return [template]
    alphabet = string.digits + string.ascii_lowercase
    lo, hi = alphabet.index(m.group(1)), alphabet.index(m.group(2))
    if hi < lo or m.group(1).isdigit() != m.group(2).isdigit():
        raise ImproperlyConfigured(f"XINYE_MAP_TILES: the range {m.group(0)} in {template!r} is not a range")
    return [template[: m.start()] + c + template[m.end() :] for c in alphabet[lo : hi + 1]]


def tile_settings(tiles: str, *, key: str = "", datum: str = "wgs84", attribution: str = "", max_zoom="18"):
    """The base-map config from the settings' strings, or None when no tile source is configured.

    Returns {"layers": [[url, ...], ...], "datum": "wgs84"|"gcj02", "attribution": str, "max_zoom": int,
    "hosts": [origin, ...]}: one list of URLs per layer (the same template over each host of its range), the
    origins for img-src and connect-src. Raises ImproperlyConfigured naming the setting and the value.

    >>> c = tile_settings("https://t{0-1}.example.cn/w?x={x}&y={y}&l={z}&tk={key}", key="K")
    >>> c["layers"], c["hosts"]
    ([['https://t0.example.cn/w?x={x}&y={y}&l={z}&tk=K', 'https://t1.example.cn/w?x={x}&y={y}&l={z}&tk=K']], \
['https://t0.example.cn', 'https://t1.example.cn'])
    """
    templates = tiles.split()
    if not templates:
        return None
    datum = (datum or "wgs84").strip().lower()
    if datum not in DATUMS:
        raise ImproperlyConfigured(f"XINYE_MAP_TILES_DATUM={datum!r}: use one of {', '.join(DATUMS)}")
    try:
        zoom = int(max_zoom)
    except ValueError:
        raise ImproperlyConfigured(f"XINYE_MAP_MAX_ZOOM={max_zoom!r} is not a whole number") from None
    if not 0 <= zoom <= 22:
        raise ImproperlyConfigured(f"XINYE_MAP_MAX_ZOOM={max_zoom!r}: use 0 to 22")
    layers, hosts = [], []
    for template in templates:
        if "{key}" in template:
            if not key:
                raise ImproperlyConfigured(f"XINYE_MAP_TILES {template!r} needs XINYE_MAP_TILES_KEY")
            template = template.replace("{key}", key)
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in template]
        if missing:
            raise ImproperlyConfigured(f"XINYE_MAP_TILES {template!r} lacks {', '.join(missing)}")
        urls = _expand(template)
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise ImproperlyConfigured(f"XINYE_MAP_TILES {template!r} is not an http(s) URL")
            origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
            if origin not in hosts:
                hosts.append(origin)
        layers.append(urls)
    return {"layers": layers, "datum": datum, "attribution": attribution.strip(), "max_zoom": zoom, "hosts": hosts}


def page_config(config: dict | None) -> dict:
    """What a page carries of the base-map config (the hosts are the policy's business, not the page's)."""
    if not config:
        return {"tiles": None}
    return {
        "tiles": {k: config[k] for k in ("layers", "datum", "max_zoom")},
        "attribution": config["attribution"],
    }


def _nice(x: float, *, up: bool) -> float:
    """x rounded outward to two significant figures (up: to the ceiling), so class limits read easily."""
    if x == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(x))) - 1)
    return (math.ceil(x / step) if up else math.floor(x / step)) * step


def choropleth(
    values: dict[str, float], *, unit: str, percent: bool = False, classes: int = 5, digits: int = 0
) -> dict:
    """Divisions in up to `classes` classes of about as many divisions each (quantiles), limits rounded.

    `values` maps a division's name (as on the map) to its value; `percent`: values are shares 0..1, shown as
    whole percents; `digits`: decimals of other values' limits (a mean rating of 1 to 5). Returns {"unit": str,
    "pieces": [{"min", "max", "label", "color", "count"}], "data": [{"name", "value"}]}: pieces from least to
    most, each [min, max) but the last [min, max]; the colours are PALETTE's, spread over the classes there are.

    >>> [p["label"] for p in choropleth({"a": 1, "b": 5, "c": 12, "d": 40}, unit="workers", classes=2)["pieces"]]
    ['1 – 12', '12 – 40']
    """
    data = [{"name": n, "value": v} for n, v in values.items() if v is not None]
    if not data:
        return {"unit": unit, "percent": percent, "pieces": [], "data": []}
    xs = sorted(d["value"] for d in data)
    n = max(1, min(classes, len(set(xs))))
    quantiles = [xs[0]] + [xs[min(len(xs) - 1, (len(xs) * i) // n)] for i in range(1, n)]
    if percent:  # whole percents, limits rounded down (a limit above a value would leave its class empty)
        edges = [math.floor(x * 100 + 1e-9) / 100 for x in quantiles]
        top = math.ceil(xs[-1] * 100 - 1e-9) / 100
    elif digits:
        edges = [math.floor(x * 10**digits + 1e-9) / 10**digits for x in quantiles]
        top = math.ceil(xs[-1] * 10**digits - 1e-9) / 10**digits
    else:
        edges = [_nice(x, up=False) for x in quantiles]
        top = _nice(xs[-1], up=True)
    edges = sorted(set(edges))
    bounds = [*edges, max(top, edges[-1])]
    colors = [PALETTE[round(i * (len(PALETTE) - 1) / max(1, len(edges) - 1))] for i in range(len(edges))]

    def show(x: float) -> str:
        return f"{x * 100:.0f}%" if percent else f"{x:,.{digits}f}"

    pieces = []
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        last = i == len(edges) - 1
        count = sum(1 for x in xs if lo <= x < hi or (last and x == hi))
        label = show(lo) if lo == hi else f"{show(lo)} – {show(hi)}"
        pieces.append({"min": lo, "max": hi, "label": label, "color": colors[i], "count": count,
                       "css": f"choro-{PALETTE.index(colors[i])}"})  # fmt: skip
    return {"unit": unit, "percent": percent, "pieces": pieces, "data": data}
