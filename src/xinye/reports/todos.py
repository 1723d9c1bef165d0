"""What a signed-in user has to do, for the top of their landing page: one line per task, with a count and the
page where it is done. Each role sees what its scope holds (the selectors below check it):

- a member: their workers (liaison), follow-ups that are overdue, workers not contacted in 30 days;
- a secretary or organization staff: open and overdue demands of their organizations, and how many of their
  members' workers were contacted in the last 30 days;
- an organizer (and administrators): reports to communities waiting for confirmation, open and overdue demands,
  organizations whose secretary is to be appointed (also organization staff, in their subtree);
- a station operator: their stations, and those not verified in the last year.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinye.accounts.scope import Scope

#: a station whose details nobody has checked for this long should be checked again
VERIFY_DAYS = 365


#: how many of a member's workers the landing page names (the liaison page lists them all)
SHOWN_WORKERS = 5


def _item(key: str, label, count: int, url: str, *, urgent: bool = False, rows=()) -> dict:
    return {"key": key, "label": label, "count": count, "url": url, "urgent": urgent and count > 0, "rows": rows}


def role_todos(*, scope: Scope, now=None) -> list[dict]:
    """The to-do lines for the scope, in the order a user would work through them."""
    from xinye.demands import liaison
    from xinye.demands.models import OPEN_STATUSES, Demand
    from xinye.demands.selectors import demand_q
    from xinye.organizations.models import Organization
    from xinye.people.models import ReportStatus
    from xinye.people.selectors import community_report_list
    from xinye.stations.selectors import station_list

    now = now or timezone.now()
    today = timezone.localdate(now)
    items: list[dict] = []
    if scope.person_id:
        rows = liaison.my_workers(scope=scope, today=today)
        if rows:
            mine = reverse("liaison_mine")
            stale = [r for r in rows if r["last_on"] is None or r["last_on"] < today - timedelta(days=30)]
            items += [
                # the first few, those to contact first (overdue follow-ups first: liaison.my_workers)
                _item("my_workers", _("Workers you keep in touch with"), len(rows), mine, rows=rows[:SHOWN_WORKERS]),
                _item(
                    "follow_ups_overdue",
                    _("Follow-ups past their date"),
                    sum(r["overdue"] for r in rows),
                    mine,
                    urgent=True,
                ),
                _item("not_contacted", _("Workers not contacted in 30 days"), len(stale), mine),
            ]
    if scope.is_admin or scope.division_prefixes:
        pending = community_report_list(scope=scope, status=ReportStatus.PENDING).count()
        items.append(
            _item(
                "reports_pending",
                _("Reports to communities waiting for confirmation"),
                pending,
                reverse("report_list") + "?status=" + ReportStatus.PENDING,
                urgent=True,
            )
        )
    if scope.is_admin or scope.division_prefixes or scope.org_ids or scope.platform_handler:
        # demands the scope handles (its own demands as a worker are on the tracking page)
        handled = Demand.objects.filter(status__in=OPEN_STATUSES).filter(demand_q(replace(scope, person_id=None)))
        queue = reverse("demand_queue")
        items += [
            _item("demands_open", _("Open demands"), handled.distinct().count(), queue),
            _item(
                "demands_overdue",
                _("Demands past their due date"),
                handled.filter(due_at__lt=now).distinct().count(),
                queue + "?overdue=1",
                urgent=True,
            ),
        ]
    if scope.is_admin or scope.division_prefixes:
        from xinye.people.models import UnionApplication
        from xinye.people.report_views import union_application_list_q

        items.append(
            _item(
                "union_applications",
                _("Trade union applications waiting for an answer"),
                UnionApplication.objects.filter(union_application_list_q(scope), status="pending").count(),
                reverse("union_applications"),
                urgent=True,
            )
        )
    if scope.is_admin or scope.division_prefixes or scope.org_ids:
        from xinye.accounts.policy import floating_request_q
        from xinye.people.models import FloatingRequest

        items.append(
            _item(
                "floating_requests",
                _("Members who reported, to register here"),
                FloatingRequest.objects.filter(floating_request_q(scope), status="pending").count(),
                reverse("floating_requests"),
                urgent=True,
            )
        )
    if scope.is_admin or scope.division_prefixes or scope.staff_org_ids:
        from xinye.organizations.posts import without_secretary_q
        from xinye.organizations.selectors import organization_list

        # organizations a plan (or anyone) created and nobody has appointed a secretary to yet
        items.append(
            _item(
                "no_secretary",
                _("Organizations whose secretary is to be appointed"),
                organization_list(scope=scope).filter(without_secretary_q()).count(),
                reverse("organization_index") + "?no_secretary=1",
                urgent=True,
            )
        )
    if scope.is_admin or scope.division_prefixes or scope.org_ids:
        from xinye.people.recruitment import due_count

        items.append(
            _item(
                "recruitment_due",
                _("Steps of joining the Party that are due"),
                due_count(scope=scope, today=today),
                reverse("recruit_index") + "?due=1",
                urgent=True,
            )
        )
    if scope.is_admin or scope.division_prefixes or scope.staff_org_ids:
        from xinye.accounts.policy import commendations_q, may_decide_commendation
        from xinye.volunteering.models import Commendation

        # nominations this viewer may decide (the awarding organization decides; never the nominator)
        waiting = [
            c
            for c in Commendation.objects.filter(commendations_q(scope), status="nominated").select_related(
                "organization__division"
            )[:200]
            if may_decide_commendation(scope, c)
        ]
        items.append(
            _item(
                "commendations",
                _("Nominations for commendations to decide"),
                len(waiting),
                reverse("commendation_index") + "?status=nominated",
                urgent=True,
            )
        )
    if scope.person_id:
        from xinye.volunteering.models import Signup

        coming = Signup.objects.filter(
            person_id=scope.person_id, status="confirmed", shift__starts_at__gte=timezone.now()
        ).count()
        if coming:
            items.append(
                _item("my_shifts", _("Volunteer shifts you signed up for"), coming, reverse("volunteering_index"))
            )
    if scope.org_ids and not scope.is_admin:
        top = (
            Organization.objects.filter(pk__in=scope.org_ids, dissolved_on__isnull=True)
            .exclude(parent_id__in=scope.org_ids)
            .order_by("pk")
            .first()
        )
        if top is not None:
            total = liaison.branch_contact_rates(organization=top, today=today)["total"]
            items.append(
                _item(
                    "members_contacts",
                    _("Workers of your members not contacted in 30 days"),
                    total["workers"] - total["contacted"],
                    reverse("liaison_branch", args=[top.pk]),
                )
            )
    if scope.operator_names:
        stations = station_list(scope=scope)
        items += [
            _item("stations", _("Your stations"), stations.count(), reverse("station_index")),
            _item(
                "stations_unverified",
                _("Stations not verified in a year"),
                stations.exclude(verified_on__gte=today - timedelta(days=VERIFY_DAYS)).count(),
                reverse("station_index"),
                urgent=True,
            ),
        ]
    return items
