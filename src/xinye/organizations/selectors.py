"""Reads of organizations and companies, scoped to the acting user.

- administrators: everything;
- organizers: organizations located in their division subtree; companies registered there;
- organization staff and secretaries: their organization subtree, and its companies;
- members: their own branch.
"""

from __future__ import annotations

from datetime import date

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value

from xinye.accounts.scope import Scope
from xinye.places.selectors import division_q

from .models import Company, Organization


def organization_q(scope: Scope) -> Q:
    if scope.is_admin:
        return Q()
    q = division_q(scope, "division") | Q(pk__in=scope.org_ids) | Q(pk__in=scope.member_org_ids)
    return q


def member_count_in_scope_q(scope: Scope) -> Q | None:
    """Organizations whose members the scope may count one by one (None: all): administrators all; organizers
    those located in their divisions; staff and secretaries their subtree. A member looking at their own
    branch is outside: its member count is suppressed below 5 (xinye.common.disclosure)."""
    if scope.is_admin:
        return None
    return division_q(scope, "division") | Q(pk__in=scope.org_ids)


def organization_list(*, scope: Scope, search: str = "", kind: str = "") -> QuerySet[Organization]:
    """Visible organizations with `member_count` (current members) and `counts_in_scope` (whether that
    count may be shown as it is, see `member_count_in_scope_q`)."""
    qs = Organization.objects.filter(organization_q(scope)).filter(dissolved_on__isnull=True)
    if search:
        qs = qs.filter(name__contains=search)
    if kind:
        qs = qs.filter(kind=kind)
    in_scope = member_count_in_scope_q(scope)
    return qs.select_related("company", "division", "parent").annotate(
        member_count=Count("memberships", filter=Q(memberships__until__isnull=True)),
        counts_in_scope=Value(True) if in_scope is None else ExpressionWrapper(in_scope, output_field=BooleanField()),
    )


def organization_get(*, scope: Scope, pk: int) -> Organization:
    return (
        Organization.objects.filter(organization_q(scope))
        .select_related("company", "division", "community", "parent")
        .get(pk=pk)
    )


def organization_tree(*, scope: Scope, as_of: date | None = None) -> list[dict]:
    """The visible organizations as nested dicts {org, children, members}, optionally as of a past date
    (from the history tables). Roots are the visible organizations whose parent is not visible."""
    if as_of is None:
        orgs = list(organization_list(scope=scope).order_by("name"))
        rows = [(o.pk, o.parent_id, o) for o in orgs]
    else:
        from datetime import datetime, time

        from django.utils import timezone

        moment = timezone.make_aware(datetime.combine(as_of, time.max))
        visible = set(Organization.objects.filter(organization_q(scope)).values_list("pk", flat=True))
        snapshot = [o for o in Organization.history.as_of(moment) if o.pk in visible or scope.is_admin]
        rows = [(o.pk, o.parent_id, o) for o in sorted(snapshot, key=lambda o: o.name)]
    nodes = {pk: {"org": o, "children": []} for pk, _, o in rows}
    roots = []
    for pk, parent, _ in rows:
        if parent in nodes:
            nodes[parent]["children"].append(nodes[pk])
        else:
            roots.append(nodes[pk])
    return roots


def organization_counts(*, scope: Scope) -> dict[str, int]:
    qs = Organization.objects.filter(organization_q(scope)).filter(dissolved_on__isnull=True)
    counts = {k: 0 for k in ("committee", "secondary_committee", "general_branch", "branch", "joint_branch")}
    for row in qs.values("kind").annotate(n=Count("id")):
        counts[row["kind"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def company_q(scope: Scope) -> Q:
    if scope.is_admin:
        return Q()
    return (
        division_q(scope, "division")
        | Q(pk__in=scope.staff_company_ids)
        | Q(pk__in=Organization.objects.filter(pk__in=scope.org_ids | scope.member_org_ids).values("company_id"))
    )


def company_list(*, scope: Scope, search: str = "", kind: str = "") -> QuerySet[Company]:
    qs = Company.objects.filter(company_q(scope))
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(short_name__contains=search))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.annotate(unit_count=Count("units", distinct=True)).order_by("name")


def company_get(*, scope: Scope, pk: int) -> Company:
    return Company.objects.filter(company_q(scope)).get(pk=pk)
