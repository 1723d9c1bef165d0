"""Two people change one demand at the same moment, on PostgreSQL: one wins, the other is told, and nothing
is lost. Issue #6, item 7. (Skipped on SQLite, which serializes writers anyway.)

A transactional test: it runs after the others (pytest-django orders them so) and makes its own data.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from xinye.demands import services
from xinye.demands.models import Category, Demand, DemandEvent, DemandStatus


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_one_wins_the_other_is_told():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    category, _ = Category.objects.get_or_create(
        code="pay", defaults={"name_en": "Pay", "name_zh": "劳动报酬", "due_days": 3}
    )
    for round_ in range(5):
        d = services.demand_submit(category=category, description=f"round {round_}")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def act(to: str, note: str, pk=d.pk, barrier=barrier, outcomes=outcomes) -> None:
            try:
                seen = Demand.objects.get(pk=pk)  # both people opened the demand at version 1
                barrier.wait()
                services.demand_transition(seen, to=to, version=seen.version, note=note)
                outcomes.append("won")
            except services.StaleDemand:
                outcomes.append("told")
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=act, args=(DemandStatus.ACCEPTED, "受理")),
            threading.Thread(target=act, args=(DemandStatus.REJECTED, "不予受理")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["told", "won"]
        d.refresh_from_db()
        events = list(DemandEvent.objects.filter(demand=d, kind="status"))
        assert len(events) == 1 and events[0].to_status == d.status and d.version == 2
    assert Demand.objects.count() == 5 and dt.datetime.now(dt.UTC)
