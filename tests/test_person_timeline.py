"""One page per person (issue 12, item 4): a timeline of memberships, posts, reports, liaison, contacts and
demands, each entry only when the viewer may see it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from xinye.accounts.scope import scope_for
from xinye.demands.models import Category, Demand, LiaisonPair
from xinye.demands.services import demand_submit
from xinye.people.timeline import person_timeline

pytestmark = pytest.mark.django_db


def _worker_with_liaison():
    pair = LiaisonPair.objects.filter(until__isnull=True).select_related("worker", "member").first()
    return pair.worker, pair.member


def test_organizer_sees_liaison_contacts_and_demands_in_time_order(login, demo):
    worker, member = _worker_with_liaison()
    d = demand_submit(category=Category.objects.filter(active=True).first(), description="需要休息点", person=worker)
    scope = scope_for(get_user_model().objects.get(username="admin"))
    entries = person_timeline(scope, worker)
    kinds = [e.kind for e in entries]
    assert "liaison" in kinds and "demand" in kinds
    assert [e.on for e in entries] == sorted((e.on for e in entries), reverse=True)
    page = login("admin").get(f"/people/{worker.pk}/").content.decode()
    assert "data-timeline" in page and d.reference in page and member.name in page


def test_hidden_and_anonymous_demands_are_not_attributed(demo):
    worker, _member = _worker_with_liaison()
    cat = Category.objects.filter(active=True).first()
    hidden = demand_submit(category=cat, description="不想让平台知道", person=worker, hide_from_platform=True)
    staff = scope_for(get_user_model().objects.get(username="staff"))
    refs = {e.text.split(" · ")[0] for e in person_timeline(staff, worker) if e.kind == "demand"}
    assert hidden.reference not in refs
    anonymous = demand_submit(category=cat, description="匿名", person=worker, anonymous=True)
    admin = scope_for(get_user_model().objects.get(username="admin"))
    refs = {e.text.split(" · ")[0] for e in person_timeline(admin, worker) if e.kind == "demand"}
    assert Demand.objects.get(pk=anonymous.pk).person_id is None and anonymous.reference not in refs


def test_party_status_hidden_means_no_membership_entries(demo):
    from xinye.accounts import policy
    from xinye.people.models import Membership

    m = Membership.objects.filter(until__isnull=True).select_related("person").first()
    operator = scope_for(get_user_model().objects.get(username="operator"))
    assert policy.party_status_for(operator, m.person) is None
    kinds = {e.kind for e in person_timeline(operator, m.person)}
    assert not kinds & {"joined", "left", "transfer", "post", "post_end"}
