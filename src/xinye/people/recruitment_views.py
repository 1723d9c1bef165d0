"""Pages for joining the Party (issue 12, item 5)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.views import get_or_404, paginate

from . import recruitment as svc
from . import selectors
from .models import Occupation, RecruitStage


def _reader(request):
    scope = request_scope(request)
    if not (scope.is_admin or scope.division_prefixes or scope.org_ids):
        raise Http404
    return scope


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def branches_for(scope):
    """Branches in which this user may record recruitment (for the start form)."""
    from xinye.organizations.models import BRANCH_KINDS
    from xinye.organizations.selectors import organization_list

    return [
        o
        for o in organization_list(scope=scope).filter(kind__in=BRANCH_KINDS).order_by("name")[:500]
        if policy.may_manage_recruitment(scope, o)
    ]


@login_required
def recruit_index(request):
    scope = _reader(request)
    stage = request.GET.get("stage", "")
    only_due = request.GET.get("due") == "1"
    qs = svc.recruit_list(scope=scope).order_by("-applied_on", "pk")
    if stage in RecruitStage.values:
        qs = qs.filter(stage=stage)
    rules = svc._rules()
    today = timezone.localdate()
    rows = []
    for r in qs[:2000]:
        d = svc.due(r, rules)
        r.due_label, r.due_on = (svc.DUE_LABELS[d[0]], d[1]) if d else ("", None)
        r.is_due = bool(d and d[1] <= today)
        if not only_due or r.is_due:
            rows.append(r)
    c = svc.counts(scope=scope)
    stages = [s for s in RecruitStage if s != RecruitStage.STOPPED]
    branches = sorted({o for o, _s in c["branch"]})
    occupations = dict(Occupation.choices)
    return render(
        request,
        "people/recruit_list.html",
        {
            "page": paginate(request, rows),
            "f": request.GET,
            "stages": stages,
            "stage_choices": RecruitStage.choices,
            "totals": [(s.label, c["stage"].get(s.value, 0)) for s in stages],
            "by_branch": [(b, [c["branch"].get((b, s.value), 0) for s in stages]) for b in branches],
            "by_occupation": [
                (occupations.get(o, o), [c["occupation"].get((o, s.value), 0) for s in stages])
                for o in sorted({o for o, _s in c["occupation"]})
            ],
        },
    )


@login_required
def recruit_detail(request, pk: int):
    scope = _reader(request)
    r = get_object_or_404(svc.recruit_list(scope=scope), pk=pk)
    if request.method == "POST":
        if not policy.may_manage_recruitment(scope, r.organization):
            raise Http404
        on = _date(request.POST.get("on", ""))
        if on is None:
            messages.error(request, _("Give the date of the step (YYYY-MM-DD)."))
        else:
            try:
                svc.advance(
                    scope, request.user, r, to=request.POST.get("to", ""), on=on, note=request.POST.get("note", "")
                )
                messages.success(request, _("The step was recorded."))
            except svc.RecruitError as exc:
                messages.error(request, str(exc))
        return redirect("recruit_detail", pk=r.pk)
    d = svc.due(r)
    nxt = svc.next_stage(r)
    steps = [(s.label, getattr(r, svc.DATE_FIELD[s])) for s in svc.ORDER]
    return render(
        request,
        "people/recruit_detail.html",
        {
            "r": r,
            "steps": steps,
            "may": policy.may_manage_recruitment(scope, r.organization),
            "next": (nxt, RecruitStage(nxt).label) if nxt else None,
            "due_label": svc.DUE_LABELS[d[0]] if d else "",
            "due_on": d[1] if d else None,
            "today": timezone.localdate(),
            "history": r.history.order_by("-history_date")[:30],
        },
    )


@login_required
@require_POST
def recruit_start(request, pk: int):
    """Start a recruitment for a person (from their page)."""
    scope = _reader(request)
    person = get_or_404(selectors.person_get, scope=scope, pk=pk)
    if not policy.party_status_known(scope, person):
        raise Http404  # whether they are a member is not the viewer's to learn (accounts.policy)
    raw = request.POST.get("organization", "")
    org = next((o for o in branches_for(scope) if raw.isdigit() and o.pk == int(raw)), None)
    on = _date(request.POST.get("applied_on", ""))
    if org is None or on is None:
        messages.error(request, _("Choose a branch and give the date of the application (YYYY-MM-DD)."))
        return redirect("person_detail", pk=person.pk)
    try:
        r = svc.start(
            scope, request.user, person=person, organization=org, applied_on=on, note=request.POST.get("note", "")
        )
    except svc.RecruitError as exc:
        messages.error(request, str(exc))
        return redirect("person_detail", pk=person.pk)
    messages.success(request, _("The application was recorded."))
    return redirect("recruit_detail", pk=r.pk)
