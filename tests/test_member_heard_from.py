"""Any contact a member logs, demand they enter or report they make moves their last contact up, so a "lost
contact" flag clears when contact resumes (issue 12, item 6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from xinye.accounts.scope import scope_for
from xinye.algorithms.membership import MemberDates, membership_flags
from xinye.demands import liaison
from xinye.demands.models import Category, LiaisonPair
from xinye.demands.services import demand_submit
from xinye.people.models import Membership
from xinye.people.services import member_heard_from

pytestmark = pytest.mark.django_db


def _flags(m: Membership) -> set[str]:
    m.refresh_from_db()
    dates = MemberDates(str(m.pk), m.floating, m.since, m.last_contact_on, m.certificate_until)
    return {f.code for f in membership_flags(dates, today=timezone.localdate())}


def _lost(person_id: int) -> Membership:
    m = Membership.objects.filter(person_id=person_id, until__isnull=True).first()
    m.last_contact_on = timezone.localdate() - timedelta(days=400)
    m.save()
    assert "lost_contact" in _flags(m) or "removal_review" in _flags(m)
    return m


def test_a_logged_contact_clears_lost_contact(demo):
    user = get_user_model().objects.get(username="member")
    scope = scope_for(user)
    m = _lost(scope.person_id)
    pair = LiaisonPair.objects.filter(member_id=scope.person_id, until__isnull=True).first()
    assert pair is not None, "the demo member keeps in touch with workers"
    liaison.contact_record(scope=scope, worker_id=pair.worker_id, on=timezone.localdate(), channel="phone", user=user)
    assert not _flags(m) & {"lost_contact", "removal_review"}
    assert m.last_contact_on == timezone.localdate()


def test_a_demand_entered_by_a_member_counts_and_nothing_moves_back(demo):
    user = get_user_model().objects.get(username="member")
    m = _lost(user.person.pk)
    demand_submit(category=Category.objects.filter(active=True).first(), description="路口缺少充电桩", entered_by=user)
    m.refresh_from_db()
    assert m.last_contact_on == timezone.localdate()
    assert member_heard_from(user.person.pk, date(2000, 1, 1)) == 0  # never backwards
    m.refresh_from_db()
    assert m.last_contact_on == timezone.localdate()
