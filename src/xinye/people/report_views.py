"""The phone page where a worker reports to their community, and the organizers' list to confirm."""

from __future__ import annotations

from datetime import date

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
from xinye.common import idempotency, ratelimit
from xinye.common.views import paginate
from xinye.organizations.models import Company
from xinye.places.models import Division, Level

from . import selectors, services
from .models import CommunityReport, Occupation, ReportStatus


def report_form(request):
    """No login needed. Choose the street, then the community; occupation, platforms; consent."""
    city = request.GET.get("city") or request.POST.get("city") or "4403"
    streets = Division.objects.filter(level=Level.STREET, code__startswith=city).select_related("parent")
    street = request.GET.get("street") or request.POST.get("street") or ""
    communities = Division.objects.filter(level=Level.COMMUNITY, parent__code=street) if street else []
    context = {
        "streets": streets,
        "street": street,
        "communities": communities,
        "city": city,
        "occupations": Occupation.choices,
        "platforms": Company.objects.filter(is_platform=True).order_by("name"),
        "scope_text": _(services.REPORT_SCOPE),
        "party_scope_text": _(services.PARTY_SCOPE),
        "errors": {},
        "values": request.POST,
        "form_key": idempotency.form_key(request.POST.get("idem", "")),
    }
    if request.method == "POST" and request.POST.get("submit") == "1":
        if request.POST.get("website"):  # a field people do not see; robots fill it in
            return redirect("report_form")
        since = None
        if request.POST.get("union_since"):
            try:
                since = date.fromisoformat(request.POST["union_since"])
            except ValueError:
                context["errors"] = {"union_since": _("Not a date.")}
        if not context["errors"]:
            ident, rate = ratelimit.client_key(request), ratelimit.rate_setting("report")

            def submit():
                # counted in the report's transaction: concurrent reports cannot all pass the limit
                # (XINYE_RATES["report"], per client address), and a refused or invalid one is not counted
                ratelimit.ensure("report", ident, rate)
                return services.community_report_submit(
                    name=request.POST.get("name", ""),
                    phone=request.POST.get("phone", ""),
                    occupation=request.POST.get("occupation", ""),
                    community_code=request.POST.get("community", ""),
                    platform_ids=[
                        int(p)
                        for p in request.POST.getlist("platforms")[:50]
                        if p.isascii() and p.isdigit() and len(p) < 18
                    ],
                    consent=request.POST.get("consent") == "1",
                    union_name=request.POST.get("union_name", ""),
                    union_since=since,
                    union_apply=request.POST.get("union_apply") == "1",
                    party_status=request.POST.get("party_status", ""),
                    home_organization=request.POST.get("home_organization", ""),
                    party_consent=request.POST.get("party_consent") == "1",
                )

            try:
                # the form's key: sending it twice (a double tap, a retry) makes one report
                report, _replayed = idempotency.once(
                    "report", request.POST.get("idem", ""), submit, lambda pk: CommunityReport.objects.get(pk=pk)
                )
            except ratelimit.RateLimited as exc:
                context["errors"] = {"form": _("Too many reports from this network; try again in an hour.")}
                response = render(request, "people/report_form.html", context, status=429)
                response["Retry-After"] = str(exc.retry_after)
                return response
            except InputError as exc:
                context["errors"] = {e.column: str(_FIELD_MESSAGES.get(e.column, e.message)) for e in exc.errors}
            else:
                return render(request, "people/report_done.html", {"report": report})
        return render(request, "people/report_form.html", context, status=400)
    return render(request, "people/report_form.html", context)


_FIELD_MESSAGES = {
    "consent": gettext_lazy("Please agree to what is stored and who sees it; without it nothing is saved."),
    "name": gettext_lazy("Please give your name."),
    "phone": gettext_lazy("A mobile number has 11 digits."),
    "occupation": gettext_lazy("Choose your occupation."),
    "community": gettext_lazy("Choose the community where you work."),
    "union_since": gettext_lazy("A date in the future is not possible."),
    "party_consent": gettext_lazy("Agree to what is stored for this question, or leave it empty."),
    "home_organization": gettext_lazy("Name your home organization."),
    "party_status": gettext_lazy("Choose formal or probationary, or leave it empty."),
}


@login_required
def report_list(request):
    scope = request_scope(request)
    if not (scope.is_admin or scope.division_prefixes):
        raise Http404
    status = request.GET.get("status", ReportStatus.PENDING)
    q = request.GET.get("q", "").strip()[:100]
    page = paginate(
        request, selectors.community_report_list(scope=scope, status=status if status != "all" else "", search=q)
    )
    return render(
        request,
        "people/report_list.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": ReportStatus.choices,
            "on_record": selectors.phones_on_record([r.phone for r in page if r.status == ReportStatus.PENDING]),
        },
    )


@login_required
@require_POST
def report_decide(request, pk: int):
    scope = request_scope(request)
    report = selectors.community_report_list(scope=scope).filter(pk=pk).first()
    if report is None:
        raise Http404
    try:
        services.community_report_decide(
            report=report,
            user=request.user,
            confirm=request.POST.get("confirm") == "1",
            note=request.POST.get("note", ""),
        )
    except InputError as exc:
        messages.error(request, str(exc.summary))
    return redirect("report_list")


def union_application_list_q(scope):
    """Applications of people working in the organizer's divisions (administrators: all): the policy's rule."""
    return policy.union_application_q(scope)


@login_required
def union_applications(request):
    """The trade-union applications of the organizer's communities: answer them (accept, naming the union, or
    decline, with a note)."""
    from .models import UnionApplication, UnionApplicationStatus

    scope = request_scope(request)
    if not policy.may_answer_union_applications(scope):
        raise Http404
    qs = UnionApplication.objects.filter(union_application_list_q(scope)).select_related(
        "person__work_community", "answered_by"
    )
    if request.method == "POST":
        raw = request.POST.get("application", "")
        app = qs.filter(pk=int(raw)).first() if raw.isdigit() else None
        if app is None:
            raise Http404
        try:
            services.union_application_answer(
                application=app,
                user=request.user,
                accept=request.POST.get("answer") == "accept",
                union_name=request.POST.get("union_name", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("The application was answered."))
        except InputError as exc:
            messages.error(request, str(_FIELD_MESSAGES.get(exc.errors[0].column, exc.errors[0].message)))
        return redirect("union_applications")
    status = request.GET.get("status", UnionApplicationStatus.PENDING)
    if status in UnionApplicationStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "people/union_applications.html",
        {"page": paginate(request, qs), "status": status, "statuses": UnionApplicationStatus.choices},
    )
