"""History on domain models; the tree as of a past date. Issue #2."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from xinye.accounts.scope import scope_for
from xinye.organizations import services
from xinye.organizations.models import Organization, OrgKind
from xinye.organizations.selectors import organization_tree

pytestmark = pytest.mark.django_db


def _flatten(nodes):
    for n in nodes:
        yield n["org"]
        yield from _flatten(n["children"])


def test_renaming_and_moving_an_organization_is_recorded_and_the_past_tree_can_be_shown():
    branch = Organization.objects.filter(kind=OrgKind.BRANCH, parent__isnull=False).first()
    old_name, old_parent = branch.name, branch.parent_id
    new_parent = Organization.objects.filter(kind=OrgKind.COMMITTEE).exclude(pk=old_parent).first()
    # Pretend the existing rows were recorded yesterday, then change the branch today.
    yesterday = timezone.now() - timedelta(days=1)
    Organization.history.update(history_date=yesterday)
    services.organization_update(
        organization=branch, name="中共新名称支部", parent=new_parent, reason="business reorganized"
    )
    branch.refresh_from_db()
    assert branch.name == "中共新名称支部" and branch.parent_id == new_parent.pk
    assert branch.history.first().history_change_reason == "business reorganized"

    admin = scope_for(get_user_model().objects.get(username="admin"))
    past = {o.pk: o for o in _flatten(organization_tree(scope=admin, as_of=yesterday.date()))}
    now = {o.pk: o for o in _flatten(organization_tree(scope=admin))}
    assert past[branch.pk].name == old_name and past[branch.pk].parent_id == old_parent
    assert now[branch.pk].name == "中共新名称支部" and now[branch.pk].parent_id == new_parent.pk


def test_business_unit_membership_of_an_organization_is_historised():
    org = Organization.objects.filter(business_units__isnull=False).first()
    units_before = set(org.business_units.values_list("pk", flat=True))
    services.organization_update(organization=org, business_units=[], reason="units dissolved")
    assert not org.business_units.exists()
    previous = org.history.all()[1]
    assert {u.businessunit_id for u in previous.business_units.all()} == units_before


def test_a_cycle_in_the_tree_is_refused():
    committee = Organization.objects.filter(kind=OrgKind.COMMITTEE, children__isnull=False).first()
    child = committee.children.first()
    with pytest.raises(services.OrganizationError, match="descendant"):
        services.organization_update(organization=committee, parent=child)
