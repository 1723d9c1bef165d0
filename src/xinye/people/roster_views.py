"""Pages of the roster import: upload, check (a dry run), import, results; templates to download."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinye.accounts.scope import request_scope
from xinye.algorithms.errors import InputError, RowError
from xinye.common.input_errors import localized_errors
from xinye.common.jobs import job_submit
from xinye.common.models import Job
from xinye.common.views import get_or_404

from . import roster

ALLOWED = {".xlsx", ".csv"}
#: what can be imported here: people (this app's roster), companies, organizations, posts (organizations.rosters)
KINDS = ("people", "companies", "organizations", "posts")


def _kind(request) -> str:
    kind = request.POST.get("kind") or request.GET.get("kind") or "people"
    return kind if kind in KINDS else "people"


def _columns(kind: str):
    if kind == "people":
        return roster.ROSTER_COLUMNS
    from xinye.organizations.rosters import COLUMNS

    return COLUMNS[kind]


def _kind_labels():
    return [
        ("people", _("Workers and members")),
        ("companies", _("Companies")),
        ("organizations", _("Organizations")),
        ("posts", _("Posts")),
    ]


def _may_import(request):
    scope = request_scope(request)
    if not (scope.is_admin or scope.division_prefixes):
        raise Http404
    return scope


@login_required
def roster_import_page(request):
    _may_import(request)
    kind = _kind(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        suffix = Path(upload.name).suffix.lower() if upload else ""
        if upload is None:
            error = _("Choose a file.")
        elif suffix not in ALLOWED:
            error = _("A roster is an .xlsx or .csv file.")
        elif upload.size > settings.XINYE_IMPORT_MAX_BYTES:
            error = _("The file is larger than %(mb)s MB.") % {"mb": settings.XINYE_IMPORT_MAX_BYTES // 2**20}
        else:
            roster.uploads_sweep()
            path = roster.upload_save(upload.chunks(), suffix)
            j = job_submit(
                kind="people_import",
                user=request.user,
                params={
                    "path": str(path),
                    "filename": Path(upload.name).name[:200],
                    "dry_run": request.POST.get("dry_run") == "1",
                    "language": get_language() or "zh-hans",
                    "kind": kind,
                },
            )
            return redirect("job_detail", pk=j.pk)
    recent = Job.objects.filter(kind="people_import", created_by=request.user).order_by("-created_at")[:10]
    return render(
        request,
        "people/roster_import.html",
        {"error": error, "recent": recent, "columns": _columns(kind), "kind": kind, "kinds": _kind_labels()},
    )


@login_required
def roster_result(request, pk: int):
    _may_import(request)
    j = get_or_404(Job.objects.filter(kind="people_import", created_by=request.user).get, pk=pk)
    result = j.params.get("result")
    if not result:
        return redirect("job_detail", pk=j.pk)
    may_import_now = result.get("ok") and result.get("dry_run") and roster.upload_fresh(j.params["path"])
    shown_errors, summary = [], ""
    if not result.get("ok"):
        # the errors as the reader wrote them, shown in the page's language (the job ran in the worker's)
        found = InputError(
            [
                RowError(e["file"], e["row"], e["column"], e["value"], e["message"], e.get("sheet"))
                for e in result.get("errors", [])
            ],
            summary=result.get("summary", ""),
        )
        shown = localized_errors(found)
        shown_errors, summary = shown["errors"], shown["summary"]
    return render(
        request,
        "people/roster_result.html",
        {"job": j, "result": result, "may_import": may_import_now, "errors": shown_errors, "summary": summary},
    )


@login_required
def roster_confirm(request, pk: int):
    """Import the file a dry run checked (the button on its result page)."""
    _may_import(request)
    if request.method != "POST":
        raise Http404
    j = get_or_404(Job.objects.filter(kind="people_import", created_by=request.user).get, pk=pk)
    if not (j.params.get("result", {}).get("ok") and j.params.get("dry_run") and roster.upload_fresh(j.params["path"])):
        raise Http404
    again = job_submit(
        kind="people_import",
        user=request.user,
        params={"path": j.params["path"], "filename": j.params["filename"], "dry_run": False,
                "language": get_language() or "zh-hans", "kind": j.params.get("kind", "people")},
    )  # fmt: skip
    return redirect("job_detail", pk=again.pk)


@login_required
def roster_template(request, fmt: str):
    _may_import(request)
    kind = _kind(request)
    from xinye.organizations import rosters

    if fmt == "xlsx":
        data = roster.template_xlsx() if kind == "people" else rosters.template_xlsx(kind)
        response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        import io

        from xinye.algorithms.tabular import csv_writer

        buf = io.StringIO()
        w = csv_writer(buf)
        for row in roster.template_rows() if kind == "people" else rosters.template_rows(kind):
            w.writerow(row)
        response = HttpResponse(("\ufeff" + buf.getvalue()).encode(), content_type="text/csv; charset=utf-8")
    name = "roster" if kind == "people" else kind
    response["Content-Disposition"] = f'attachment; filename="xinye-{name}-template.{fmt}"'
    return response
