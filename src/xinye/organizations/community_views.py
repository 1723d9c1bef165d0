"""Pages of community-based branches: the map of a division, forming branches as a job, review, approval."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinye.accounts.scope import request_scope
from xinye.common.concurrency import Conflict
from xinye.common.errors import InputError
from xinye.common.jobs import job_submit
from xinye.common.views import get_or_404
from xinye.places import selectors as places
from xinye.places.models import Division, Level

from . import community_planning
from .findings import localized, localized_unplaced
from .models import AnchorKind, CommunityPlan, Organization, ProposalStatus

FIELD_LABELS = {"floor": gettext_lazy("Floor (formal members)"), "cap": gettext_lazy("Cap (members)"),
                "radius_km": gettext_lazy("Work radius (km)")}  # fmt: skip
PALETTE = ["#b8202b", "#1f6fb2", "#1e7a3c", "#a15c00", "#6b3fa0", "#0f8a8a", "#c2185b", "#5d4037", "#455a64", "#7cb342"]


def _division_for_organizer(request, code: str) -> Division:
    scope = request_scope(request)
    division = get_or_404(places.division_get, code=code)
    if not (scope.is_admin or any(division.code.startswith(p) for p in scope.division_prefixes)):
        raise Http404
    if division.level not in (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.STREET):
        raise Http404
    return division


def _map_data(division: Division, branches: list[dict]) -> dict:
    """District boundaries (GeoJSON), community points coloured by branch, and links to each anchor."""
    geo = places.boundaries_geojson(code_prefix=division.code[:4] if len(division.code) >= 4 else division.code)
    codes = {c for b in branches for c in b["communities"]}
    where = {d.code: (d.lon, d.lat, d.name) for d in Division.objects.filter(code__in=codes)}
    points, anchors, links = [], [], []
    for i, b in enumerate(branches):
        colour = PALETTE[i % len(PALETTE)]
        ax = where.get(b["anchor"])
        for c in b["communities"]:
            if c in where:
                lon, lat, name = where[c]
                points.append({"value": [lon, lat], "name": name, "itemStyle": {"color": colour}})
                if ax and c != b["anchor"]:
                    links.append({"coords": [[lon, lat], [ax[0], ax[1]]], "lineStyle": {"color": colour}})
        if ax:
            anchors.append(
                {"value": [ax[0], ax[1]], "name": f"{ax[2]} ({len(b['members'])})", "itemStyle": {"color": colour}}
            )
    return {"geo": geo, "points": points, "anchors": anchors, "links": links}


@login_required
def division_branches(request, code: str):
    division = _division_for_organizer(request, code)
    orgs = list(
        Organization.objects.filter(
            anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True, community__code__startswith=division.code
        )
        .select_related("community")
        .prefetch_related("communities", "memberships")
    )
    branches = [
        {
            "anchor": o.community.code,
            "communities": [c.code for c in o.communities.all()],
            "members": [m.pk for m in o.memberships.all() if m.until is None],
        }
        for o in orgs
    ]
    rules = community_planning.community_rules()
    return render(
        request,
        "organizations/community_branches.html",
        {
            "division": division,
            "rules": rules,
            "findings": [localized(f) for f in community_planning.community_audit(division=division)],
            "orgs": orgs,
            "map": _map_data(division, branches),
            "plans": CommunityPlan.objects.filter(division=division)[:10],
        },
    )


@login_required
@require_POST
def division_branches_form(request, code: str):
    division = _division_for_organizer(request, code)
    try:
        params = community_planning.community_params(
            floor=request.POST.get("floor"), cap=request.POST.get("cap"), radius_km=request.POST.get("radius_km")
        )
    except InputError as exc:
        rules = community_planning.community_rules()
        problems = {
            "floor": _("a branch needs at least %(n)s formal members under the rules")
            % {"n": rules.min_formal_members},
            "cap": _("between the floor and the rules' %(n)s members") % {"n": rules.branch_cap},
            "radius_km": _("a work radius between 0.1 and 50 km"),
        }
        for e in exc.errors:
            messages.error(request, _("%(field)s = %(value)s: %(problem)s") % {
                "field": FIELD_LABELS.get(e.column, e.column), "value": e.value,
                "problem": problems.get(e.column, e.message) if e.message != "not a number" else _("not a number"),
            })  # fmt: skip
        return redirect("division_branches", code=division.code)
    j = job_submit(kind="community_plan", user=request.user, params={"division_code": division.code, **params})
    return redirect("job_detail", pk=j.pk)


def _plan_get(request, pk: int) -> CommunityPlan:
    plan = get_or_404(CommunityPlan.objects.select_related("division").get, pk=pk)
    _division_for_organizer(request, plan.division.code)
    return plan


@login_required
def community_plan_detail(request, pk: int):
    plan = _plan_get(request, pk)
    before = {b["id"]: b for b in plan.before["branches"]}
    rows = []
    names = {d.code: d.name for d in Division.objects.filter(code__in=[b["anchor"] for b in plan.plan["branches"]])}
    for b in plan.plan["branches"]:
        old = before.get(b["id"])
        status = (
            "new"
            if old is None
            else (
                "kept"
                if sorted(old["members"]) == sorted(b["members"])
                and sorted(old["communities"]) == sorted(b["communities"])
                else "changed"
            )
        )
        rows.append(
            {
                "id": b["id"],
                "anchor": names.get(b["anchor"], b["anchor"]),
                "communities": len(b["communities"]),
                "members": len(b["members"]),
                "status": status,
            }
        )
    old_of = {m: bid for bid, b in before.items() for m in b["members"]}
    moving = sum(1 for b in plan.plan["branches"] for m in b["members"] if old_of.get(m) not in (None, b["id"]))
    dissolved = [bid for bid in before if bid not in {b["id"] for b in plan.plan["branches"]}]
    return render(
        request,
        "organizations/community_plan.html",
        {
            "plan": plan,
            "stats": plan.plan["stats"],
            "rows": rows,
            "moving": moving,
            "dissolved": dissolved,
            "unplaced": [localized_unplaced(u) for u in plan.plan["unplaced"][:200]],
            "map": _map_data(plan.division, plan.plan["branches"]),
            "may_decide": plan.status == ProposalStatus.PENDING,
        },
    )


@login_required
@require_POST
def community_plan_decide(request, pk: int):
    plan = _plan_get(request, pk)
    try:
        if request.POST.get("decision") == "approve":
            community_planning.community_plan_approve(plan=plan, user=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("The plan was approved and applied."))
        else:
            community_planning.community_plan_reject(plan=plan, user=request.user, note=request.POST.get("note", ""))
            messages.info(request, _("The plan was rejected."))
    except (community_planning.CommunityPlanError, Conflict) as exc:  # an organization was saved meanwhile
        messages.error(request, str(exc))
    return redirect("community_plan_detail", pk=plan.pk)
