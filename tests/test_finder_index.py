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
