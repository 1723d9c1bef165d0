"""Maps people can read (issue 16, item 5), in the browser: with a tile source configured, the district map
draws its tiles beneath the shaded districts, with the attribution, and the policy lets them in; nothing is
blocked and no script error occurs. The tiles come from a small server of our own on another port (a third
party, as far as the page can tell)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from xinye.places.maps import tile_settings

from .test_browser import SCREENSHOTS, _login, _watched, browser, pytestmark  # noqa: F401


def _tile() -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (256, 256), "#eef3f7")
    d = ImageDraw.Draw(im)
    for x in range(0, 256, 32):  # a street grid
        d.line([(x, 0), (x, 255)], fill="#c9c9c9", width=3)
        d.line([(0, x), (255, x)], fill="#c9c9c9", width=3)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def tile_server():
    body, asked = _tile(), []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_a_configured_tile_source_draws_streets_under_the_shaded_districts(
    live_server,
    live_demo,
    browser,  # noqa: F811
    settings,
    tile_server,
):
    origin, asked = tile_server
    config = tile_settings(f"{origin}/{{z}}/{{x}}/{{y}}.png", attribution="© test tiles")
    settings.XINYE_MAP = config
    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    for name in ("img-src", "connect-src"):
        directives[name] = [*directives[name], *config["hosts"]]
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY, "DIRECTIVES": directives}
    base = live_server.url
    problems: list[str] = []
    ctx = _watched(browser, problems, locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    _login(page, base, "organizer")
    page.goto(f"{base}/places/4403/")
    page.wait_for_selector("#map canvas")
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('map')).getOption().graphic")
    page.wait_for_timeout(800)
    option = page.evaluate(
        """() => { const o = echarts.getInstanceByDom(document.getElementById('map')).getOption();
                   const g = (o.graphic[0] || {}).elements || [];
                   return {images: g.filter(e => e.type === 'image').map(e => e.style.image),
                           texts: g.filter(e => e.type === 'text').map(e => e.style.text),
                           visualMap: (o.visualMap || []).length, series: o.series.map(s => s.type)}; }"""
    )
    assert option["images"] and all(u.startswith(origin) for u in option["images"]), option
    assert option["texts"] == ["© test tiles"]
    assert option["visualMap"] == 1 and option["series"][0] == "map"  # the districts are shaded
    assert asked, "no tile was fetched"
    assert page.locator("[data-legend] li").count() >= 2
    page.screenshot(path=str(SCREENSHOTS / "division-map-tiles.png"), full_page=False)
    # roaming (zooming in) asks for tiles of a higher zoom
    before = {u.split("/")[3] for u in option["images"]}
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(150)
    page.wait_for_timeout(600)
    after = page.evaluate(
        """() => ((echarts.getInstanceByDom(document.getElementById('map')).getOption().graphic[0] || {}).elements
                  || []).filter(e => e.type === 'image').map(e => e.style.image)"""
    )
    assert after and max(int(u.split("/")[3]) for u in after) > max(int(z) for z in before), (before, after[:3])
    assert not problems, problems
    ctx.close()
