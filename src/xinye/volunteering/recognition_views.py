"""Pages of commendations (issue 14, item 6): the list, a nomination, a decision. Thin: reads through
`accounts.policy`, writes through `recognition`; anything out of scope is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.views import paginate
from xinye.organizations.models import Organization
from xinye.organizations.selectors import organization_list
from xinye.people.selectors import person_list

from . import selectors
from .recognition import (
    Commendation,
    CommendationKind,
    CommendationStatus,
    NotAllowed,
    Refused,
    commendation_decide,
    commendation_nominate,
)


def _visible(scope):
    return Commendation.objects.filter(policy.commendations_q(scope)).select_related("person", "team", "organization")


@login_required
def commendation_index(request):
    scope = request_scope(request)
    status = request.GET.get("status", "")
    qs = _visible(scope)
    if status in CommendationStatus.values:
        qs = qs.filter(status=status)
    rows = [c for c in qs if policy.commendation_visible(scope, c)]
    page = paginate(request, rows)
    for c in page:
        c.may_decide = c.status == CommendationStatus.NOMINATED and policy.may_decide_commendation(
            scope, c, request.user
        )
    return render(
        request,
        "volunteering/commendation_list.html",
        {"page": page, "status": status, "statuses": CommendationStatus.choices},
    )


def _orgs(scope):
    return [
        o
        for o in organization_list(scope=scope).filter(dissolved_on__isnull=True)[:500]
        if policy.may_nominate(scope, o)
    ]


@login_required
def commendation_new(request):
    scope = request_scope(request)
    orgs = _orgs(scope)
    if not orgs:
        raise Http404
    values = request.POST if request.method == "POST" else request.GET
    person = team = None
    pid, tid = values.get("person", ""), values.get("team", "")
    if pid.isdigit():
        person = person_list(scope=scope).filter(pk=int(pid)).first()
    if tid.isdigit():
        team = selectors.team_list(scope=scope).filter(pk=int(tid)).first()
    if person is None and team is None:
        raise Http404  # nominations start from a person's or a team's page
    error = None
    if request.method == "POST":
        org = next((o for o in orgs if str(o.pk) == values.get("organization", "")), None)
        try:
            if org is None:
                raise Refused(_("Choose the organization that awards it."))
            year = int(values.get("year") or 0) if (values.get("year") or "").isdigit() else 0
            c = commendation_nominate(
                scope=scope,
                user=request.user,
                kind=values.get("kind", ""),
                title=values.get("title", ""),
                year=year,
                organization=org,
                reason=values.get("reason", ""),
                person=person,
                team=team,
            )
        except Refused as exc:
            error = str(exc)
        except NotAllowed as exc:
            raise Http404 from exc
        else:
            messages.success(request, _("Nominated: %(title)s. The organization decides.") % {"title": c.title})
            return redirect("commendation_index")
    return render(
        request,
        "volunteering/commendation_form.html",
        {
            "person": person,
            "team": team,
            "orgs": orgs,
            "kinds": CommendationKind.choices,
            "year": timezone.localdate().year,
            "values": values,
            "error": error,
        },
    )


@login_required
@require_POST
def commendation_decision(request, pk: int):
    scope = request_scope(request)
    c = _visible(scope).filter(pk=pk).first()
    if c is None or not policy.commendation_visible(scope, c):
        raise Http404
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "decline"):
        raise Http404
    try:
        commendation_decide(
            scope=scope,
            user=request.user,
            commendation=c,
            approve=decision == "approve",
            note=request.POST.get("note", ""),
        )
    except NotAllowed as exc:
        raise Http404 from exc
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Approved.") if decision == "approve" else _("Declined."))
    return redirect("commendation_index")


def organizations_awarding(scope) -> list[Organization]:
    return _orgs(scope)
