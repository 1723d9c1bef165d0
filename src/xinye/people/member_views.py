"""Members who need attention: floating members due to transfer, members out of contact; transfers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinye.accounts.scope import request_scope
from xinye.algorithms.errors import InputError
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
DECIDERS = {"admin", "organizer", "org_staff"}


def _may_decide(scope) -> bool:
    return scope.is_admin or bool(DECIDERS & set(scope.roles))


@login_required
def member_flags(request):
    scope = request_scope(request)
    if scope.person_id and not (scope.org_ids or scope.division_prefixes or scope.is_admin):
        raise Http404  # a member sees no one else's flags
    rows = [(m, [(f, FLAG_LABELS[f.code]) for f in flags]) for m, flags in selectors.member_flag_list(scope=scope)]
    branches = organization_list(scope=scope).filter(kind__in=[OrgKind.BRANCH, OrgKind.JOINT_BRANCH]).order_by("name")
    return render(
        request,
        "people/member_flags.html",
        {
            "rows": rows,
            "branches": branches,
            "transfers": selectors.transfer_list(scope=scope)[:100],
            "may_decide": _may_decide(scope),
        },
    )


@login_required
@require_POST
def transfer_request(request, pk: int):
    scope = request_scope(request)
    membership = selectors.membership_list(scope=scope).filter(pk=pk).first()
    target = organization_list(scope=scope).filter(pk=request.POST.get("to") or 0).first()
    if membership is None or target is None:
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
