"""What a new user met (issue 16): the defects of helper A's part, each with a test that fails on the code
before the fix: a station's date erased by editing in Chinese (1), an internal note on the tracking page
and in Open311 (2), the intake page losing the description when a street is chosen (3), the framework's
debug page for a wrong address (4), and the community report's receipt, decision buttons, doubled help
text and missing favicon (11)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.utils import translation

from xinye.demands import services as demand_services
from xinye.demands.models import Category, Demand
from xinye.organizations.models import Company
from xinye.people.models import CommunityReport
from xinye.places.models import Division, Level
from xinye.stations.models import Station

pytestmark = pytest.mark.django_db

ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Forms(HTMLParser):
    """The forms of a page and what a browser would send for each (inputs, checked boxes, selected options,
    text areas), including the browser's own rule for date inputs: a value that is not an ISO date is shown
    and sent as empty (WHATWG, "value sanitization algorithm" of <input type=date>)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = self._textarea = None
        self._options: list = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": a, "fields": [], "names": set()})
        if not self.forms:
            return
        form = self.forms[-1]
        if tag in ("input", "select", "textarea", "button") and a.get("name"):
            form["names"].add(a["name"])
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind == "date" and value and not ISO.fullmatch(value):
                value = ""
            form["fields"].append((a["name"], value))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = [a.get("name"), ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            if self.forms:
                self.forms[-1]["fields"] += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self.forms and self._textarea[0]:
                self.forms[-1]["fields"].append(tuple(self._textarea))
            self._textarea = None


def _forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


# ------------------------------------------------------------------------------------------ item 1: dates


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_editing_a_station_keeps_its_last_verified_date_in_either_language(login, language):
    client = login("operator")
    client.cookies["django_language"] = language
    station = Station.objects.filter(operator_name__in=_operator_names()).order_by("pk").first()
    Station.objects.filter(pk=station.pk).update(verified_on=dt.date(2026, 9, 7))

    page = client.get(f"/stations/{station.pk}/edit/").content.decode()
    assert 'type="date" name="verified_on" value="2026-09-07"' in page
    (form,) = [f for f in _forms(page) if "verified_on" in f["names"]]
    response = client.post(f"/stations/{station.pk}/edit/", urlencode(form["fields"]), content_type=_FORM)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Station.objects.get(pk=station.pk).verified_on == dt.date(2026, 9, 7)


def test_every_date_input_of_the_forms_renders_iso_whatever_the_language():
    from xinye.demands.liaison_views import ContactForm
    from xinye.stations.forms import StationForm

    day = dt.date(2026, 9, 7)
    with translation.override("zh-hans"):
        contact = ContactForm(initial={"on": day, "follow_up_on": day}, today=day)
        assert str(contact["on"]).count('value="2026-09-07"') == 1
        assert str(contact["follow_up_on"]).count('value="2026-09-07"') == 1
        station = StationForm(instance=Station(verified_on=day), scope=_Scope())
        assert 'value="2026-09-07"' in str(station["verified_on"])
        # ISO and the language's own format are both read back
        assert ContactForm({"on": "2026-09-07", "channel": "phone"}, today=day).is_valid()
        assert ContactForm({"on": "2026/09/07", "channel": "phone"}, today=day).is_valid()


class _Scope:
    operator_names: tuple = ()
    is_admin = False
    division_prefixes: tuple = ()
    staff_company_ids: tuple = ()


_FORM = "application/x-www-form-urlencoded"


def _operator_names():
    from xinye.accounts.models import Role, RoleKind

    return list(
        Role.objects.filter(user__username="operator", kind=RoleKind.STATION_OPERATOR).values_list(
            "operator_name", flat=True
        )
    )


# ----------------------------------------------------------------------------- item 2: internal notes


def _handled_demand(client, *, public_box: bool):
    demand = demand_services.demand_submit(
        category=Category.objects.get(code="pay"),
        description="站点三周没有发工资",
        community=Division.objects.filter(level=Level.COMMUNITY, code__startswith="4403").order_by("code").first(),
    )
    data = {"action": "accepted", "version": str(demand.version), "note": "内部：先别告诉他，等站长回电"}
    if public_box:
        data["public"] = "1"
    response = client.post(f"/demands/{demand.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    demand.refresh_from_db()
    assert demand.status == "accepted"
    return demand


def _track(client, demand):
    from django.test import Client

    worker = Client()
    assert worker.post("/demands/track/", {"code": demand.tracking_code}).status_code == 302
    return worker.get("/demands/tracked/").content.decode()


def test_a_note_typed_with_a_status_change_stays_internal_unless_the_box_is_ticked(login):
    handler = login("organizer")
    hidden = _handled_demand(handler, public_box=False)
    page = _track(handler, hidden)
    assert "accepted" in page or "已受理" in page or "受理" in page  # the change itself is shown
    assert "等站长回电" not in page
    # the handler still sees it, marked internal
    assert "等站长回电" in handler.get(f"/demands/{hidden.pk}/").content.decode()

    shown = _handled_demand(handler, public_box=True)
    assert "等站长回电" in _track(handler, shown)


def test_open311_does_not_send_an_internal_note_of_a_status_change(login, client):
    import io

    from django.core.management import call_command

    handler = login("organizer")
    demand = _handled_demand(handler, public_box=False)
    out = io.StringIO()
    call_command("open311", "key", "create", "--user", "organizer", "--name", "hA", stdout=out)
    key = out.getvalue().splitlines()[1].strip()
    client.logout()
    (record,) = client.get(f"/open311/v2/requests/{demand.reference}.json", {"api_key": key}).json()
    assert record["description"] == "站点三周没有发工资"  # the key sees the demand in full
    assert record["status_notes"] is None
    updates = client.get(
        "/open311/v2/servicerequestupdates.json", {"api_key": key, "service_request_id": demand.reference}
    ).json()
    assert updates and all("等站长回电" not in (u["description"] or "") for u in updates)


# ------------------------------------------------------------------------------- item 3: the intake page


def test_choosing_a_street_keeps_what_was_typed():
    from django.test import Client

    worker = Client()
    page = worker.get("/demands/new/").content.decode()
    # the street is chosen in the same form as the description: no other form to send, nothing to lose
    (form,) = [f for f in _forms(page) if "description" in f["names"]]
    assert "street" in form["names"]
    assert not [f for f in _forms(page) if "street" in f["names"] and "description" not in f["names"]]

    street = Division.objects.filter(level=Level.STREET, code__startswith="4403", children__isnull=False).first()
    community = street.children.order_by("code").first()
    # with script, the communities arrive as a fragment, the page stays
    fragment = worker.get("/demands/new/communities/", {"street": street.code}).content.decode()
    assert f'value="{community.code}"' in fragment and "<form" not in fragment
    # without script, the button sends the whole form back: everything typed comes back with the communities
    before = Demand.objects.count()
    again = worker.post(
        "/demands/new/",
        {"submit": "1", "place": "1", "street": street.code, "description": "工资被扣了三百元", "category": "pay"},
    )
    html = again.content.decode()
    assert again.status_code == 200
    assert "工资被扣了三百元" in html and f'value="{community.code}"' in html
    assert Demand.objects.count() == before


# ------------------------------------------------------------------------------------ item 4: error pages


@override_settings(DEBUG=True)
@pytest.mark.parametrize(("language", "text"), [("zh-hans", "未找到"), ("en", "Not found")])
def test_an_unknown_address_shows_the_projects_page_with_debug_on(client, language, text):
    client.cookies["django_language"] = language
    for path in ("/demands/tracked/nothing-here/", "/no/such/page/", "/report/nothing/"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404
        assert "data-error-id" in html and "Using the URLconf" not in html and "urlpatterns" not in html
        assert text in html or text.lower() in html.lower(), html[:500]


@override_settings(DEBUG=True)
def test_a_view_raising_not_found_shows_the_projects_page_with_debug_on(login):
    client = login("member")
    response = client.get("/stations/999999999/")
    assert response.status_code == 404
    assert "data-error-id" in response.content.decode()
    assert "technical" not in response.content.decode().lower()


@override_settings(DEBUG=True)
@pytest.mark.parametrize(("language", "text"), [("zh-hans", "没有"), ("en", "No demand has this tracking code.")])
def test_a_wrong_tracking_code_says_so_in_the_page(client, language, text):
    client.cookies["django_language"] = language
    response = client.post("/demands/track/", {"code": "ZZZZZZZZZZ"})
    html = response.content.decode()
    assert response.status_code == 404
    assert text in html and 'name="code"' in html and "URLconf" not in html


@override_settings(DEBUG=True, APPEND_SLASH=True)
def test_a_missing_trailing_slash_still_redirects(client):
    response = client.get("/demands/new")
    assert response.status_code == 301 and response.url == "/demands/new/"


# ------------------------------------------------------------------------- item 11: reports and small things


def _report(client, phone="13912340011"):
    place = Division.objects.filter(level=Level.COMMUNITY, code__startswith="440305").first()
    return place, client.post(
        "/report/",
        {
            "submit": "1",
            "city": "4403",
            "street": place.parent.code,
            "community": place.code,
            "name": "王小明",
            "phone": phone,
            "occupation": "delivery_rider",
            "consent": "1",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def sms_outbox(settings):
    from django.core.cache import cache

    from xinye.common import ratelimit
    from xinye.people import sms

    settings.XINYE_SMS_SENDER = "xinye.people.sms.LocmemSender"
    sms.outbox.clear()
    cache.clear()
    ratelimit.reset()
    yield sms.outbox
    sms.outbox.clear()


def test_the_report_receipt_says_what_happens_next_and_is_found_in_my_data(client, login, sms_outbox):
    _place, done = _report(client)
    html = done.content.decode()
    report = CommunityReport.objects.get(phone="13912340011")
    assert report.tracking_code in html and "data-my-data" in html and "What happens next" in html

    # the worker finds the report, by that reference, in "My data" (no person is on record yet)
    assert client.post("/my-data/", {"phone": "13912340011"}).url == "/my-data/code/"
    (_phone, text) = sms_outbox.pop()
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert client.post("/my-data/code/", {"code": code}).url == "/my-data/view/"
    mine = client.get("/my-data/view/").content.decode()
    assert f'data-report="{report.tracking_code}"' in mine
    assert client.get("/my-data/xinye-my-data.json").content.decode().count(report.tracking_code) == 1

    # the sender may delete it before anyone decides: then nothing is left to confirm
    assert 'href="/my-data/delete/"' in mine
    assert client.post("/my-data/delete/", {"confirm": "1"}).status_code == 200
    report.refresh_from_db()
    assert report.status == "rejected" and report.phone == "" and report.reported == {}
    report.status = "pending"  # as if still waiting, for the organizer's list below
    report.save()

    # and the organizer sees the same reference in the list, with plain verbs and a reason to reject
    listing = login("organizer").get("/community-reports/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = listing.content.decode()
    assert report.tracking_code in page
    assert ">确认</button>" in page and ">拒绝</button>" in page and "未确认</button>" not in page
    (form,) = [f for f in _forms(page) if f["attrs"].get("action") == f"/community-reports/{report.pk}/decide/"]
    assert "note" in form["names"]


def test_a_rejection_keeps_its_reason(client, login):
    _place, _done = _report(client, phone="13912340012")
    report = CommunityReport.objects.get(phone="13912340012")
    login("organizer").post(f"/community-reports/{report.pk}/decide/", {"confirm": "0", "note": "电话打不通"})
    report.refresh_from_db()
    assert report.status == "rejected" and report.note == "电话打不通"


def test_the_structure_pages_help_text_is_shown_once(login):
    client = login("staff")
    pages = (client.get(f"/companies/{c.pk}/structure/", HTTP_ACCEPT_LANGUAGE="zh-CN") for c in Company.objects.all())
    page = next(p for p in pages if p.status_code == 200)
    assert page.content.decode().count("试运行只显示将发生的变化") == 1


def test_every_page_has_a_favicon(client):
    page = client.get("/report/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert icon.endswith("favicon.svg")
    redirect = client.get("/favicon.ico")
    assert redirect.status_code in (301, 302) and redirect.url == icon
    svg = b"".join(client.get(icon).streaming_content)
    assert svg.startswith(b"<svg") and len(svg) < 2000
