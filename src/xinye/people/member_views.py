"""Members who need attention: floating members due to transfer, members out of contact; transfers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.algorithms.errors import InputError
from xinye.common.views import paginate
from xinye.organizations.models import OrgKind
from xinye.organizations.selectors import organization_list

from . import selectors, services

FLAG_LABELS = {
    "transfer_suggested": gettext_lazy("Away six months or more: transfer the membership here"),
    "lost_contact": gettext_lazy("Out of contact for six months or more"),
    "removal_review": gettext_lazy("Out of contact for more than two and a half years: review"),
    "certificate_expired": gettext_lazy("Activity certificate has expired"),
    "certificate_expiring": gettext_lazy("Activity certificate ends within 30 days"),
}


def _may_decide(scope) -> bool:
    return policy.may_decide_member_flags(scope)


@login_required
def member_flags(request):
    scope = request_scope(request)
    if scope.person_id and not (scope.org_ids or scope.division_prefixes or scope.is_admin):
        raise Http404  # a member sees no one else's flags
    q = request.GET.get("q", "").strip()[:100]
    flag = request.GET.get("flag", "")
    flag = flag if flag in FLAG_LABELS else ""
    kind = request.GET.get("floating", "")
    floating = {"1": True, "0": False}.get(kind)
    rows = selectors.member_flag_list(scope=scope, search=q, flag=flag, floating=floating)
    page = paginate(request, rows)
    # the transfer target is chosen on the member's own transfer page: a drop-down of every branch on
    # each of hundreds of rows made this page megabytes (issue 16)
    page.object_list = [
        (m, [(f, FLAG_LABELS[f.code]) for f in flags]) for m, flags in selectors.with_memberships(page.object_list)
    ]
    return render(
        request,
        "people/member_flags.html",
        {
            "page": page,
            "total": len(rows),
            "q": q,
            "flag": flag,
            "floating": kind if floating is not None else "",
            "flag_choices": list(FLAG_LABELS.items()),
            "transfers": selectors.transfer_list(scope=scope)[:100],
            "may_decide": _may_decide(scope),
        },
    )


@login_required
def transfer_request(request, pk: int):
    """GET: the form to transfer one flagged member's membership to a branch; POST: request the transfer."""
    scope = request_scope(request)
    membership = selectors.membership_list(scope=scope).select_related("person", "organization").filter(pk=pk).first()
    if membership is None:
        raise Http404
    branches = organization_list(scope=scope).filter(kind__in=[OrgKind.BRANCH, OrgKind.JOINT_BRANCH]).order_by("name")
    if request.method != "POST":
        return render(request, "people/transfer_request.html", {"membership": membership, "branches": branches})
    to = request.POST.get("to", "")
    target = organization_list(scope=scope).filter(pk=int(to)).first() if to.isascii() and to.isdigit() else None
    if target is None:
        raise Http404
    try:
        services.membership_transfer_request(
            membership=membership, to_organization=target, reason=request.POST.get("reason", ""), user=request.user
        )
        messages.success(request, _("The transfer was requested."))
    except InputError as exc:
        messages.error(request, "; ".join(e.message for e in exc.errors))
    return redirect("member_flags")


@login_required
@require_POST
def transfer_decide(request, pk: int):
    scope = request_scope(request)
    transfer = selectors.transfer_list(scope=scope).filter(pk=pk).first()
    if transfer is None:
        raise Http404
    if not _may_decide(scope):
        messages.error(request, _("Only organizers and organization staff decide transfers."))
        return redirect("member_flags")
    try:
        services.membership_transfer_decide(
            transfer=transfer, user=request.user, approve=request.POST.get("approve") == "1"
        )
    except InputError as exc:
        messages.error(request, str(exc.summary))
    return redirect("member_flags")


@login_required
def floating_register(request, pk: int):
    """Register a person as a floating member: membership held elsewhere, one organization here."""
    from datetime import date

    from xinye.common.views import get_or_404

    from .models import MembershipStatus

    scope = request_scope(request)
    if not _may_decide(scope) and "secretary" not in scope.roles:
        raise Http404
    person = get_or_404(selectors.person_get, scope=scope, pk=pk)
    if not policy.party_status_known(scope, person):
        raise Http404  # the page says whether the person is a member: not the viewer's to learn (accounts.policy)
    branches = organization_list(scope=scope).filter(kind__in=[OrgKind.BRANCH, OrgKind.JOINT_BRANCH]).order_by("name")
    errors = {}
    if request.method == "POST":

        def day(name):
            value = request.POST.get(name, "")
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                errors[name] = _("Not a date.")
                return None

        since, start, until = day("since"), day("certificate_from"), day("certificate_until")
        chosen = request.POST.get("organization", "")
        organization = branches.filter(pk=int(chosen)).first() if chosen.isascii() and chosen.isdigit() else None
        wanted = [p for p in request.POST.getlist("activity")[:100] if p.isascii() and p.isdigit() and len(p) < 18]
        activity = list(branches.filter(pk__in=wanted))
        if since is None and "since" not in errors:
            errors["since"] = _("Required.")
        if organization is None:
            errors["organization"] = _("Choose the branch the member belongs to here.")
        if not errors:
            try:
                services.floating_member_register(
                    person=person,
                    organization=organization,
                    status=request.POST.get("status")
                    if request.POST.get("status") in MembershipStatus.values
                    else MembershipStatus.FORMAL,
                    home_organization=request.POST.get("home_organization", ""),
                    home_place=request.POST.get("home_place", ""),
                    since=since,
                    certificate_from=start,
                    certificate_until=until,
                    activity_organizations=activity,
                )
            except InputError as exc:
                errors = {e.column: e.message for e in exc.errors}
            else:
                messages.success(request, _("Registered as a floating member."))
                return redirect("person_detail", pk=person.pk)
    values = request.POST
    if request.method != "POST":  # a request from the person's report fills the form in
        from .models import FloatingRequest

        pending = (
            FloatingRequest.objects.filter(policy.floating_request_q(scope), person=person, status="pending")
            .order_by("-created_at")
            .first()
        )
        if pending is not None:
            values = {"home_organization": pending.home_organization, "status": pending.party_status}
    return render(
        request,
        "people/floating_register.html",
        {
            "person": person,
            "branches": branches,
            "errors": errors,
            "values": values,
            "statuses": MembershipStatus.choices,
            "has_membership": person.memberships.filter(until__isnull=True).exists(),
        },
        status=400 if errors else 200,
    )


@login_required
def floating_requests(request):
    """Members who reported to their community and are to be registered here as floating members: the
    community's organizers register or decline them; the home organization's people see them too."""
    from xinye.common.views import paginate

    from .models import FloatingRequest, FloatingRequestStatus

    scope = request_scope(request)
    if not (scope.is_admin or scope.division_prefixes or scope.org_ids):
        raise Http404
    qs = FloatingRequest.objects.filter(policy.floating_request_q(scope)).select_related(
        "person__work_community", "home_org", "membership__organization"
    )
    if request.method == "POST":
        raw = request.POST.get("request", "")
        row = qs.filter(pk=int(raw)).first() if raw.isdigit() else None
        if row is None or not _may_decide(scope):
            raise Http404
        try:
            services.floating_request_decline(request_row=row, user=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("The request was declined."))
        except InputError as exc:
            messages.error(request, exc.errors[0].message)
        return redirect("floating_requests")
    status = request.GET.get("status", FloatingRequestStatus.PENDING)
    if status in FloatingRequestStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "people/floating_requests.html",
        {
            "page": paginate(request, qs),
            "status": status,
            "statuses": FloatingRequestStatus.choices,
            "may_decide": _may_decide(scope),
        },
    )
