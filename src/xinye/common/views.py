"""Helpers shared by views: 404 for anything out of scope, pagination."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404


def get_or_404(getter, **kwargs):
    """Call a selector's *_get; a missing or out-of-scope object becomes a 404."""
    try:
        return getter(**kwargs)
    except Exception as exc:  # DoesNotExist of any model, or a bad primary key
        if exc.__class__.__name__ in {"DoesNotExist", "ValueError", "ValidationError"}:
            raise Http404 from exc
        raise


PAGE_SIZE_MAX = 200


def paginate(request, queryset, per_page: int = 50):
    """One page of a list (a queryset or a plain list). `?size=` asks for another page size, capped at
    PAGE_SIZE_MAX so no request can ask for the whole table at once; a bad value falls back to the default."""
    raw = request.GET.get("size", "")
    if raw.isascii() and raw.isdigit() and int(raw) > 0:
        per_page = min(int(raw), PAGE_SIZE_MAX)
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def job_detail(request, pk: int):
    """A background job's progress (polled by htmx as a fragment); when done, its result page.
    Visible to the user who started it, and to superusers."""
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import redirect, render

    from .models import Job

    @login_required
    def view(request):
        jobs = Job.objects.all() if request.user.is_superuser else Job.objects.filter(created_by=request.user)
        job = get_or_404(jobs.get, pk=pk)
        fragment = request.GET.get("fragment") == "1"
        if job.status == Job.Status.DONE and job.result_url and not fragment:
            return redirect(job.result_url)
        response = render(request, "common/job_fragment.html" if fragment else "common/job.html", {"job": job})
        if job.status == Job.Status.DONE and job.result_url:
            # htmx follows this header to the result page: no script in the fragment (the CSP forbids inline script)
            response["HX-Redirect"] = job.result_url
        return response

    return view(request)
