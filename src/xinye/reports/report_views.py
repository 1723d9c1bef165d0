"""The monthly reports (issue 15, item 4): `/indicators/reports/` lists the kept reports of a division and the
divisions under it that the viewer may read, with a button that builds this month's report as a job; each
report's .xlsx and PDF are downloaded from `/indicators/reports/<id>/<xlsx|pdf>/`. Thin: who reads and who
builds what is `accounts.policy` (`report_copy`, `may_generate_report`), asked by `reports.selectors` and
`reports.services`."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.jobs import job_submit
from xinye.common.views import get_or_404

from . import selectors, services
from .indicators import LEVEL_LENGTHS

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _reader(request):
    scope = request_scope(request)
    if not policy.may_read_indicators(scope):
        raise Http404
    return scope


def _months(today: dt.date) -> list[dt.date]:
    """The months a report may be built for: this one and the eleven before it."""
    out, month = [], today.replace(day=1)
    for _i in range(12):
        out.append(month)
        month = services.previous_month(month)
    return out


@login_required
def report_index(request):
    scope = _reader(request)
    code = request.GET.get("division", selectors.default_division(scope)).strip()
    division = get_or_404(selectors.division_get, scope=scope, code=code)
    reports = selectors.monthly_report_list(scope=scope, code=code)
    for r in reports:
        r.copy = policy.report_copy(scope, r.division.code)
    today = timezone.localdate()
    may_generate = policy.may_generate_report(scope, code)
    return render(
        request,
        "reports/monthly_reports.html",
        {
            "division": division,
            "code": code,
            "reports": reports,
            "may_generate": may_generate,
            "this_month": today.replace(day=1),
            "months": _months(today) if may_generate else [],
            "outside": policy.indicator_access(scope, code) == policy.OUTSIDE,
            "children": selectors.children_of(scope, division),
            "is_country": code == "",
        },
    )


@login_required
@require_POST
def report_generate(request):
    """The button: build a division's report of a month (this month by default) as a job."""
    scope = _reader(request)
    code = request.POST.get("division", "").strip()
    if len(code) not in LEVEL_LENGTHS or not policy.may_generate_report(scope, code):
        raise Http404
    get_or_404(selectors.division_get, scope=scope, code=code)
    allowed = {f"{m:%Y-%m}" for m in _months(timezone.localdate())}
    period = request.POST.get("period") or f"{timezone.localdate():%Y-%m}"
    if period not in allowed:
        raise Http404
    j = job_submit(kind="indicator_report", user=request.user, params={"division": code, "period": period})
    return redirect("job_detail", pk=j.pk)


@login_required
def report_download(request, pk: int, fmt: str):
    scope = _reader(request)
    data, name = get_or_404(selectors.monthly_report_file, scope=scope, pk=pk, fmt=fmt)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
