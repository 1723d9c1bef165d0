"""Nothing a user typed runs as code (issue 10, "What must be true" 1), checked without a browser:

- every response (pages, API, static files, errors) carries a strict Content-Security-Policy, a
  Permissions-Policy and a Referrer-Policy;
- no page holds an inline script (other than json_script data), an inline event handler or an inline style,
  and no template could produce one;
- the job page hands htmx a redirect header instead of a script.

tests/test_browser.py plants script-like names and shows every tooltip in a real browser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import xinye

pytestmark = pytest.mark.django_db

TEMPLATES = Path(xinye.__file__).resolve().parent / "templates"


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_security_headers(response, where: str) -> None:
    csp = response.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    d = _directives(csp)
    assert d.get("default-src") == ["'self'"], where
    assert d.get("script-src") == ["'self'"], f"{where}: script-src {d.get('script-src')}"
    assert d.get("style-src") == ["'self'"], f"{where}: style-src {d.get('style-src')}"
    assert d.get("object-src") == ["'none'"] and d.get("frame-ancestors") == ["'none'"], where
    assert d.get("base-uri") == ["'self'"] and d.get("form-action") == ["'self'"], where
    assert set(d.get("img-src", [])) == {"'self'", "data:", "blob:"}, where
    pp = response.get("Permissions-Policy", "")
    assert "geolocation=(self)" in pp and "camera=()" in pp and "microphone=()" in pp and "payment=()" in pp, where
    assert response.get("Referrer-Policy") == "same-origin", where


class _Inline(HTMLParser):
    """Collects what a strict policy would block: inline scripts, event-handler attributes, style attributes and
    <style> elements, javascript: links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script_type: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if "src" not in a and a.get("type") != "application/json":
                self.problems.append(f"inline <script {a}>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")


def assert_no_inline_code(html: str, where: str) -> None:
    parser = _Inline()
    parser.feed(html)
    assert not parser.problems, f"{where}: {parser.problems}"


def _same_site_links(html: str) -> list[str]:
    """Same-site addresses as a browser reads them (entities decoded: "&amp;" is "&")."""
    from html import unescape

    return [unescape(h) for h in re.findall(r'href="(/[^"#]*)"', html) if not h.startswith("/static/")]


def _crawl(c, seeds: list[str], limit: int, missing_ok: bool = False) -> set[str]:
    """Open the seeds, every same-site link on them and on top-level pages, up to `limit` pages; check each.
    With `missing_ok`, a linked page may answer 404 (the station list links to coverage, which only organizers
    may open); its headers are checked all the same."""
    seen: set[str] = set()
    queue = list(seeds)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        response = c.get(url, follow=True)
        assert response.status_code == 200 or (missing_ok and response.status_code == 404), url
        assert_security_headers(response, url)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        assert_no_inline_code(html, url)
        if url in seeds or url.rstrip("/").count("/") <= 1:
            queue.extend(_same_site_links(html))
    return seen


SKIP = re.compile(r"(\.(csv|xlsx|ttl|jsonld|json|geojson)$|format=|/logout/|/admin/|/api/|/i18n/|/photos/)")


def test_every_main_page_carries_the_policies_and_no_inline_code(client, login, settings):
    settings.XINYE_JOBS_INLINE = True
    # Anonymous pages: login, the finder with a map, a worker's report and demand, tracking.
    for url in [
        "/accounts/login/",
        "/stations/finder/?lat=22.54&lon=114.05",
        "/stations/finder/?street=440305001",
        "/report/",
        "/demands/new/",
        "/demands/track/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)
        assert_no_inline_code(response.content.decode(), url)

    # The organizer's pages: every link of the menu, then every same-site link on those pages, plus the maps
    # and the pages made by jobs (a station placement, a community-branch formation).
    c = login("organizer")
    placement = c.post(
        "/stations/placement/", {"division": "4403", "k": 3, "minutes": 10, "mode": "ebike", "source": "communities"}
    )
    branches = c.post("/places/4403/branches/form/", {"radius_km": "3", "floor": "3", "cap": "50"})
    seeds = [
        "/",
        "/places/4403/",
        "/places/440305/",
        "/places/4403/branches/",
        "/stations/coverage/?division=4403",
        placement["Location"],
        branches["Location"],
    ]
    seen = _crawl(c, seeds, limit=80)
    must = {"/", "/places/4403/", "/stations/coverage/?division=4403", "/people/", "/organizations/", "/demands/"}
    assert must <= seen, must - seen
    assert len(seen) >= 25
    # The other roles' own pages (a member's liaison list and contact form, an operator's stations, ...).
    from django.utils import timezone

    from xinye.demands.models import LiaisonPair
    from xinye.people.models import Person

    me = Person.objects.get(user__username="member")
    worker = Person.objects.filter(user__isnull=True).exclude(pk=me.pk).first()
    LiaisonPair.objects.create(member=me, worker=worker, since=timezone.localdate())
    for role, role_seeds in [
        ("member", ["/", "/liaison/mine/", "/demands/new/"]),
        ("secretary", ["/", "/liaison/"]),
        ("staff", ["/"]),
        ("operator", ["/", "/stations/"]),
        ("admin", ["/"]),
    ]:
        client.logout()
        assert len(_crawl(login(role), role_seeds, limit=30, missing_ok=True)) >= 3, role


def test_api_static_admin_docs_and_error_responses_carry_the_policies(client, login):
    responses = {
        "API list": login("admin").get("/api/divisions/"),
        "API schema": client.get("/api/schema/"),
        "API docs": client.get("/api/docs/"),
        "API docs script": client.get("/api/docs/?script="),
        "static file": client.get("/static/xinye/app.css"),
        "admin": client.get("/admin/login/"),
        "404": client.get("/no-such-page/"),
        "400 (NUL)": client.get("/places/?q=%00"),
    }
    client.logout()
    responses["401 API"] = client.get("/api/people/")
    responses["anonymous API"] = client.get("/api/stations/nearest/?lat=22.54&lon=114.05")
    for where, response in responses.items():
        assert_security_headers(response, where)
    assert responses["404"].status_code == 404 and responses["400 (NUL)"].status_code == 400
    assert responses["static file"].status_code == 200


def test_swagger_ui_loads_its_start_script_from_a_file(login):
    c = login("admin")
    page = c.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200 and "swagger-ui" in html
    assert_no_inline_code(html, "/api/docs/")
    script = c.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert script["Content-Type"].startswith("application/javascript")


def test_no_template_holds_inline_script_handlers_or_styles():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = re.sub(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", path.read_text(), flags=re.S)
        name = path.relative_to(TEMPLATES)
        for m in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in m.group(1):
                problems.append(f"{name}: inline <script{m.group(1)}>")
        if re.search(r"<style\b", text):
            problems.append(f"{name}: <style> element")
        for m in re.finditer(r"<[a-zA-Z][^<>]*?\s(on[a-z]+|style)\s*=", text):
            problems.append(f"{name}: {m.group(1)}= attribute")
    assert not problems, problems


def test_a_finished_job_sends_htmx_to_its_result_without_a_script(login, settings):
    settings.XINYE_JOBS_INLINE = True
    c = login("organizer")
    response = c.post(
        "/stations/placement/", {"division": "4403", "k": 2, "minutes": 10, "mode": "ebike", "source": "communities"}
    )
    job_url = response["Location"]
    fragment = c.get(job_url + "?fragment=1", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert fragment["HX-Redirect"].startswith("/stations/placement/")
    assert "<script" not in fragment.content.decode()
    # without htmx, the job page itself redirects
    assert c.get(job_url)["Location"] == fragment["HX-Redirect"]


def test_json_script_data_cannot_close_its_script_element(login):
    """A station named like markup reaches the map as JSON that cannot end the <script> block it sits in."""
    from xinye.stations.models import Station

    station = Station.objects.filter(status="open").first()
    Station.objects.filter(pk=station.pk).update(name="</script><script>window.__xss=2</script><img src=x onerror=1>")
    c = login("organizer")
    html = c.get("/stations/coverage/?division=4403").content.decode()
    assert "</script><script>window.__xss=2" not in html
    assert "\\u003C/script\\u003E\\u003Cscript\\u003Ewindow.__xss=2" in html
    assert_no_inline_code(html, "coverage")


def test_a_refused_parameter_name_is_echoed_as_plain_text_never_html(client):
    """The NUL guard names the parameter it refuses; a name made of markup must come back as text."""
    response = client.get("/places/", {'<img src=x onerror="window.__xss=1">': "\x00"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert_security_headers(response, "400")
