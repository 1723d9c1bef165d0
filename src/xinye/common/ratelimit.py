"""One rate limiter for every page and endpoint (issue 10, item 6).

- **Who is asking**: `client_ip(request)` is REMOTE_ADDR, unless REMOTE_ADDR is one of the proxies listed in
  `XINYE_TRUSTED_PROXIES` (addresses or CIDR networks; none by default). Then it is the right-most
  X-Forwarded-For entry that is not a trusted proxy: entries to its left were written by the client and
  prove nothing. DRF throttles (`AnonThrottle`), django-axes (`AXES_CLIENT_IP_CALLABLE`) and every limit
  here use this one function. IPv6 clients are counted by their /64 network (one subscriber's block), so
  that rotating addresses inside it does not give a fresh budget.
- **Where counts live**: shared by every process and surviving restarts. By default a `RateCounter` row in
  the project database, incremented atomically by one statement (`INSERT ... ON CONFLICT DO UPDATE SET
  count = count + 1 RETURNING count`: the row is locked while it is counted), so two requests can never
  read the same count. With `XINYE_REDIS_URL`, Redis (`cache.add` then `cache.incr`, atomic in Redis).
- **Windows** are fixed (e.g. one hour from the full hour); the count is taken *before* the work is done,
  so twenty concurrent requests against a limit of five let exactly five through.

`hit(scope, ident, rate)` counts one request and says whether it is allowed; `RateLimited` raised by a view
(or by `ensure`) becomes a 429 page or JSON answer with Retry-After (`RateLimitMiddleware`), in the
user's language. The middleware also gives every anonymous request a general budget per address
(`XINYE_RATE_ANON`), so a new anonymous page is limited without anyone remembering to.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import json
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
clock = time.time  # the seconds that windows are cut from (tests pin it away from a window's edge)


# ---------------------------------------------------------------- the client's address


@functools.lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple:
    nets = []
    for item in spec:
        item = item.strip()
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


def trusted_proxies() -> tuple:
    """The networks of `XINYE_TRUSTED_PROXIES` (a list, or a comma-separated string)."""
    raw = getattr(settings, "XINYE_TRUSTED_PROXIES", ()) or ()
    if isinstance(raw, str):
        raw = raw.split(",")
    return _networks(tuple(raw))


def _ip(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(ip, nets) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in nets)


def client_ip(request) -> str:
    """The address of the client, seen through the trusted proxies only (see the module docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    nets = trusted_proxies()
    hop = _ip(remote)
    if not nets or not _trusted(hop, nets):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for part in reversed([p for p in forwarded.split(",") if p.strip()]):
        ip = _ip(part)
        if ip is None:  # written by the client, not by a proxy: the hop to its right is the best we know
            break
        hop = ip
        if not _trusted(ip, nets):
            break
    return str(hop)


def client_key(request) -> str:
    """What limits count by: the client's address; for IPv6 its /64 network."""
    ip = _ip(client_ip(request))
    if ip is None:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def axes_client_ip(request) -> str:
    """AXES_CLIENT_IP_CALLABLE: django-axes counts login failures by the same address."""
    return client_ip(request)


# ---------------------------------------------------------------- rates and counts


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_rate(text: str | Rate) -> Rate:
    """ "5/hour", "120/minute", "10/30s", "1000/day" -> Rate. A clear error names the bad value."""
    if isinstance(text, Rate):
        return text
    try:
        num, period = str(text).strip().split("/")
        count = int(num)
        digits = "".join(ch for ch in period if ch.isdigit())
        unit = period[len(digits) :].strip().lower()[:1]
        seconds = int(digits or 1) * PERIODS[unit]
        if count < 0 or seconds <= 0:
            raise ValueError
    except (ValueError, KeyError):
        raise ValueError(f"rate {text!r} is not like '5/hour', '120/minute' or '10/30s'") from None
    return Rate(count, seconds)


def rate_setting(name: str) -> Rate:
    """The rate named by a setting of XINYE_RATES (see settings.py)."""
    return parse_rate(settings.XINYE_RATES[name])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: int, message: str = ""):
        super().__init__(message or scope)
        self.scope = scope
        self.retry_after = max(1, int(retry_after))
        self.message = message


def _key(scope: str, ident: str, window: int) -> str:
    if len(ident) > 100:
        ident = hashlib.sha256(ident.encode()).hexdigest()
    return f"rl:{scope}:{ident}:{window}"


def _window(rate: Rate, now: float) -> tuple[int, float]:
    window = int(now // rate.seconds)
    return window, (window + 1) * rate.seconds


def _use_cache() -> bool:
    return getattr(settings, "XINYE_RATELIMIT_STORE", "database") == "cache"


def _db_incr(key: str, expires: float) -> int:
    """One atomic statement: insert the window's row with 1, or add 1 to it, and read the count back
    (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, PostgreSQL and SQLite >= 3.35). The row is locked by
    the statement, so the count returned is this request's own, never a later one."""
    from django.db import connection

    from .models import RateCounter

    table = connection.ops.quote_name(RateCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({connection.ops.quote_name('key')}, count, expires_at) VALUES (%s, 1, %s) "
        f"ON CONFLICT ({connection.ops.quote_name('key')}) DO UPDATE SET count = {table}.count + 1 RETURNING count"
    )
    when = connection.ops.adapt_datetimefield_value(dt.datetime.fromtimestamp(expires, tz=dt.UTC))
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, when])
        count = int(cursor.fetchone()[0])
    if count == 1 and not connection.in_atomic_block:
        # once per key and window, outside any caller's transaction: forget the windows that are over
        RateCounter.objects.filter(expires_at__lt=timezone.now() - dt.timedelta(minutes=1)).delete()
    return count


def _db_peek(key: str) -> int:
    from .models import RateCounter

    return RateCounter.objects.filter(key=key).values_list("count", flat=True).first() or 0


def _cache_incr(key: str, ttl: int) -> int:
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


def hit(scope: str, ident: str, rate: Rate | str, *, now: float | None = None) -> Decision:
    """Count one request of `ident` (an address, a user) against `rate` in `scope`; atomically."""
    rate = parse_rate(rate)
    now = clock() if now is None else now
    window, end = _window(rate, now)
    key = _key(scope, ident, window)
    ttl = max(1, math.ceil(end - now)) + 1
    count = _cache_incr(key, ttl) if _use_cache() else _db_incr(key, end)
    return Decision(count <= rate.count, count, rate.count, max(1, math.ceil(end - now)))


def peek(scope: str, ident: str, rate: Rate | str, *, now: float | None = None) -> Decision:
    """The count so far in this window, without counting; allowed while it is below the limit."""
    rate = parse_rate(rate)
    now = clock() if now is None else now
    window, end = _window(rate, now)
    key = _key(scope, ident, window)
    count = int(cache.get(key, 0) or 0) if _use_cache() else _db_peek(key)
    return Decision(count < rate.count, count, rate.count, max(1, math.ceil(end - now)))


def give_back(scope: str, ident: str, rate: Rate | str) -> None:
    """Undo one hit() of this window (a request that turned out not to count, e.g. a right tracking code)."""
    rate = parse_rate(rate)
    window, _end = _window(rate, clock())
    key = _key(scope, ident, window)
    if _use_cache():
        try:
            if int(cache.get(key, 0) or 0) > 0:
                cache.decr(key)
        except ValueError:
            pass
    else:
        from .models import RateCounter

        RateCounter.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


def reset(*, database: bool = True) -> None:
    """Forget every count (tests; an operator lifting a block)."""
    from .models import RateCounter

    if database:
        RateCounter.objects.all().delete()
    if _use_cache():
        if hasattr(cache, "delete_pattern"):  # django-redis
            cache.delete_pattern("rl:*")
        else:
            cache.clear()


def ensure(scope: str, ident: str, rate: Rate | str, message: str = "") -> Decision:
    """hit(), raising RateLimited when over the limit."""
    decision = hit(scope, ident, rate)
    if not decision.allowed:
        raise RateLimited(scope, decision.retry_after, message)
    return decision


# ---------------------------------------------------------------- views, DRF, middleware


def limit(scope: str, *, rate: str, methods: tuple[str, ...] = ("GET", "POST", "HEAD"), anonymous_only=False):
    """Decorator: count every request (of `methods`) by the client's address against XINYE_RATES[rate]."""

    def deco(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            user = getattr(request, "user", None)
            if request.method in methods and not (anonymous_only and user is not None and user.is_authenticated):
                ensure(scope, client_key(request), rate_setting(rate))
            return view(request, *args, **kwargs)

        wrapped.xinye_rate_limit = scope
        return wrapped

    return deco


def own_limit(view):
    """Mark a view that limits its anonymous callers itself (the middleware's general budget skips it)."""
    view.xinye_own_limit = True
    return view


class AnonThrottle(BaseThrottle):
    """DRF throttle for callers without login, by `client_key`, in the shared store (XINYE_RATES["api"])."""

    scope = "api_anon"
    rate_name = "api"

    def get_ident(self, request):
        return client_key(request)

    def allow_request(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True
        decision = hit(self.scope, self.get_ident(request), rate_setting(self.rate_name))
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self):
        return getattr(self, "_wait", None)


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/open311/")) or "json" in request.META.get("HTTP_ACCEPT", "")


def too_many(request, retry_after: int, message: str = "") -> HttpResponse:
    """The 429 answer: a page (or JSON for API callers) in the user's language, with Retry-After."""
    minutes = max(1, math.ceil(retry_after / 60))
    text = message or _("Too many requests from your network. Please wait %(minutes)s min and try again.") % {
        "minutes": minutes
    }
    if _wants_json(request):
        body = json.dumps({"detail": text, "retry_after": retry_after}, ensure_ascii=False)
        response = HttpResponse(body, status=429, content_type="application/json")
    else:
        html = render_to_string("common/429.html", {"message": text, "retry_after": retry_after}, request=request)
        response = HttpResponse(html, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    """A general budget per address for every anonymous request (XINYE_RATES["anon"]), and the 429 answer
    for RateLimited raised anywhere in a view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or getattr(view_func, "xinye_own_limit", False):
            return None
        decision = hit("anon", client_key(request), rate_setting("anon"))
        if not decision.allowed:
            return too_many(request, decision.retry_after)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, RateLimited):
            return too_many(request, exception.retry_after, exception.message)
        return None
