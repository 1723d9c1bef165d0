"""The demand workflow as a state machine (property-based): whatever sequence of actions people take, no
event is lost, every change is recorded once, the version counts the changes, and the status is always one
of the defined ones, reached only along the table. Issue #6, item 7."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from xinye.demands import services
from xinye.demands.models import Category, Demand, DemandStatus

STATUSES = [s for s, _ in DemandStatus.choices]
T0 = dt.datetime(2026, 5, 4, 2, 0, tzinfo=dt.UTC)


class Workflow(RuleBasedStateMachine):
    @initialize()
    def submit(self):
        self.now = T0
        self.demand = services.demand_submit(
            category=Category.objects.get(code="working_environment"), description="夏天没有地方喝水", now=self.now
        )
        self.events = self.demand.events.count()  # submitted (+ routed when a handler was found)
        self.version = 1
        self.path = [DemandStatus.SUBMITTED]

    def _reload(self) -> Demand:
        self.demand = Demand.objects.get(pk=self.demand.pk)
        return self.demand

    @rule(to=st.sampled_from(STATUSES), submitter=st.booleans(), stale=st.booleans())
    def change(self, to, submitter, stale):
        d = self._reload()
        legal = to in services.allowed(d, submitter=submitter)
        try:
            services.demand_transition(
                d, to=to, version=d.version - 1 if stale else d.version, note="理由", submitter=submitter, now=self.now
            )
        except services.StaleDemand:
            assert stale and legal
        except services.DemandError:
            assert not legal
        else:
            assert legal and not stale
            self.events += 1
            self.version += 1
            self.path.append(to)

    @rule(days=st.integers(0, 10))
    def time_passes_and_escalation_runs(self, days):
        self.now += dt.timedelta(days=days)
        d = self._reload()
        late = d.is_open and d.due_at < self.now
        services.demands_escalate(now=self.now)
        if late:
            self.events += 1
            self.version += 1

    @rule()
    def merge_with_a_similar_one(self):
        d = self._reload()
        other = services.demand_submit(category=d.category, description="同上", now=self.now)
        try:
            services.demand_merge([d, other], into=other, actor=None, now=self.now)
        except services.DemandError:
            assert d.status not in services.MERGEABLE
        else:
            self.events += 1
            self.version += 1
            self.path.append(DemandStatus.DUPLICATE)

    @rule(rating=st.integers(0, 6))
    def submitter_rates(self, rating):
        d = self._reload()
        try:
            services.demand_rate(d, rating=rating, now=self.now)
        except services.DemandError:
            assert d.rating is not None or d.status not in ("resolved", "closed") or not 1 <= rating <= 5
        else:
            self.events += 1

    @rule()
    def a_note(self):
        services.demand_note(self._reload(), actor=None, note="电话回访")
        self.events += 1

    @invariant()
    def nothing_is_lost_and_the_state_is_defined(self):
        d = self._reload()
        assert d.status in STATUSES
        assert d.events.count() == self.events
        assert d.version == self.version
        assert d.status == self.path[-1]
        changes = [e.to_status for e in d.events.all() if e.kind in ("status", "merged") and e.to_status]
        assert [DemandStatus.SUBMITTED, *changes] == self.path
        for a, b in zip(self.path, self.path[1:], strict=False):
            assert b in services.TRANSITIONS[a] or b == DemandStatus.DUPLICATE or b in services.SUBMITTER_MAY.get(a, ())


@pytest.mark.django_db
def test_no_sequence_of_actions_loses_an_event_or_reaches_an_undefined_state():
    Workflow.TestCase.settings = settings(
        max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
    )
    Workflow.TestCase().runTest()
