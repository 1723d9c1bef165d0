"""The finder's hot path (issue 11, "What must be true" 5): no work per request that does not depend on it (no
aggregate over the stations), and the index is rebuilt when a station changes, in this process at once and in
every other process through a version in the shared cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinye.stations import selectors
from xinye.stations.models import Station, StationStatus

pytestmark = pytest.mark.django_db
SHENZHEN = (22.543, 114.058)


def _nearest():
    return [r["station"].pk for r in selectors.station_nearest(lat=SHENZHEN[0], lon=SHENZHEN[1], limit=3)]


def test_a_repeated_request_asks_the_database_nothing(django_capture_on_commit_callbacks):
    first = _nearest()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            assert _nearest() == first
    assert len(queries) == 0


def test_a_change_here_shows_at_once_and_elsewhere_through_the_shared_version(django_capture_on_commit_callbacks):
    first = _nearest()
    nearest = Station.objects.get(pk=first[0])
    with django_capture_on_commit_callbacks(execute=True):
        version = cache.get(selectors.VERSION_KEY)
        nearest.status = StationStatus.CLOSED
        nearest.save()
    assert first[0] not in _nearest()  # this process: at once
    assert cache.get(selectors.VERSION_KEY) != version  # the others: through the cache
    # another process changed a station (no signal reaches this one): seen at the next check of the version
    Station.objects.filter(pk=nearest.pk).update(status=StationStatus.OPEN)
    assert first[0] not in _nearest()  # not yet: the version did not change
    cache.set(selectors.VERSION_KEY, "changed-by-another-process", None)
    selectors._INDEX["checked"] = -1e9  # as if CHECK_EVERY seconds had passed
    assert _nearest()[0] == first[0]


def test_an_emptied_cache_rebuilds_once():
    _nearest()
    cache.delete(selectors.VERSION_KEY)
    selectors._INDEX["checked"] = -1e9
    _nearest()
    assert cache.get(selectors.VERSION_KEY) == selectors._INDEX["key"]


def test_the_answer_is_what_the_documented_serializer_gives():
    """The API builds its answer directly (the serializer's field copies cost more than the search): field for
    field it is what NearestStationSerializer, the schema's source, makes of the same stations."""
    from django.conf import settings

    from xinye.stations import navigation
    from xinye.stations.api import NearestStationSerializer, nearest_item

    found = selectors.station_nearest(lat=SHENZHEN[0], lon=SHENZHEN[1], limit=5, amenities=[], open_now=False)
    assert found
    direct = [nearest_item(r, SHENZHEN) for r in found]
    for r in found:
        r["routes"] = dict(
            navigation.station_directions(
                r["station"],
                origin=SHENZHEN,
                source=settings.XINYE_MAP_APP_SOURCE,
                tencent_key=settings.XINYE_TENCENT_MAP_KEY,
            )["routes"]
        )
    assert direct == NearestStationSerializer(found, many=True).data


def test_the_finder_counts_one_limit_per_request(client, settings):
    """The endpoint's own throttle is its limit; the general anonymous budget does not count it a second time."""
    from xinye.common.models import RateCounter
    from xinye.common.ratelimit import reset

    reset()
    settings.XINYE_RATELIMIT_STORE = "database"
    for _ in range(3):
        assert client.get("/api/stations/nearest", {"lat": SHENZHEN[0], "lon": SHENZHEN[1]}).status_code == 200
    rows = list(RateCounter.objects.values_list("key", "count"))
    assert [c for _k, c in rows] == [3], rows


@pytest.mark.parametrize(
    "query",
    [
        "lat=22.5&lon=114.05",
        "lat=22.5&lon=114.05&amenity=toilet&amenity=water&open_now=true&limit=7",
        "lat=-90&lon=180&open_now=0&limit=50",
        "lat=22.5&lon=114.05&open_now=1&limit=1&unknown=x",
        " lat=22.5&lon=1e2",
        "lat=22.5&lon=114.05&open_now=yes",  # read by the serializer
        "lat=91&lon=114",
        "lat=nan&lon=114",
        "lat=22.5&lon=114&limit=0",
        "lat=22.5&lon=114&limit=51",
        "lat=22.5&lon=114&limit=٣",
        "lat=22.5&lon=114&amenity=pool",
        "lat=22.5&lat=23&lon=114",
        "lat=22.5",
        "",
    ],
)
def test_the_plain_reading_of_a_query_agrees_with_the_serializer(query):
    """The finder reads a common query without a serializer; wherever it does, it reads what NearestQuery reads,
    and whatever it does not read goes to NearestQuery (which words the error)."""
    from django.http import QueryDict
    from rest_framework.exceptions import ValidationError

    from xinye.stations.api import NearestQuery, _plain_query

    qp = QueryDict(query.strip())
    plain = _plain_query(qp)
    data = {k: (qp.getlist(k) if k == "amenity" else qp.get(k)) for k in qp if k in NearestQuery().fields}
    s = NearestQuery(data=data)
    try:
        s.is_valid(raise_exception=True)
        expected = dict(s.validated_data)
    except ValidationError:
        expected = None
    if plain is not None:
        assert len(set(qp.getlist("lat"))) == 1 and plain == expected
