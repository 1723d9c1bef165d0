"""Reads of demands, scoped to the acting user, and what of a submitter's identity a viewer may see.

Who sees a demand: administrators all; organizers those from their divisions; secretaries and organization
staff those handled (or first routed) in their organizations; a responsible body's handlers those routed
to it; the member who entered it; the worker who submitted it. Anyone else gets 404.
What of a submitter's identity a viewer sees (and the texts about it) is decided by accounts.policy.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.places.selectors import division_q

from .models import OPEN_STATUSES, Category, Demand, DemandStatus, ResponsibleBody


def demand_q(scope: Scope) -> Q:
    if scope.is_admin:
        return Q()
    q = division_q(scope, "community")
    if scope.org_ids:
        q |= Q(organization_id__in=scope.org_ids) | Q(origin_organization_id__in=scope.org_ids)
    if scope.user_id:  # a subquery, not a join: one row per demand, so no DISTINCT (a costly plan and sort)
        bodies = ResponsibleBody.handlers.through.objects.filter(user_id=scope.user_id).values("responsiblebody_id")
        q |= Q(body_id__in=bodies) | Q(entered_by_id=scope.user_id)
    if scope.person_id:
        q |= Q(person_id=scope.person_id)
    return q


def demand_list(*, scope: Scope) -> QuerySet[Demand]:
    return Demand.objects.filter(demand_q(scope)).select_related(
        "category", "community", "organization", "body", "person", "entered_by__person"
    )


def demand_get(*, scope: Scope, pk: int) -> Demand:
    return demand_list(scope=scope).get(pk=pk)


def is_handler(scope: Scope, demand: Demand) -> bool:
    """Whether the user may act on the demand (not only see it): not as its submitter or the member who
    entered it, but as organizer, organization, body or administrator."""
    if scope.is_admin:
        return True
    code = demand.community.code if demand.community_id else ""
    if code and any(code.startswith(p) for p in scope.division_prefixes):
        return True
    if demand.organization_id in scope.org_ids or demand.origin_organization_id in scope.org_ids:
        return True
    return bool(demand.body_id and scope.user_id and demand.body.handlers.filter(pk=scope.user_id).exists())


def queue(
    *,
    scope: Scope,
    status: str = "",
    category: str = "",
    overdue: bool = False,
    search: str = "",
    now=None,
) -> QuerySet[Demand]:
    """The handler's queue: open demands by default, overdue first, then by due date (`queue_rows` reads a
    page of it)."""
    now = now or timezone.now()
    qs = demand_list(scope=scope)
    if status == "all":
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if category:
        qs = qs.filter(category__code=category)
    if overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    if search:
        ref = search.upper().removeprefix("D")
        if re.fullmatch(r"[0-9]{1,18}", ref):
            qs = qs.filter(pk=int(ref))
        else:  # the platform's people may not search hidden demands' texts or names (a hit would confirm a name)
            qs = qs.filter(
                (policy.text_search_q(scope) & Q(description__contains=search))
                | (policy.name_search_q(scope) & Q(person__name__contains=search))
            )
    # overdue first, then by due date: ordered (and paged) by the database, so a long queue costs one page
    late = Case(When(Q(status__in=OPEN_STATUSES, due_at__lt=now), then=Value(0)), default=Value(1))
    return qs.annotate(late=late).order_by("late", "due_at", "pk")


def queue_rows(scope: Scope, rows, *, now=None) -> list[Demand]:
    """One page of `queue`: each demand with `overdue` and its text as the viewer may read it."""
    now = now or timezone.now()
    rows = list(rows)
    for d in rows:
        d.overdue = d.is_open and d.due_at < now
        d.text = policy.demand_text_for(scope, d)
    return rows


def demand_stats(*, scope: Scope) -> list[dict]:
    """For each category: demands by status, how many are open and overdue, and the median hours from
    submission to resolution (of those resolved), within the user's scope."""
    qs = Demand.objects.filter(pk__in=Demand.objects.filter(demand_q(scope)).values("pk")).order_by()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for code, status, n in qs.values_list("category__code", "status").annotate(n=Count("id", distinct=True)):
        counts[code][status] = n
    overdue = dict(
        qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
        .values_list("category__code")
        .annotate(n=Count("id", distinct=True))
    )
    durations: dict[str, list[float]] = defaultdict(list)
    for code, created, resolved in qs.filter(resolved_at__isnull=False).values_list(
        "category__code", "created_at", "resolved_at"
    ):
        durations[code].append((resolved - created).total_seconds() / 3600)
    out = []
    for c in Category.objects.all():
        by_status = counts.get(c.code, {})
        total = sum(by_status.values())
        out.append(
            {
                "category": c,
                "total": total,
                "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
                "overdue": overdue.get(c.code, 0),
                "resolved": by_status.get(DemandStatus.RESOLVED, 0) + by_status.get(DemandStatus.CLOSED, 0),
                "median_hours": statistics.median(durations[c.code]) if durations.get(c.code) else None,
                "by_status": by_status,
            }
        )
    return out
