"""Limits that hold (issue 10, item 6): one limiter (common/ratelimit.py) for every anonymous page and
endpoint, counting by the client address seen through trusted proxies only, in a shared store with atomic
increments; idempotent demand forms.

The concurrency tests are transactional (each thread has its own database connection); they make their own
data, like tests/test_demands_pg.py.
"""

from __future__ import annotations

import re
import threading
import uuid

import pytest
from django.db import connections
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from xinye.common import ratelimit
from xinye.common.models import RateCounter
from xinye.demands.models import Category, Demand

TRACKING = "/demands/track/"
#: 2100-01-01 12:30:30 UTC: the middle of its minute, hour and day, so that no window ends during a test
MID_WINDOW = 4102444800 + 12 * 3600 + 30 * 60 + 30


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch, settings):
    monkeypatch.setattr(ratelimit, "clock", lambda: float(MID_WINDOW))
    if settings.XINYE_RATELIMIT_STORE == "cache":  # Redis counts are not rolled back with the test
        ratelimit.reset(database=False)


def _rates(settings, **over):
    settings.XINYE_RATES = {**settings.XINYE_RATES, **over}


# ---------------------------------------------------------------- the client's address


def _request(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_client_is_remote_addr_whatever_x_forwarded_for_says(settings):
    settings.XINYE_TRUSTED_PROXIES = []
    assert ratelimit.client_ip(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_behind_trusted_proxies_the_client_is_the_right_most_untrusted_entry(settings):
    settings.XINYE_TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    # the client wrote "6.6.6.6" itself; the proxies appended 198.51.100.7 and 192.0.2.1
    assert ratelimit.client_ip(_request("10.1.2.3", "6.6.6.6, 198.51.100.7, 192.0.2.1")) == "198.51.100.7"
    assert ratelimit.client_ip(_request("10.1.2.3", "")) == "10.1.2.3"  # a request from the proxy itself
    assert ratelimit.client_ip(_request("10.1.2.3", "not-an-address, 10.9.9.9")) == "10.9.9.9"
    # an untrusted peer cannot choose its address by sending the header
    assert ratelimit.client_ip(_request("198.51.100.8", "10.0.0.1")) == "198.51.100.8"


def test_ipv6_clients_are_counted_by_their_64_network(settings):
    settings.XINYE_TRUSTED_PROXIES = []
    a = ratelimit.client_key(_request("2001:db8:1:2::1"))
    assert a == ratelimit.client_key(_request("2001:db8:1:2:ffff::9")) == "2001:db8:1:2::/64"
    assert ratelimit.client_key(_request("::ffff:198.51.100.1")) == "198.51.100.1"


def test_axes_counts_login_failures_by_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    settings.XINYE_TRUSTED_PROXIES = []
    assert get_client_ip_address(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    settings.XINYE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert get_client_ip_address(_request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_rates_are_parsed_or_refused_with_the_value_named():
    assert ratelimit.parse_rate("5/hour") == ratelimit.Rate(5, 3600)
    assert ratelimit.parse_rate("10/30s") == ratelimit.Rate(10, 30)
    with pytest.raises(ValueError, match="'5 per hour'"):
        ratelimit.parse_rate("5 per hour")


# ---------------------------------------------------------------- spoofing, finder, every anonymous page


@pytest.mark.django_db
def test_random_x_forwarded_for_values_do_not_bypass_the_api_limit(client, settings):
    # given the default of no trusted proxy and DRF's anonymous rate (120/minute)
    settings.XINYE_TRUSTED_PROXIES = []
    statuses = [
        client.get(
            "/api/stations/nearest/", {"lat": "22.54", "lon": "114.05"}, HTTP_X_FORWARDED_FOR=f"10.0.{i}.1"
        ).status_code
        for i in range(125)
    ]
    assert statuses[:120] == [200] * 120 and set(statuses[120:]) == {429}


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(client, settings):
    settings.XINYE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    _rates(settings, finder="2/minute")
    behind = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(2):
        assert client.get("/stations/finder/", HTTP_X_FORWARDED_FOR="198.51.100.1", **behind).status_code == 200
    assert client.get("/stations/finder/", HTTP_X_FORWARDED_FOR="198.51.100.1", **behind).status_code == 429
    # the client cannot escape by writing another address to the left of the proxy's entry
    spoof = "203.0.113.5, 198.51.100.1"
    assert client.get("/stations/finder/", HTTP_X_FORWARDED_FOR=spoof, **behind).status_code == 429
    assert client.get("/stations/finder/", HTTP_X_FORWARDED_FOR="198.51.100.2", **behind).status_code == 200


@pytest.mark.django_db
def test_the_finder_is_limited_with_a_clear_bilingual_429(client, settings):
    _rates(settings, finder="3/minute")
    for _ in range(3):
        assert client.get("/stations/finder/").status_code == 200
    zh = client.get("/stations/finder/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 429 and int(zh["Retry-After"]) == 30
    assert "请求过于频繁" in zh.content.decode()
    en = client.get("/stations/finder/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 429 and "Too many requests" in en.content.decode()
    api = client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="en")  # Open311 has its own budget
    assert api.status_code == 200


def _sample(pattern) -> str:
    """A concrete path for one URL pattern (route or regex)."""
    text = str(pattern)
    text = re.sub(r"<int:\w+>", "1", text)
    text = re.sub(r"<(?:str|slug|path):\w+>", "4403", text)

    def group(m):
        body = m.group(2)
        if re.fullmatch(r"[\w.\\|-]+", body) and "|" in body:
            return body.split("|")[0].replace("\\", "")
        if body in (r"\d+", "[0-9]+"):
            return "1"
        if m.group(1) in ("fmt", "format"):
            return "json"
        return "x1"

    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))+)\)", group, text)
    return text.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")


def _urls(patterns, prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if getattr(p, "namespace", None) == "admin":
                yield "/" + prefix + "admin/login/"  # Django's admin: its login page is the anonymous part
                continue
            yield from _urls(p.url_patterns, prefix + _sample(p.pattern))
        elif isinstance(p, URLPattern):
            yield "/" + prefix + _sample(p.pattern)


@pytest.mark.django_db
def test_every_url_in_the_urlconf_is_limited_for_anonymous_callers(settings):
    # given a budget of one request for every limit, each URL asked twice by a fresh address
    _rates(settings, **dict.fromkeys(settings.XINYE_RATES, "1/minute"))
    settings.XINYE_OPEN311_ANON_RATE = "1/minute"
    urls = sorted(set(_urls(get_resolver().url_patterns)))
    checked, unlimited = [], []
    for i, url in enumerate(urls):
        try:
            resolve(url)
        except Resolver404:
            continue
        client = Client(REMOTE_ADDR=f"198.18.{i // 250}.{i % 250 + 1}")
        client.get(url)
        second = client.get(url)
        checked.append(url)
        if second.status_code != 429:
            unlimited.append((url, second.status_code))
    assert unlimited == []
    for must in ("/report/", "/demands/new/", "/demands/track/", "/stations/finder/", "/api/stations/nearest/"):
        assert must in checked
    assert "/accounts/login/" in checked and "/open311/v2/requests.json" in checked and len(checked) > 60


# ---------------------------------------------------------------- tracking codes


@pytest.mark.django_db
def test_wrong_tracking_codes_are_limited_per_address_and_never_block_a_right_one(settings):
    from xinye.demands import services

    settings.XINYE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    _rates(settings, track_miss="3/hour")
    category = Category.objects.get(code="pay")
    mine = services.demand_submit(category=category, description="mine")
    theirs = services.demand_submit(category=category, description="theirs")
    guesser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert _track(guesser, mine.tracking_code).status_code == 302  # opened once: remembered
    for i in range(3):
        assert _track(guesser, f"WRONG{i:05d}").status_code == 404
    over = _track(guesser, "WRONG99999")
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert _track(guesser, theirs.tracking_code).status_code == 429  # a guess, for all we know
    assert _track(guesser, mine.tracking_code).status_code == 302  # this browser's own code
    # a worker behind the same proxy is not affected by the guesser
    worker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert _track(worker, theirs.tracking_code).status_code == 302
    # right codes are not counted as guesses
    for _ in range(5):
        assert _track(worker, theirs.tracking_code).status_code == 302
    assert _track(worker, "WRONG00000").status_code == 404


def _track(client, code: str):
    """Open a demand with its tracking code: posted in the form, never in the address."""
    return client.post(TRACKING, {"code": code})


# ---------------------------------------------------------------- concurrency, idempotency, persistence


def _concurrently(n: int, act) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = act(i)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _category():
    category, _ = Category.objects.get_or_create(
        code="pay", defaults={"name_en": "Pay", "name_zh": "劳动报酬", "due_days": 3}
    )
    return category


def _post(key: str):
    return Client(REMOTE_ADDR="198.51.100.20").post(
        "/demands/new/", {"submit": "1", "category": "pay", "description": "三个月的奖励没有发", "idem": key}
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_pass_at_most_the_limit_and_the_count_survives_a_restart(settings):
    _category()
    before = Demand.objects.count()
    limit = ratelimit.rate_setting("demand_anon").count
    assert limit == 5
    statuses = [
        r.status_code if not isinstance(r, Exception) else r
        for r in _concurrently(20, lambda i: _post(uuid.uuid4().hex))
    ]
    assert sorted(statuses) == [302] * limit + [429] * (20 - limit)
    assert Demand.objects.count() == before + limit
    # a "restart": a new connection in another thread still sees the count and refuses a sixth demand
    seen = _concurrently(
        1, lambda i: ratelimit.peek("demand_anon", "198.51.100.20", ratelimit.rate_setting("demand_anon"))
    )
    assert not seen[0].allowed
    if settings.XINYE_RATELIMIT_STORE == "database":  # refused demands roll their count back with them
        assert seen[0].count == limit
        assert RateCounter.objects.filter(key__contains="demand_anon").get().count == limit
    assert _concurrently(1, lambda i: _post(uuid.uuid4().hex).status_code) == [429]


@pytest.mark.django_db(transaction=True)
def test_twenty_identical_simultaneous_posts_make_one_demand_and_all_point_to_it():
    _category()
    key = uuid.uuid4().hex
    before = set(Demand.objects.values_list("pk", flat=True))
    responses = _concurrently(20, lambda i: _post(key))
    assert all(not isinstance(r, Exception) for r in responses), responses
    (d,) = Demand.objects.exclude(pk__in=before)
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, "/demands/tracked/")}
    assert ratelimit.peek("demand_anon", "198.51.100.20", ratelimit.rate_setting("demand_anon")).count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_of_one_counter_are_never_lost():
    rate = ratelimit.Rate(7, 3600)
    decisions = _concurrently(20, lambda i: ratelimit.hit("t", "x", rate))
    assert sorted(d.count for d in decisions) == list(range(1, 21))
    assert sum(d.allowed for d in decisions) == 7


@pytest.mark.django_db
def test_open311_posts_with_one_idempotency_key_make_one_demand(client):
    from tests.test_open311 import make_key

    key = make_key("admin")
    data = {"api_key": key, "service_code": "pay", "description": "工资被扣", "lat": "22.54", "long": "114.05"}
    first = client.post("/open311/v2/requests.json", data, HTTP_IDEMPOTENCY_KEY="retry-1")
    again = client.post("/open311/v2/requests.json", data, HTTP_IDEMPOTENCY_KEY="retry-1")
    other = client.post("/open311/v2/requests.json", data, HTTP_IDEMPOTENCY_KEY="retry-2")
    assert first.status_code == again.status_code == other.status_code == 200, first.content
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]


@pytest.mark.django_db
def test_a_form_resubmitted_with_its_key_makes_one_demand(client):
    page = client.get("/demands/new/")
    key = re.search(r'name="idem" value="([0-9a-f]{32})"', page.content.decode()).group(1)
    before = Demand.objects.count()
    data = {"submit": "1", "category": "pay", "description": "同一张表单", "idem": key}
    first, second = client.post("/demands/new/", data), client.post("/demands/new/", data)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Demand.objects.count() == before + 1


@pytest.mark.django_db
def test_a_community_report_resubmitted_with_its_key_makes_one_report(client):
    from xinye.people.models import CommunityReport
    from xinye.places.models import Division, Level

    place = Division.objects.filter(level=Level.COMMUNITY).order_by("code").first()
    key = re.search(
        r'name="idem" value="([0-9a-f]{32})"', client.get("/report/", {"street": place.parent.code}).content.decode()
    ).group(1)
    data = {
        "submit": "1",
        "street": place.parent.code,
        "community": place.code,
        "name": "王小明",
        "phone": "13912345678",
        "occupation": "delivery_rider",
        "consent": "1",
        "idem": key,
    }
    before = CommunityReport.objects.count()
    first, second = client.post("/report/", data), client.post("/report/", data)
    assert first.status_code == second.status_code == 200
    assert CommunityReport.objects.count() == before + 1


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_sends_of_one_form_key_make_one_object():
    from xinye.common import idempotency
    from xinye.common.models import Job

    key = idempotency.new_key()
    results = _concurrently(
        20,
        lambda i: idempotency.once("t", key, lambda: Job.objects.create(kind="t"), lambda pk: Job.objects.get(pk=pk)),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert Job.objects.filter(kind="t").count() == 1
    assert {r[0].pk for r in results} == {Job.objects.get(kind="t").pk}
    assert sorted(r[1] for r in results) == [False] + [True] * 19


# ---------------------------------------------------------------- Redis


@pytest.fixture
def redis_store(settings):
    url = "redis://127.0.0.1:6379/4"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:  # noqa: BLE001
        pytest.skip("Redis is not reachable at " + url)
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url}}
    settings.XINYE_RATELIMIT_STORE = "cache"
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_redis_counts_atomically_and_keeps_counts_over_a_restart(redis_store):
    from django.core.cache import caches

    rate = ratelimit.Rate(7, 3600)
    decisions = _concurrently(20, lambda i: ratelimit.hit("t", "x", rate))
    assert sorted(d.count for d in decisions) == list(range(1, 21)) and sum(d.allowed for d in decisions) == 7
    caches.close_all()  # a new client, as after a restart
    assert ratelimit.peek("t", "x", rate).count == 20
    assert not RateCounter.objects.exists()  # nothing went to the database


@pytest.mark.django_db
def test_counts_skip_the_write_ahead_log_on_postgresql():
    """A count costs no WAL flush on PostgreSQL (migration common 0006): the table is UNLOGGED."""
    from django.db import connection

    from xinye.common.models import RateCounter

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no unlogged tables")
    with connection.cursor() as c:
        c.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [RateCounter._meta.db_table])
        assert c.fetchone()[0] == "u"
