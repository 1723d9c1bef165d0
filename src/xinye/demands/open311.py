"""Open311 GeoReport v2 for demands, with the "servicerequestupdates" extension (docs/open311.md).

Plain Django views: the XML shapes of GeoReport (`<services><service>`, `<service_requests><request>`,
`<errors><error>`) are written by one small serializer shared by both formats, so the JSON and the XML
of a response always hold the same fields.

Who sees what. The only credential is an `api_key` (no session, no cookie: so no CSRF either):
- with a key, the caller acts as the key's user: the requests that user may see (demands.selectors) in
  full;
- without one (or for a demand the key's user may not see), a public view: status, category, dates,
  the responsible body and a place rounded to 2 decimals (about 1 km); no description, no notes, no
  address.
Every caller names a demand by its number (`service_request_id` = `Demand.reference`, "D123"). The
tracking code is the submitter's secret (whoever holds it may close, reopen and rate the demand): it is
sent only as the `tracking_code` of the answer to the POST that created the demand; the `token` is an
opaque name of the demand (never the code: `tokens/{token}` puts it in an address).
Nothing of a submitter's identity is ever sent, to anyone: texts sent to key holders pass through
accounts.policy.demand_text_for(..., machine=True), which blanks the names of the worker and of the member
who entered the demand and every phone-number-like run of digits.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import json
import os
import re
import secrets
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from xinye.accounts import policy
from xinye.accounts.scope import Scope, scope_for
from xinye.algorithms.errors import InputError
from xinye.common import ratelimit
from xinye.organizations.models import Company
from xinye.places.models import Division, Level
from xinye.stations.registry import locate_community

from . import selectors, services
from .models import OPEN_STATUSES, ApiKey, Category, Channel, Demand, DemandEvent, DemandStatus

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
MAX_SPAN = dt.timedelta(days=90)
MAX_RESULTS = 1000
PUBLIC_PREFIX = "D"
PUBLIC_DECIMALS = 2  # about 1 km: a district's part, not a street corner
KEY_DECIMALS = 3  # as stored (about 100 m)

S = DemandStatus
#: GeoReport's two statuses
GEOREPORT_STATUS = {s: ("open" if s in OPEN_STATUSES else "closed") for s in S.values}
#: the statuses of the servicerequestupdates extension
UPDATE_STATUS = {
    S.SUBMITTED: "OPEN",
    S.ACCEPTED: "INVESTIGATING",
    S.IN_PROGRESS: "IN_PROGRESS",
    S.RESOLVED: "FIXED",
    S.CLOSED: "CLOSED",
    S.REJECTED: "NOT_COUNCILS_RESPONSIBILITY",
    S.DUPLICATE: "DUPLICATE",
    S.REOPENED: "REOPEN",
}
#: events whose public note explains the current status (`status_notes`)
NOTE_KINDS = (
    DemandEvent.Kind.STATUS,
    DemandEvent.Kind.NOTE,
    DemandEvent.Kind.MERGED,
    DemandEvent.Kind.ESCALATED,
)
#: events sent as updates; a rating is the submitter's own word about the handling, not a change
UPDATE_KINDS = tuple(k for k in DemandEvent.Kind.values if k != DemandEvent.Kind.RATED)

#: in XML, the element of each item of a list
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "service_request_updates": "request_update",
}
_XML_INVALID = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """An answer of errors: `errors` is a list of (code, description); `status` the HTTP status."""

    def __init__(self, status: int, *errors: tuple[int, str]):
        super().__init__(errors)
        self.status = status
        self.errors = list(errors) or [(status, "")]
        self.headers: dict[str, str] = {}


def _fail(status: int, description: str) -> Open311Error:
    return Open311Error(status, (status, description))


# ---------------------------------------------------------------- API keys (writes)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, user, name: str) -> tuple[ApiKey, str]:
    """A new key for `user`: returns the key record and the key itself, which is stored only as its
    SHA-256 and so cannot be shown again."""
    if not name.strip():
        raise services.DemandError("give the key a name (who or what uses it)")
    while True:
        key = secrets.token_urlsafe(32)
        if not ApiKey.objects.filter(key_hash=_hash(key)).exists():
            break
    return ApiKey.objects.create(user=user, name=name.strip()[:100], key_hash=_hash(key)), key


def api_key_revoke(*, key_id: int) -> ApiKey:
    """Revoke a key for good (requests made with it are refused from now on)."""
    n = ApiKey.objects.filter(pk=key_id).update(active=False, updated_at=timezone.now())
    if n != 1:
        raise services.DemandError(f"there is no API key {key_id}")
    return ApiKey.objects.select_related("user").get(pk=key_id)


def api_key_list():
    return ApiKey.objects.select_related("user").order_by("pk")


def api_key_user(key: str):
    """The active user of an active key, or None."""
    found = ApiKey.objects.filter(key_hash=_hash(key), active=True).select_related("user").first()
    if found is None or not found.user.is_active:
        return None
    return found.user


# ---------------------------------------------------------------- rendering


def _scalar(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _xml_element(tag: str, value) -> ET.Element:
    el = ET.Element(tag)
    if isinstance(value, dict):
        for k, v in value.items():
            el.append(_xml_element(k, v))
    elif isinstance(value, list):
        for v in value:
            el.append(_xml_element(LIST_ITEMS[tag], v))
    else:
        el.text = _scalar(value)
    return el


def render(fmt: str, root: str, value, *, status: int = 200) -> HttpResponse:
    """`value` as JSON, or as XML under the element `root` (lists: one child element per item)."""
    if fmt == "xml":
        body = XML_DECLARATION + ET.tostring(_xml_element(root, value), encoding="unicode").encode()
    else:
        body = json.dumps(value, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def render_errors(fmt: str, exc: Open311Error) -> HttpResponse:
    return render(fmt, "errors", [{"code": code, "description": text} for code, text in exc.errors], status=exc.status)


def _when(value: dt.datetime | None) -> str | None:
    """W3C date-time with its offset (GeoReport requires the time zone)."""
    return None if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def _hour(value: dt.datetime) -> dt.datetime:
    """The start of the hour of `value` (local time)."""
    return timezone.localtime(value).replace(minute=0, second=0, microsecond=0)


def _public_when(value: dt.datetime | None) -> str | None:
    """A time in the public view: to the hour (its start), not the second. With its place to about 1 km, a time
    to the second would let a platform that sees its riders' positions narrow down who told a demand hidden from
    it (security.md)."""
    return None if value is None else _when(_hour(value))


# ---------------------------------------------------------------- the views' frame


def _anon_rate() -> str:
    """Callers without a key, by client address: XINYE_OPEN311_ANON_RATE, else the API's anonymous rate."""
    return getattr(settings, "XINYE_OPEN311_ANON_RATE", "") or settings.XINYE_RATES["open311"]


def _param(request, name: str) -> str:
    if request.method == "POST" and name in request.POST:
        return request.POST.get(name, "").strip()
    return request.GET.get(name, "").strip()


class Call:
    """One call: its parameters, the key's user and scope (None without a key)."""

    def __init__(self, request, user):
        self.request = request
        self.user = user
        self.scope: Scope | None = scope_for(user) if user is not None else None

    def get(self, name: str) -> str:
        return _param(self.request, name)


def endpoint(*methods: str):
    """Open311 frame of a view `fn(call, **kwargs) -> (root, value[, status])`: the format suffix, the
    jurisdiction, the api_key (403 when given and not valid), throttling of callers without a key, and
    errors as an Open311 error list."""

    def deco(fn):
        @csrf_exempt
        @functools.wraps(fn)
        def view(request, fmt: str, **kwargs):
            if fmt not in CONTENT_TYPES:
                return render_errors("json", _fail(404, _("unknown format %(fmt)r: use .json or .xml") % {"fmt": fmt}))
            key = _param(request, "api_key")
            try:
                if request.method not in methods:
                    raise _fail(405, _("%(method)s is not allowed here") % {"method": request.method})
                jurisdiction = _param(request, "jurisdiction_id")
                if jurisdiction and jurisdiction != _jurisdiction():
                    raise _fail(404, _("jurisdiction_id %(j)r was not found") % {"j": jurisdiction})
                user = api_key_user(key) if key else None
                if user is None:  # callers with a wrong key count as callers without one
                    decision = ratelimit.hit("open311", ratelimit.client_key(request), _anon_rate())
                    if not decision.allowed:
                        exc = _fail(429, _("too many requests without an api_key; try again later"))
                        exc.headers["Retry-After"] = str(decision.retry_after)
                        raise exc
                if key and user is None:
                    raise _fail(403, _("api_key is not valid (unknown or revoked)"))
                root, value, *rest = fn(Call(request, user), **kwargs)
                response = render(fmt, root, value, status=rest[0] if rest else 200)
            except Open311Error as exc:
                response = render_errors(fmt, exc)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                for name, value in exc.headers.items():
                    response[name] = value
            except ratelimit.RateLimited as exc:  # the demand-submission limit of callers without a key
                response = render_errors(fmt, _fail(429, _("too many requests without an api_key; try again later")))
                response["Retry-After"] = str(exc.retry_after)
            if key:
                response["Cache-Control"] = "no-store"  # what a key's user may see stays with them
            elif request.method == "GET":
                response["Access-Control-Allow-Origin"] = "*"  # public view; keys and cookies are never used
            return response

        return ratelimit.own_limit(view)  # keyed callers are not limited; the others are, above

    return deco


@csrf_exempt
def not_found(request, *args, **kwargs):
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return render_errors(fmt, _fail(404, _("no such Open311 resource: %(path)s") % {"path": request.path}))


def setting(name: str, default: str) -> str:
    """A Django setting, else the environment variable of the same name, else `default`."""
    return getattr(settings, name, None) or os.environ.get(name, "") or default


def _jurisdiction() -> str:
    return setting("XINYE_OPEN311_JURISDICTION", "xinye")


# ---------------------------------------------------------------- discovery and services


def _changeset() -> str:
    """When the service list or definitions last changed (categories and platform companies)."""
    latest = [
        Category.objects.aggregate(m=Max("updated_at"))["m"],
        Company.objects.filter(is_platform=True).aggregate(m=Max("updated_at"))["m"],
    ]
    latest = [t for t in latest if t is not None]
    return _when(max(latest)) if latest else _when(timezone.now())


@endpoint("GET")
def discovery(call: Call):
    changeset = _changeset()
    return (
        "discovery",
        {
            "changeset": changeset,
            "contact": setting("XINYE_OPEN311_CONTACT", "") or _("Ask the administrators of this Xinye installation."),
            "key_service": _("API keys are issued by an administrator (xinye open311 key create)."),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": call.request.build_absolute_uri("./").rstrip("/"),
                    "changeset": changeset,
                    "type": setting("XINYE_OPEN311_ENDPOINT_TYPE", "production"),
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


def _platforms() -> list[Company]:
    return list(Company.objects.filter(is_platform=True).order_by("name"))


def _attributes(platforms: list[Company]) -> list[dict]:
    if not platforms:
        return []
    return [
        {
            "variable": True,
            "code": "company",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("One of the platform companies listed; leave out when none applies."),
            "order": 1,
            "description": _("Which platform company does the demand concern?"),
            "values": [{"key": str(c.pk), "name": c.short_name or c.name} for c in platforms],
        }
    ]


@endpoint("GET")
def service_list(call: Call):
    metadata = Company.objects.filter(is_platform=True).exists()
    return (
        "services",
        [
            {
                "service_code": c.code,
                "service_name": c.name,
                "description": c.description,
                "metadata": metadata,
                "type": "realtime",
                "keywords": ", ".join(dict.fromkeys(x for x in (c.name_zh, c.name_en) if x)),
                "group": c.group,
            }
            for c in Category.objects.filter(active=True).order_by("order", "code")
        ],
    )


def _category(code: str) -> Category:
    found = Category.objects.filter(code=code, active=True).first()
    if found is None:
        raise _fail(404, _("service_code %(code)r was not found") % {"code": code})
    return found


@endpoint("GET")
def service_definition(call: Call, code: str):
    category = _category(code)
    return "service_definition", {"service_code": category.code, "attributes": _attributes(_platforms())}


# ---------------------------------------------------------------- requests: reading


def public_id(demand: Demand) -> str:
    return demand.reference


#: a reference: ASCII digits only (str.isdigit() also takes "²", which int() refuses) and within a bigint
_REFERENCE = re.compile(re.escape(PUBLIC_PREFIX) + r"([0-9]{1,18})")


def _id_q(call: Call, ids: Iterable[str]) -> Q:
    """Demands named by their references ("D123"), for every caller. A tracking code names nothing: it lets
    its holder act as the submitter on the tracking page, so no answer may confirm one (tokens/ aside)."""
    q = Q(pk__in=[])
    for raw in ids:
        if m := _REFERENCE.fullmatch(raw):
            q |= Q(pk=int(m.group(1)))
    return q


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _place(demand: Demand, decimals: int) -> tuple[float | None, float | None]:
    lat, lon = demand.lat, demand.lon
    if lat is None and demand.community_id and demand.community.lat is not None:
        lat, lon = demand.community.lat, demand.community.lon
    if lat is None or lon is None:
        return None, None
    return round(lat, decimals), round(lon, decimals)


def _events_by_demand(demands: list[Demand]) -> dict[int, list[DemandEvent]]:
    out: dict[int, list[DemandEvent]] = defaultdict(list)
    for e in DemandEvent.objects.filter(demand__in=[d.pk for d in demands], public=True).order_by("at", "pk"):
        out[e.demand_id].append(e)
    return out


def _visible_ids(call: Call, demands: list[Demand]) -> set[int]:
    """Which of `demands` the key's user may see in full."""
    if call.scope is None or not demands:
        return set()
    return set(
        selectors.demand_list(scope=call.scope).filter(pk__in=[d.pk for d in demands]).values_list("pk", flat=True)
    )


def request_records(call: Call, demands: list[Demand]) -> list[dict]:
    """GeoReport request records: in full for demands the key's user may see, else the public view."""
    full = _visible_ids(call, demands)
    events = _events_by_demand(demands)
    out = []
    for d in demands:
        evs = events.get(d.pk, [])
        updated = max([d.created_at, d.updated_at] + [e.at for e in evs])
        open_ = d.status in OPEN_STATUSES
        body = d.body.name if d.body_id else None
        when = _when if d.pk in full else _public_when
        if d.pk in full:

            def blank(text, d=d):
                return policy.demand_text_for(call.scope, d, text, machine=True)

            notes = [n for e in evs if e.kind in NOTE_KINDS and (n := policy.submitter_note(e)).strip()]
            agency = "; ".join(x for x in (body, d.organization.name if d.organization_id else None) if x) or None
            lat, lon = _place(d, KEY_DECIMALS)
            place = d.address or (d.community.name if d.community_id else "")
            rid, description = public_id(d), blank(d.description)
            status_notes, address = (blank(notes[-1]) if notes else None), (blank(place) or None)
            address_id = d.community.code if d.community_id else None
        else:
            lat, lon = _place(d, PUBLIC_DECIMALS)
            rid, description, status_notes, address, address_id, agency = public_id(d), None, None, None, None, body
        out.append(
            {
                "service_request_id": rid,
                "status": GEOREPORT_STATUS[d.status],
                "status_notes": status_notes,
                "service_name": d.category.name,
                "service_code": d.category.code,
                "description": description,
                "agency_responsible": agency,
                "service_notice": None,
                "requested_datetime": when(d.created_at),
                "updated_datetime": when(updated),
                "expected_datetime": when(d.due_at) if open_ else None,
                "address": address,
                "address_id": address_id,
                "zipcode": None,
                "lat": lat,
                "long": lon,
                "media_url": None,  # photos are shown only on the pages that check who may see them
            }
        )
    return out


def _base(call: Call):
    qs = selectors.demand_list(scope=call.scope) if call.scope is not None else Demand.objects.all()
    return qs.select_related("category", "community", "organization", "body", "person", "entered_by__person")


def _parse_when(value: str, name: str) -> dt.datetime:
    """An ISO 8601 (W3C) date-time; a date alone is its start; without an offset, local time."""
    candidates = [value] + ([value.replace(" ", "+")] if " " in value else [])  # an unescaped "+" in a URL
    found = None
    for v in candidates:
        try:
            found = parse_datetime(v)
            if found is None and (d := parse_date(v)) is not None:
                found = dt.datetime.combine(d, dt.time.min)
        except ValueError:
            found = None
        if found is not None:
            break
    if found is None:
        raise _fail(
            400,
            _("%(name)s %(value)r is not an ISO 8601 date-time (e.g. 2026-01-31T08:00:00+08:00)")
            % {"name": name, "value": value},
        )
    return timezone.make_aware(found) if timezone.is_naive(found) else found


def date_range(call: Call) -> tuple[dt.datetime, dt.datetime]:
    """[start_date, end_date]: at most 90 days; by default the last 90 days. Widened to whole hours (the start
    of the first, the end of the last), as public times are (`_public_when`): a range to the second would give
    the second of a demand back by halving it."""
    start_raw, end_raw = call.get("start_date"), call.get("end_date")
    start = _parse_when(start_raw, "start_date") if start_raw else None
    end = _parse_when(end_raw, "end_date") if end_raw else None
    if start is None and end is None:
        end = timezone.now()
    try:
        if start is None:
            start = end - MAX_SPAN
        if end is None:
            end = start + MAX_SPAN
    except OverflowError:
        raise _fail(400, _("start_date and end_date must lie between the years 1 and 9999")) from None
    if end < start:
        raise _fail(400, _("end_date is before start_date"))
    if end - start > MAX_SPAN:
        raise _fail(400, _("start_date and end_date may not be more than 90 days apart"))
    try:
        last = _hour(end)
        return _hour(start), last + dt.timedelta(hours=1) - dt.timedelta(microseconds=1)
    except OverflowError:
        raise _fail(400, _("start_date and end_date must lie between the years 1 and 9999")) from None


def _status_filter(value: str) -> list[str]:
    wanted = _csv(value.lower())
    bad = [w for w in wanted if w not in ("open", "closed")]
    if bad:
        raise _fail(400, _("status %(s)r is not open or closed") % {"s": ",".join(bad)})
    return [s for s, g in GEOREPORT_STATUS.items() if g in wanted]


def _code_filter(value: str) -> list[str]:
    codes = _csv(value)
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise _fail(404, _("service_code %(code)r was not found") % {"code": ",".join(unknown)})
    return codes


@endpoint("GET", "POST")
def request_list(call: Call):
    if call.request.method == "POST":
        return request_create(call)
    qs = _base(call)
    ids = _csv(call.get("service_request_id"))
    if ids:  # GeoReport: this overrides every other argument
        qs = qs.filter(_id_q(call, ids))
    else:
        if codes := call.get("service_code"):
            qs = qs.filter(category__code__in=_code_filter(codes))
        if status := call.get("status"):
            qs = qs.filter(status__in=_status_filter(status))
        start, end = date_range(call)
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
    demands = list(qs.order_by("-created_at", "-pk")[:MAX_RESULTS])
    return "service_requests", request_records(call, demands)


def _one(call: Call, ident: str) -> Demand:
    found = (
        Demand.objects.filter(_id_q(call, [ident]))
        .select_related("category", "community", "organization", "body", "person", "entered_by__person")
        .first()
    )
    if found is None:
        raise _fail(404, _("service_request_id %(id)r was not found") % {"id": ident})
    return found


@endpoint("GET")
def request_detail(call: Call, request_id: str):
    return "service_requests", request_records(call, [_one(call, request_id)])


TOKEN = re.compile(r"[Tt]([0-9]{1,18})-([0-9a-fA-F]{16})")


def token_of(d: Demand) -> str:
    """The Open311 `token` of a demand: an opaque name that leads to its reference and grants nothing. It is
    not the tracking code, because `tokens/{token}` puts it in an address, and addresses reach access logs
    (issue 10)."""
    return f"T{d.pk}-{salted_hmac('xinye.open311.token', str(d.pk)).hexdigest()[:16]}"


def _demand_of_token(token: str) -> Demand | None:
    m = TOKEN.fullmatch(token)
    if m is None:
        return None
    d = Demand.objects.filter(pk=int(m[1])).first()
    return d if d is not None and constant_time_compare(token_of(d)[1:].lower(), token[1:].lower()) else None


@endpoint("GET")
def token_detail(call: Call, token: str):
    if call.user is None:
        raise _fail(403, _("an api_key is required to look up a token"))
    d = _demand_of_token(token)
    if d is None:
        raise _fail(404, _("token %(t)r was not found") % {"t": token})
    return "service_requests", [{"service_request_id": public_id(d), "token": token}]


# ---------------------------------------------------------------- requests: submitting


def _float(call: Call, name: str, errors: list) -> float | None:
    raw = call.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        errors.append((400, _("%(name)s %(raw)r is not a number") % {"name": name, "raw": raw}))
        return None
    return value


def request_create(call: Call):
    """POST requests: an anonymous demand entered by the key's user (the sender's name, phone and email
    are not stored)."""
    if call.user is None:
        raise _fail(403, _("an api_key is required to submit a request"))
    errors: list[tuple[int, str]] = []
    code = call.get("service_code")
    category = None
    if not code:
        errors.append((400, _("service_code was not provided")))
    else:
        category = Category.objects.filter(code=code, active=True).first()
        if category is None:
            errors.append((404, _("service_code %(code)r was not found") % {"code": code}))
    unparsed = len(errors)
    lat, lon = _float(call, "lat", errors), _float(call, "long", errors)
    if len(errors) == unparsed and (lat is None) != (lon is None):
        errors.append((400, _("lat and long must be sent together")))
    address, address_id = call.get("address_string"), call.get("address_id")
    community = None
    if address_id:
        community = Division.objects.filter(code=address_id, level=Level.COMMUNITY).first()
        if community is None:
            errors.append((400, _("address_id %(a)r is not the code of a community") % {"a": address_id}))
    if not (call.get("lat") or call.get("long") or address or address_id):
        errors.append((400, _("a location is required: lat and long, address_string or address_id")))
    description = call.get("description")
    if not description:
        errors.append((400, _("description was not provided")))
    company = None
    if company_key := call.get("attribute[company]"):
        digits = re.fullmatch(r"[0-9]{1,18}", company_key)
        company = Company.objects.filter(pk=int(company_key), is_platform=True).first() if digits else None
        if company is None:
            errors.append((400, _("attribute[company] %(c)r is not one of the listed values") % {"c": company_key}))
    if errors:
        raise Open311Error(404 if any(c == 404 for c, _text in errors) else 400, *errors)
    if community is None and lat is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        community = locate_community(lat, lon)  # so that it reaches the community's organizers
    # an Idempotency-Key header makes a retried POST return the first request's demand (per caller)
    caller = f"open311:u{call.user.pk}" if call.user is not None else f"open311:{ratelimit.client_key(call.request)}"
    admit = None
    if call.user is None:  # the demand-submission limit of the web form applies to callers without a key
        ident, rate = ratelimit.client_key(call.request), ratelimit.rate_setting("demand_anon")
        admit = lambda: ratelimit.ensure("demand_anon", ident, rate)  # noqa: E731
    try:
        d = services.demand_submit(
            idempotency_key=services.idempotency_hash(caller, call.request.META.get("HTTP_IDEMPOTENCY_KEY", "")),
            admit=admit,
            category=category,
            description=description,
            entered_by=call.user,
            anonymous=True,
            company=company,
            community=community,
            lat=lat,
            lon=lon,
            address=address,
            channel=Channel.OPEN311,
        )
    except InputError as exc:
        raise Open311Error(400, *[(400, f"{e.file}: {e.message}") for e in exc.errors]) from exc
    notice = _(
        "Received as an anonymous demand: the name, phone and email sent with it are not stored. "
        "Reference %(ref)s; the handling target is %(days)s days. The tracking_code is the worker's: "
        "give it to them alone."
    ) % {"ref": public_id(d), "days": category.due_days}
    answer = {"service_request_id": public_id(d), "token": token_of(d), "service_notice": notice, "account_id": None}
    # the worker's secret, in this answer's body only (never in an address: see token_of)
    return "service_requests", [{**answer, "tracking_code": d.tracking_code}]


# ---------------------------------------------------------------- servicerequestupdates


@endpoint("GET")
def update_list(call: Call):
    """One update per public event of the demands the caller may see (all of them, without a key, with
    no text), in [start_date, end_date]; `service_request_id=a,b` keeps those requests' updates only."""
    start, end = date_range(call)
    demands = _base(call)
    if ids := _csv(call.get("service_request_id")):
        demands = demands.filter(_id_q(call, ids))
    events = list(
        DemandEvent.objects.filter(
            demand__in=demands.values("pk"), public=True, kind__in=UPDATE_KINDS, at__gte=start, at__lte=end
        )
        .select_related("demand", "demand__person", "demand__entered_by__person")
        .order_by("at", "pk")[:MAX_RESULTS]
    )
    by_demand = {e.demand_id: e.demand for e in events}
    full = _visible_ids(call, list(by_demand.values()))
    # the status after each event: its own, or the last one set before it
    steps: dict[int, list[tuple]] = defaultdict(list)
    statuses: dict[int, list[str]] = defaultdict(list)
    for demand_id, at, pk, to in (
        DemandEvent.objects.filter(demand_id__in=list(by_demand))
        .exclude(to_status="")
        .order_by("at", "pk")
        .values_list("demand_id", "at", "pk", "to_status")
    ):
        steps[demand_id].append((at, pk))
        statuses[demand_id].append(to)
    out = []
    for e in events:
        d = e.demand
        i = bisect.bisect_right(steps[d.pk], (e.at, e.pk))
        status = e.to_status or (statuses[d.pk][i - 1] if i else S.SUBMITTED)
        visible = d.pk in full
        out.append(
            {
                "update_id": str(e.pk),
                "service_request_id": public_id(d),
                "status": UPDATE_STATUS[status],
                "updated_datetime": _when(e.at) if visible else _public_when(e.at),
                "description": (policy.demand_text_for(call.scope, d, policy.submitter_note(e), machine=True) or None)
                if visible
                else None,
                "media_url": None,
                "external_status_code": status,
            }
        )
    return "service_request_updates", out
