"""Open311 GeoReport v2 (issue #6, item 5): every endpoint in JSON and XML, parsed back with generic
parsers (json, xml.etree) and checked against the GeoReport v2 field lists; submitting with an API key;
errors; the status mapping; that every caller sees a demand under its reference ("D<pk>") only, its
tracking code (the submitter's key to the tracking page) being in no answer but the POST's `token`; and
that no response ever carries a submitter's identity."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import scope_for
from xinye.common import ratelimit
from xinye.demands import selectors, services
from xinye.demands.models import (
    ApiKey,
    BodyKind,
    Category,
    Channel,
    Demand,
    DemandStatus,
    ResponsibleBody,
    RoutingRule,
)
from xinye.demands.open311 import token_of
from xinye.organizations.models import Company, Organization
from xinye.people.models import Person
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
DEMO_USERS = ["admin", "organizer", "district", "staff", "secretary", "member", "operator"]
S = DemandStatus

# ---------------------------------------------------------------- the GeoReport v2 field lists

DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
DEFINITION_FIELDS = {"service_code", "attributes"}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
VALUE_FIELDS = {"key", "name"}
POST_FIELDS = {"service_request_id", "token", "service_notice", "account_id", "tracking_code"}
TOKEN_FIELDS = {"service_request_id", "token"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
REQUEST_DATES = ("requested_datetime", "updated_datetime", "expected_datetime")
UPDATE_FIELDS = {
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
    "external_status_code",
}
UPDATE_STATUSES = {
    "OPEN",
    "INVESTIGATING",
    "ACTION_SCHEDULED",
    "IN_PROGRESS",
    "FIXED",
    "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY",
    "CLOSED",
    "REOPEN",
}
ERROR_FIELDS = {"code", "description"}
#: XML elements whose children are the items of a list (the JSON arrays of the Spark convention)
XML_LISTS = {
    "services",
    "service_requests",
    "attributes",
    "values",
    "endpoints",
    "formats",
    "errors",
    "service_request_updates",
}
XML_ROOTS = {
    "discovery": "discovery",
    "services": "services",
    "service": "service_definition",
    "requests": "service_requests",
    "updates": "service_request_updates",
    "errors": "errors",
}
W3C_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
REFERENCE = re.compile(r"^D[1-9][0-9]*$")


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the throttle counts in the cache: each test starts with a clean slate
    yield
    cache.clear()


def from_xml(el: ET.Element):
    """A generic XML -> plain data mapping: list elements become lists, others dicts, leaves text."""
    if el.tag in XML_LISTS:
        return [from_xml(child) for child in el]
    if len(el):
        return {child.tag: from_xml(child) for child in el}
    return el.text or None


def as_text(value):
    """JSON values as XML carries them (text), to compare the two formats."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def call(client, method: str, path: str, fmt: str, params=None):
    """One Open311 call; returns (status, parsed body, root element name or None, raw text)."""
    url = f"{BASE}{path}.{fmt}"
    if method == "post":
        r = client.post(url, urlencode(params or {}), content_type="application/x-www-form-urlencoded")
    else:
        r = client.get(url, params or {})
    text = r.content.decode("utf-8")
    if fmt == "xml":
        assert r["Content-Type"].startswith("text/xml")
        assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        root = ET.fromstring(r.content)
        return r.status_code, from_xml(root), root.tag, text
    assert r["Content-Type"].startswith("application/json")
    return r.status_code, json.loads(text), None, text


def both(client, path: str, params=None, *, expect: int = 200, root: str | None = None):
    """GET in JSON and XML; checks the two agree and returns the JSON."""
    js_status, js, _, _ = call(client, "get", path, "json", params)
    xml_status, xm, tag, _ = call(client, "get", path, "xml", params)
    assert js_status == xml_status == expect, (js, xm)
    if root:
        assert tag == root
    assert as_text(js) == xm
    return js


def check_errors(data, status: int) -> list[str]:
    assert isinstance(data, list) and data
    for e in data:
        assert set(e) == ERROR_FIELDS
        assert str(e["code"]) == str(status)
        assert e["description"]
    return [e["description"] for e in data]


def check_date(value: str) -> dt.datetime:
    assert W3C_DATETIME.match(value), value
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def check_requests(data: list[dict]) -> None:
    for r in data:
        assert set(r) == REQUEST_FIELDS
        assert r["status"] in ("open", "closed")
        assert r["requested_datetime"] and r["updated_datetime"]
        for name in REQUEST_DATES:
            if r[name] is not None:
                check_date(r[name])
        for name in ("lat", "long"):
            assert r[name] is None or isinstance(r[name], float)
        assert r["description"] is None or len(r["description"]) <= 4000


def check_updates(data: list[dict]) -> None:
    for u in data:
        assert set(u) == UPDATE_FIELDS
        assert u["status"] in UPDATE_STATUSES
        assert u["external_status_code"] in S.values
        check_date(u["updated_datetime"])


def make_key(username: str, name: str = "") -> str:
    out = io.StringIO()
    call_command("open311", "key", "create", "--user", username, "--name", name or f"test {username}", stdout=out)
    return out.getvalue().splitlines()[1].strip()


def community(index: int = 0) -> Division:
    return Division.objects.filter(level=Level.COMMUNITY, code__startswith="4403", lat__isnull=False).order_by("code")[
        index
    ]


def submit(description: str = "平台拖欠三周工资", *, where: Division | None = None, code: str = "pay", **kwargs):
    return services.demand_submit(
        category=Category.objects.get(code=code),
        description=description,
        community=where or community(),
        **kwargs,
    )


def user(username: str):
    return get_user_model().objects.get(username=username)


def tracking_codes() -> set[str]:
    """Every demand's tracking code (the demo's and the test's own)."""
    return set(Demand.objects.values_list("tracking_code", flat=True))


def assert_no_tracking_code(text: str, codes: set[str], where=None) -> None:
    """None of `codes` in `text`, in any case (tokens are looked up in any case)."""
    upper = text.upper()
    found = sorted(c for c in codes if c in upper)
    assert not found, (where, found)


# ---------------------------------------------------------------- keys


def test_key_command_prints_the_key_once_and_stores_only_its_hash():
    out = io.StringIO()
    call_command("open311", "key", "create", "--user", "member", "--name", "district app", stdout=out)
    lines = out.getvalue().splitlines()
    key = lines[1].strip()
    record = ApiKey.objects.get(name="district app")
    assert record.user == user("member") and record.active
    assert record.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (record.name, record.key_hash) and len(key) >= 40

    listing = io.StringIO()
    call_command("open311", "key", "list", stdout=listing)
    assert "district app" in listing.getvalue() and "member" in listing.getvalue()
    assert key not in listing.getvalue() and record.key_hash not in listing.getvalue()

    call_command("open311", "key", "revoke", str(record.pk), stdout=io.StringIO())
    record.refresh_from_db()
    assert not record.active
    listing = io.StringIO()
    call_command("open311", "key", "list", stdout=listing)
    assert "revoked" in listing.getvalue()

    with pytest.raises(CommandError, match="no such user"):
        call_command("open311", "key", "create", "--user", "nobody", "--name", "x", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no API key"):
        call_command("open311", "key", "revoke", "999999", stdout=io.StringIO())


def test_a_revoked_or_unknown_key_is_refused_with_403(client):
    key = make_key("admin")
    assert both(client, "requests", {"api_key": key}, root="service_requests") is not None
    call_command("open311", "key", "revoke", str(ApiKey.objects.get().pk), stdout=io.StringIO())
    for bad in (key, "not-a-key"):
        data = both(client, "requests", {"api_key": bad}, expect=403, root="errors")
        check_errors(data, 403)


# ---------------------------------------------------------------- discovery and services


def test_discovery_in_both_formats(client):
    data = both(client, "discovery", root="discovery")
    assert set(data) == DISCOVERY_FIELDS
    (endpoint,) = data["endpoints"]
    assert set(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] in ("production", "test")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    check_date(data["changeset"])


def test_services_are_the_active_categories(client):
    data = both(client, "services", root="services")
    categories = list(Category.objects.filter(active=True).order_by("order", "code"))
    assert [s["service_code"] for s in data] == [c.code for c in categories]
    for s, c in zip(data, categories, strict=True):
        assert set(s) == SERVICE_FIELDS
        assert s["type"] == "realtime"
        assert s["metadata"] is True  # the optional `company` attribute
        assert s["group"] == c.group
        assert s["service_name"] in (c.name_zh, c.name_en)
    r = client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="en")
    assert json.loads(r.content)[0]["service_name"] == categories[0].name_en


def test_service_definition_lists_the_platform_companies(client):
    data = both(client, "services/pay", root="service_definition")
    assert set(data) == DEFINITION_FIELDS and data["service_code"] == "pay"
    (attribute,) = data["attributes"]
    assert set(attribute) == ATTRIBUTE_FIELDS
    assert attribute["code"] == "company" and attribute["datatype"] in DATATYPES
    assert attribute["variable"] is True and attribute["required"] is False and attribute["order"] == 1
    platforms = set(Company.objects.filter(is_platform=True).values_list("pk", flat=True))
    assert {int(v["key"]) for v in attribute["values"]} == platforms
    assert all(set(v) == VALUE_FIELDS for v in attribute["values"])

    check_errors(both(client, "services/no_such_thing", expect=404, root="errors"), 404)


# ---------------------------------------------------------------- submitting


def post(client, fmt: str, **params):
    """POST requests; returns (status, parsed body, root element name or None, raw text)."""
    return call(client, "post", "requests", fmt, params)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_an_anonymous_demand_entered_by_the_keys_user(client, fmt):
    key = make_key("member")
    place = community(3)
    status, data, tag, text = post(
        client,
        fmt,
        api_key=key,
        jurisdiction_id="xinye",
        service_code="pay",
        lat=str(place.lat),
        long=str(place.lon),
        address_string="科技园南门外卖柜",
        description="站点三周没有发工资",
        first_name="明",
        last_name="王",
        phone="13912345678",
        email="wm@example.org",
        **{"attribute[company]": str(Company.objects.filter(is_platform=True).order_by("pk").first().pk)},
    )
    assert status == 200, data
    if fmt == "xml":
        assert tag == "service_requests"
    (answer,) = data
    assert set(answer) == POST_FIELDS
    assert "anonymous" in answer["service_notice"] or "匿名" in answer["service_notice"]
    assert answer["account_id"] is None

    # the id is the demand's reference; `tracking_code` for the client to give to the worker; the token an
    # opaque name of the demand, not its tracking code (tokens/{token} is an address: issue 10)
    d = Demand.objects.get(tracking_code=answer["tracking_code"])
    ref = answer["service_request_id"]
    assert ref == d.reference == f"D{d.pk}"
    assert answer["token"].upper() != d.tracking_code and d.tracking_code not in answer["token"].upper()
    # the tracking code is in the answer once: in `tracking_code` (not in the notice, nor anywhere else)
    assert text.upper().count(d.tracking_code) == 1, text
    assert d.channel == Channel.OPEN311 and d.entered_by == user("member")
    assert d.anonymous and d.hide_from_platform and d.person is None
    assert d.description == "站点三周没有发工资" and d.address == "科技园南门外卖柜"
    assert d.company == Company.objects.filter(is_platform=True).order_by("pk").first()
    assert d.community is not None
    assert d.lat == round(place.lat, 3) and d.lon == round(place.lon, 3)
    stored = json.dumps([d.description, d.address, d.rating_note, list(d.events.values_list("note", flat=True))])
    for sent in ("13912345678", "wm@example.org", "王"):
        assert sent not in stored

    # realtime: the token leads to the same id, in any case; the tracking code is no token
    token = both(client, f"tokens/{answer['token']}", {"api_key": key}, root="service_requests")
    assert token == [{"service_request_id": ref, "token": answer["token"]}]
    assert all(set(t) == TOKEN_FIELDS for t in token)
    lower = both(client, f"tokens/{answer['token'].lower()}", {"api_key": key})
    assert lower == [{"service_request_id": ref, "token": answer["token"].lower()}]
    check_errors(both(client, f"tokens/{d.tracking_code}", {"api_key": key}, expect=404, root="errors"), 404)
    # the key's user sees it in full; without a key, the public view; both under the reference
    (full,) = both(client, f"requests/{ref}", {"api_key": key}, root="service_requests")
    check_requests([full])
    assert full["service_request_id"] == ref and full["description"] == "站点三周没有发工资"
    assert full["status"] == "open" and full["address_id"] == d.community.code
    (public,) = both(client, "requests", {"service_request_id": ref}, root="service_requests")
    check_requests([public])
    assert public["service_request_id"] == ref
    assert public["description"] is public["address"] is public["address_id"] is None
    assert_no_tracking_code(json.dumps([full, public]), {d.tracking_code})
    # the tracking code itself names nothing, not even for the key that submitted the demand
    for params in ({"api_key": key}, {}):
        check_errors(both(client, f"requests/{d.tracking_code}", params, expect=404, root="errors"), 404)
        assert both(client, "requests", {**params, "service_request_id": d.tracking_code}) == []


def test_post_with_a_community_code_as_address_id(client):
    key = make_key("organizer")
    place = community(5)
    status, data, _, _ = post(client, "json", api_key=key, service_code="rest_stations", address_id=place.code,
                              description="驿站晚上十点就关门")  # fmt: skip
    assert status == 200, data
    d = Demand.objects.get(tracking_code=data[0]["tracking_code"])
    assert data[0]["service_request_id"] == d.reference
    assert d.community == place and d.lat is None and d.category.code == "rest_stations"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_are_open311_error_lists_and_write_nothing(client, fmt):
    key = make_key("member")
    before = Demand.objects.count()
    place = community()
    good = {"api_key": key, "service_code": "pay", "lat": place.lat, "long": place.lon, "description": "x"}
    cases = [
        ({**good, "api_key": ""}, 403, 1),
        ({**good, "api_key": "wrong"}, 403, 1),
        ({**good, "service_code": "no_such_code"}, 404, 1),
        ({**good, "service_code": ""}, 400, 1),
        ({k: v for k, v in good.items() if k not in ("lat", "long", "description")}, 400, 2),
        ({**good, "long": ""}, 400, 1),
        ({**good, "lat": "north"}, 400, 1),
        ({**good, "lat": "95"}, 400, 1),
        ({**good, "address_id": "999999999999"}, 400, 1),
        ({**good, "attribute[company]": "abc"}, 400, 1),
        ({**good, "description": "长" * 4001}, 400, 1),
        ({**good, "jurisdiction_id": "elsewhere.example"}, 404, 1),
    ]
    for params, status, count in cases:
        got, data, tag, _ = post(client, fmt, **params)
        assert got == status, (params, data)
        if fmt == "xml":
            assert tag == "errors"
        assert len(check_errors(data, status)) == count, data
    assert Demand.objects.count() == before


def test_unknown_format_path_and_method_give_open311_errors(client):
    r = client.get(f"{BASE}services.html")
    assert r.status_code == 404 and json.loads(r.content)[0]["code"] == 404
    r = client.get(f"{BASE}services")
    assert r.status_code == 404 and json.loads(r.content)[0]["code"] == 404
    r = client.get(f"{BASE}nothing/here.xml")
    assert r.status_code == 404 and ET.fromstring(r.content).tag == "errors"
    r = client.post(f"{BASE}services.xml")
    assert r.status_code == 405 and ET.fromstring(r.content).find("error/code").text == "405"
    check_errors(both(client, "services", {"jurisdiction_id": "elsewhere"}, expect=404, root="errors"), 404)
    assert both(client, "services", {"jurisdiction_id": "xinye"}, root="services")


# ---------------------------------------------------------------- reading


def test_requests_in_both_formats_with_and_without_a_key(client):
    d = submit("骑手休息点没有饮水", lat=22.54321, lon=114.05678, address="福田口岸旁")
    key = make_key("organizer")
    full = both(client, "requests", {"api_key": key}, root="service_requests")
    check_requests(full)
    mine = next(r for r in full if r["service_request_id"] == d.reference)
    assert mine["description"] == "骑手休息点没有饮水" and mine["address"] == "福田口岸旁"
    assert (mine["lat"], mine["long"]) == (22.543, 114.057)
    assert mine["service_code"] == "pay" and mine["status"] == "open"
    d.refresh_from_db()
    assert check_date(mine["expected_datetime"]) == d.due_at.replace(microsecond=0)
    assert check_date(mine["requested_datetime"]) == d.created_at.replace(microsecond=0)

    public = both(client, "requests", root="service_requests")
    check_requests(public)
    references = {f"D{pk}" for pk in Demand.objects.values_list("pk", flat=True)}
    for r in public:
        assert REFERENCE.match(r["service_request_id"]) and r["service_request_id"] in references
        assert r["description"] is r["status_notes"] is r["address"] is r["address_id"] is None
        assert r["lat"] is None or round(r["lat"], 2) == r["lat"]
        assert r["long"] is None or round(r["long"], 2) == r["long"]
    assert len(public) > 100  # the demo's demands too: the checks above are not about an empty list
    assert {r["service_request_id"] for r in full} <= {r["service_request_id"] for r in public}
    assert_no_tracking_code(json.dumps([full, public]), tracking_codes())
    mine = next(r for r in public if r["service_request_id"] == d.reference)
    assert (mine["lat"], mine["long"]) == (22.54, 114.06)
    (one,) = both(client, f"requests/{d.reference}", root="service_requests")
    assert one == mine
    # a tracking code is not an id: it names nothing, with or without a key
    for params in ({}, {"api_key": key}):
        check_errors(both(client, f"requests/{d.tracking_code}", params, expect=404, root="errors"), 404)
    check_errors(both(client, f"tokens/{token_of(d)}", expect=403, root="errors"), 403)


def test_a_key_sees_only_what_its_user_may_see(client):
    d = submit("第一区的诉求", where=community(0), lat=22.54321, lon=114.05678, address="第一区的站点")
    assert not selectors.demand_list(scope=scope_for(user("district"))).filter(pk=d.pk).exists()
    key = make_key("district")
    listed = both(client, "requests", {"api_key": key}, root="service_requests")
    assert d.reference not in {r["service_request_id"] for r in listed}
    assert "第一区的诉求" not in json.dumps(listed, ensure_ascii=False)
    # asked for by its reference: the public view, as without a key
    (one,) = both(client, f"requests/{d.reference}", {"api_key": key}, root="service_requests")
    assert one["service_request_id"] == d.reference
    assert one["description"] is one["status_notes"] is one["address"] is one["address_id"] is None
    assert (one["lat"], one["long"]) == (22.54, 114.06)
    assert one == both(client, f"requests/{d.reference}")[0]
    # its token leads to the reference (its tracking code does not)
    token = both(client, f"tokens/{token_of(d)}", {"api_key": key})
    assert token == [{"service_request_id": d.reference, "token": token_of(d)}]
    check_errors(both(client, f"tokens/{d.tracking_code}", {"api_key": key}, expect=404, root="errors"), 404)
    forged = token_of(d)[:-1] + ("0" if token_of(d)[-1] != "0" else "1")
    check_errors(both(client, f"tokens/{forged}", {"api_key": key}, expect=404, root="errors"), 404)
    check_errors(both(client, f"requests/{d.tracking_code}", {"api_key": key}, expect=404, root="errors"), 404)
    check_errors(both(client, "tokens/NOSUCHCODE", {"api_key": key}, expect=404, root="errors"), 404)


def test_only_a_reference_names_a_request(client):
    d = submit("只认编号")
    key = make_key("admin")
    assert d.reference == f"D{d.pk}"
    wrong = [
        d.tracking_code,
        d.tracking_code.lower(),
        f"pub-{d.pk}",  # the former public ids
        str(d.pk),
        "D",
        f"D{d.pk}x",
        f"D-{d.pk}",
        "D²",  # a digit to str.isdigit(), not to int()
        "D" + "9" * 39,  # beyond any database integer
    ]
    for params in ({}, {"api_key": key}):
        (found,) = both(client, f"requests/{d.reference}", params, root="service_requests")
        assert found["service_request_id"] == d.reference
        for ident in wrong:
            check_errors(both(client, f"requests/{ident}", params, expect=404, root="errors"), 404)
        assert both(client, "requests", {**params, "service_request_id": ",".join(wrong)}) == []
        assert both(client, "servicerequestupdates", {**params, "service_request_id": ",".join(wrong)}) == []
        got = both(client, "servicerequestupdates", {**params, "service_request_id": f"{d.reference},{wrong[0]}"})
        assert got and {u["service_request_id"] for u in got} == {d.reference}


def test_request_filters(client):
    now = timezone.now()
    old = submit("九十天以前的诉求", now=now - dt.timedelta(days=120))
    a = submit("a", code="pay")
    b = submit("b", code="rest_stations")
    services.demand_transition(b, to=S.REJECTED, version=b.version, note="不属于本站职责", actor=user("admin"))
    key = make_key("admin")
    A, B, OLD = a.reference, b.reference, old.reference

    def ids(**params):
        return {r["service_request_id"] for r in both(client, "requests", {"api_key": key, **params})}

    assert {A, B} <= ids() and OLD not in ids()
    assert ids(service_request_id=f"{A},{OLD}") == {A, OLD}
    # only references name requests: not tracking codes, not the former public ids
    assert ids(service_request_id=f"{B}, {a.tracking_code},{a.tracking_code.lower()},pub-{a.pk},{a.pk}") == {B}
    by_code = ids(service_code="rest_stations")
    assert B in by_code and A not in by_code
    assert {A, B} <= ids(service_code="rest_stations,pay")
    assert B in ids(status="closed") and A not in ids(status="closed")
    assert A in ids(status="open") and B not in ids(status="open")
    assert {A, B} <= ids(status="open,closed")

    start = (now - dt.timedelta(days=130)).isoformat(timespec="seconds")
    end = (now - dt.timedelta(days=100)).isoformat(timespec="seconds")
    assert ids(start_date=start, end_date=end) == {OLD}
    assert OLD in ids(start_date=start)  # 90 days from the start
    assert OLD in ids(end_date=end)  # 90 days up to the end
    utc = (now - dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert A in ids(start_date=utc)
    # a client that does not escape the "+" of the offset
    raw = (now - dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")
    r = client.get(f"{BASE}requests.json?api_key={key}&start_date={raw}")
    assert r.status_code == 200 and A in {x["service_request_id"] for x in json.loads(r.content)}

    for params, status in [
        ({"start_date": start, "end_date": now.isoformat()}, 400),
        ({"start_date": end, "end_date": start}, 400),
        ({"start_date": "yesterday"}, 400),
        ({"status": "pending"}, 400),
        ({"service_code": "no_such_code"}, 404),
    ]:
        check_errors(both(client, "requests", {"api_key": key, **params}, expect=status, root="errors"), status)


def test_status_mapping_and_updates_after_transitions(client):
    admin = user("admin")
    d = submit("驿站空调坏了", code="rest_stations")
    key = make_key("admin")

    def state():
        (r,) = both(client, f"requests/{d.reference}", {"api_key": key}, root="service_requests")
        return r["status"], r["status_notes"]

    assert state() == ("open", None)
    steps = [
        (S.ACCEPTED, "已受理", "open", "INVESTIGATING"),
        (S.IN_PROGRESS, "", "open", "IN_PROGRESS"),
        (S.RESOLVED, "已更换空调", "closed", "FIXED"),
        (S.CLOSED, "", "closed", "CLOSED"),
        (S.REOPENED, "又坏了", "open", "REOPEN"),
        (S.REJECTED, "由物业负责", "closed", "NOT_COUNCILS_RESPONSIBILITY"),
    ]
    last_note = None
    for to, note, geo, _update in steps:
        # the handler ticked "the submitter sees the note" (issue 16: an unticked note stays internal)
        d = services.demand_transition(d, to=to, version=d.version, note=note, actor=admin, note_public=True)
        last_note = note or last_note
        assert state() == (geo, last_note)
    services.demand_note(d, actor=admin, note="内部备注，不对外", public=False)
    assert state() == ("closed", "由物业负责")

    updates = both(client, "servicerequestupdates", {"api_key": key, "service_request_id": d.reference},
                   root="service_request_updates")  # fmt: skip
    check_updates(updates)
    assert all(u["service_request_id"] == d.reference for u in updates)
    status_updates = [u for u in updates if u["external_status_code"] != S.SUBMITTED]
    assert [u["status"] for u in updates[:1]] == ["OPEN"]
    assert [(u["status"], u["external_status_code"]) for u in status_updates[-len(steps) :]] == [
        (upd, to.value) for to, _n, _g, upd in steps
    ]
    assert "内部备注，不对外" not in json.dumps(updates, ensure_ascii=False)
    assert [u["description"] for u in status_updates[-len(steps) :]] == [n or None for _t, n, _g, _u in steps]
    assert len({u["update_id"] for u in updates}) == len(updates)

    # merged demands become DUPLICATE; the notes of a merge name references, never tracking codes
    x, y = submit("同一个站点欠薪"), submit("同一个站点欠薪（二）")
    into = services.demand_merge([x, y], actor=admin)
    got = both(client, "servicerequestupdates", {"api_key": key, "service_request_id": x.reference})
    assert got[-1]["status"] == "DUPLICATE" and got[-1]["external_status_code"] == S.DUPLICATE
    assert into.reference in got[-1]["description"]
    (merged,) = both(client, f"requests/{x.reference}", {"api_key": key})
    assert merged["status"] == "closed" and into.reference in merged["status_notes"]
    (collective,) = both(client, f"requests/{into.reference}", {"api_key": key})
    assert x.reference in collective["status_notes"] and y.reference in collective["status_notes"]
    assert f"[{x.reference}]" in collective["description"] and f"[{y.reference}]" in collective["description"]
    all_three = f"{x.reference},{y.reference},{into.reference}"
    texts = [
        got,
        merged,
        collective,
        both(client, "servicerequestupdates", {"api_key": key, "service_request_id": all_three}),
    ]
    assert_no_tracking_code(json.dumps(texts), {x.tracking_code, y.tracking_code, into.tracking_code})

    # without a key: the same updates, under the same id, with no text
    public = both(client, "servicerequestupdates", {"service_request_id": d.reference})
    check_updates(public)
    assert [u["status"] for u in public] == [u["status"] for u in updates]
    assert [u["update_id"] for u in public] == [u["update_id"] for u in updates]
    assert all(u["description"] is None and u["service_request_id"] == d.reference for u in public)


def test_updates_are_limited_to_a_90_day_window(client):
    now = timezone.now()
    old = submit("旧诉求", now=now - dt.timedelta(days=200))
    new = submit("新诉求")
    key = make_key("admin")
    recent = {u["service_request_id"] for u in both(client, "servicerequestupdates", {"api_key": key})}
    assert new.reference in recent and old.reference not in recent
    window = {
        "start_date": (now - dt.timedelta(days=201)).isoformat(),
        "end_date": (now - dt.timedelta(days=199)).isoformat(),
    }
    assert {u["service_request_id"] for u in both(client, "servicerequestupdates", {"api_key": key, **window})} == {
        old.reference
    }
    too_long = {"start_date": (now - dt.timedelta(days=91)).isoformat(), "end_date": now.isoformat()}
    check_errors(both(client, "servicerequestupdates", too_long, expect=400, root="errors"), 400)


# ---------------------------------------------------------------- tracking codes


@override_settings(XINYE_OPEN311_ANON_RATE="100000/minute")
def test_no_response_carries_a_tracking_code_and_a_tracking_code_names_nothing(client):
    # given: demands with public notes, a merge (whose notes name the demands) and Open311 submissions
    admin = user("admin")
    a = submit("驿站没有热水", lat=22.54321, lon=114.05678, address="福田口岸旁")
    a = services.demand_transition(a, to=S.ACCEPTED, version=a.version, note="已受理，联系站点", actor=admin)
    services.demand_note(a, actor=admin, note="站点答应本周修好", public=True)
    x, y = submit("同一个站点欠薪"), submit("同一个站点欠薪（二）")
    into = services.demand_merge([x, y], actor=admin)
    keys = {name: make_key(name) for name in DEMO_USERS}
    posted = []
    for fmt in ("json", "xml"):
        status, data, _, text = post(client, fmt, api_key=keys["member"], service_code="pay",
                                     address_id=community(2).code, description=f"站点欠薪两个月（{fmt}）")  # fmt: skip
        assert status == 200, data
        (answer,) = data
        p = Demand.objects.get(tracking_code=answer["tracking_code"])
        assert answer["service_request_id"] == p.reference
        # the POST answer: the tracking code once, as `tracking_code`, and no other demand's
        assert text.upper().count(p.tracking_code) == 1, text
        assert_no_tracking_code(text, tracking_codes() - {p.tracking_code}, where=fmt)
        posted.append(p)
    ours = [a, x, y, into, *posted]
    refs = ",".join(d.reference for d in ours)
    codes = tracking_codes()
    assert {d.tracking_code for d in ours} <= codes and len(codes) > 100

    paths = [
        ("discovery", {}),
        ("services", {}),
        ("services/pay", {}),
        ("requests", {}),
        ("requests", {"status": "closed"}),
        ("requests", {"service_request_id": refs}),
        *[(f"requests/{d.reference}", {}) for d in ours],
        ("servicerequestupdates", {}),
        ("servicerequestupdates", {"service_request_id": refs}),
    ]
    in_full: dict[str, set[str]] = {}
    for name, key in [*keys.items(), ("no key", "")]:
        params = {"api_key": key} if key else {}
        in_full[name] = set()
        # a list with a key holds the demands its user may see (the others by reference: their public view)
        visible = selectors.demand_list(scope=scope_for(user(name))) if key else Demand.objects.all()
        by_ref = both(client, "requests", {**params, "service_request_id": refs})
        assert {r["service_request_id"] for r in by_ref} == {
            d.reference for d in visible.filter(pk__in=[d.pk for d in ours])
        }
        for fmt in ("json", "xml"):
            for path, extra in paths:
                status, data, _, text = call(client, "get", path, fmt, {**params, **extra})
                assert status == 200, (name, path, data)
                assert_no_tracking_code(text, codes, where=(name, fmt, path, extra))
                if path.startswith("requests") and fmt == "json":
                    assert all(REFERENCE.match(r["service_request_id"]) for r in data)
                    in_full[name] |= {r["service_request_id"] for r in data if r["description"]}

            # a tracking code used as an id is "not found", in any case and for anyone; the only
            # code in the answer is the one asked for, echoed in the error
            for d in ours:
                for code in (d.tracking_code, d.tracking_code.lower()):
                    status, data, _, text = call(client, "get", f"requests/{code}", fmt, params)
                    assert status == 404, (name, code, data)
                    check_errors(data, 404)
                    assert_no_tracking_code(text, codes - {d.tracking_code}, where=(name, code))
                    for path in ("requests", "servicerequestupdates"):
                        status, data, _, text = call(client, "get", path, fmt, {**params, "service_request_id": code})
                        assert status == 200 and data == [], (name, path, code, data)
                # tokens/: a key's way from a token (never a tracking code) to the reference
                status, data, _, text = call(client, "get", f"tokens/{d.tracking_code}", fmt, params)
                assert status == (404 if key else 403), data
                status, data, _, text = call(client, "get", f"tokens/{token_of(d)}", fmt, params)
                if key:
                    assert status == 200 and data == [{"service_request_id": d.reference, "token": token_of(d)}]
                    assert_no_tracking_code(text, codes, where=(name, "tokens"))
                else:
                    assert status == 403, data
                    check_errors(data, 403)
                    assert_no_tracking_code(text, codes, where=(name, "tokens"))
    # not vacuous: key holders do get the demands' texts, and the merge notes name references
    assert {d.reference for d in ours} <= in_full["admin"]
    assert not in_full["no key"]
    (merged,) = both(client, f"requests/{x.reference}", {"api_key": keys["admin"]})
    assert into.reference in merged["status_notes"]


# ---------------------------------------------------------------- anonymity


def test_a_hidden_identity_never_appears_in_any_response_for_any_key(client):
    # given: a worker's demand, identity hidden from the platform, routed to a platform company's contact
    staff = user("staff")
    staff_scope = scope_for(staff)
    assert policy.is_platform_side(staff_scope)
    committee = Organization.objects.filter(pk__in=staff_scope.org_ids, company__isnull=False).order_by("pk").first()
    contact = ResponsibleBody.objects.create(
        name="平台骑手关爱热线", kind=BodyKind.PLATFORM, division=community().parent, company=committee.company
    )
    contact.handlers.add(staff)
    # for its part of the city (the most specific rule wins over the demo's city-wide one)
    RoutingRule.objects.create(category=Category.objects.get(code="pay"), division=community().parent, body=contact)
    person = next(p for p in Person.objects.order_by("pk")[:500] if len(p.name) >= 3 and len(p.phone) == 11)
    masked = f"{person.phone[:3]}****{person.phone[-4:]}"
    d = submit(
        f"我是{person.name}，电话{person.phone}（{person.phone[:3]} {person.phone[3:7]} {person.phone[7:]}），工资被扣",
        person=person,
        hide_from_platform=True,
        company=committee.company,
        address=f"{person.name}家楼下",
    )
    assert d.person == person and d.body == contact
    admin = user("admin")
    d = services.demand_transition(d, to=S.ACCEPTED, version=d.version, note=f"已联系{person.name}（{masked}）",
                                   actor=admin)  # fmt: skip
    services.demand_note(d, actor=admin, note=f"{person.name}说已经收到部分工资", public=True)
    # the platform's contact does see the demand (so the check below is not empty)
    assert selectors.demand_list(scope=staff_scope).filter(pk=d.pk).exists()
    assert policy.demand_identity_for(staff_scope, d) is None

    keys = {name: make_key(name) for name in DEMO_USERS}
    seen_in_full = set()
    for name, key in [*keys.items(), ("no key", "")]:
        params = {"api_key": key} if key else {}
        rid = d.reference  # the same id for everyone
        bodies = []
        for fmt in ("json", "xml"):
            for path, extra in [
                ("requests", {}),
                ("requests", {"service_request_id": rid}),
                (f"requests/{rid}", {}),
                ("servicerequestupdates", {}),
                ("servicerequestupdates", {"service_request_id": rid}),
                ("services", {}),
                ("services/pay", {}),
                ("discovery", {}),
            ] + ([(f"tokens/{token_of(d)}", {})] if key else []):
                status, data, _, text = call(client, "get", path, fmt, {**params, **extra})
                assert status == 200, (name, path, data)
                bodies += [text, json.dumps(data, ensure_ascii=False)]
                if path.startswith("requests") and fmt == "json":
                    for r in data:
                        if r["service_request_id"] == d.reference and r["description"]:
                            seen_in_full.add(name)
        blob = "\n".join(bodies)
        for secret in (person.name, person.phone, masked, person.phone[3:7] + " " + person.phone[7:]):
            assert secret not in blob, (name, secret)
    assert {"staff", "admin", "organizer"} <= seen_in_full  # they see the demand's text, blanked


# ---------------------------------------------------------------- throttling


@override_settings(XINYE_OPEN311_ANON_RATE="3/minute")
def test_callers_without_a_key_are_throttled(client):
    for _ in range(3):
        assert client.get(f"{BASE}services.json").status_code == 200
    r = client.get(f"{BASE}services.xml")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    check_errors(from_xml(ET.fromstring(r.content)), 429)
    key = make_key("admin")
    for _ in range(5):
        assert client.get(f"{BASE}services.json", {"api_key": key}).status_code == 200
    # a wrong key is no way around it
    assert client.get(f"{BASE}services.json", {"api_key": "guess"}).status_code == 429
    ratelimit.reset()
    assert client.get(f"{BASE}services.json", {"api_key": "guess"}).status_code == 403


@override_settings(XINYE_OPEN311_JURISDICTION="shenzhen.example")
def test_the_jurisdiction_is_configurable(client):
    assert both(client, "services", {"jurisdiction_id": "shenzhen.example"}, root="services")
    check_errors(both(client, "services", {"jurisdiction_id": "xinye"}, expect=404, root="errors"), 404)


def test_public_times_are_to_the_hour_and_ranges_whole_hours(client):
    """Without the right to see a demand, its times are the start of their hour, and a range cannot find the
    second either: any bounds within the same hours give the same requests (security.md, accepted risk closed)."""
    d = submit("公共时间只到小时")
    d.refresh_from_db()
    local = timezone.localtime(d.created_at)
    public = next(
        r for r in both(client, "requests", root="service_requests") if r["service_request_id"] == d.reference
    )
    assert check_date(public["requested_datetime"]) == local.replace(minute=0, second=0, microsecond=0)
    assert check_date(public["expected_datetime"]).minute == 0 == check_date(public["updated_datetime"]).second
    key = make_key("admin")
    full = next(r for r in both(client, "requests", {"api_key": key}) if r["service_request_id"] == d.reference)
    assert check_date(full["requested_datetime"]) == d.created_at.replace(microsecond=0)  # seen in full: exact
    for r in both(client, "servicerequestupdates", root="service_request_updates"):
        assert check_date(r["updated_datetime"]).minute == 0

    def found(start):
        got = both(client, "requests", {"start_date": start.isoformat(timespec="seconds")}, root="service_requests")
        return d.reference in {r["service_request_id"] for r in got}

    # a start after the demand's second, in the same hour, still finds it: halving the hour tells nothing
    hour = local.replace(minute=0, second=0, microsecond=0)
    assert found(hour) and found(hour + dt.timedelta(minutes=59, seconds=59))
    assert not found(hour + dt.timedelta(hours=1))
