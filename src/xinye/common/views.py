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
        job = get_or_404(_jobs_of(request.user).get, pk=pk)
        fragment = request.GET.get("fragment") == "1"
        if job.status == Job.Status.DONE and job.result_url and not fragment:
            return redirect(job.result_url)
        response = render(
            request,
            "common/job_fragment.html" if fragment else "common/job.html",
            {"job": job, "note": job_note(job)},
        )
        if job.status == Job.Status.DONE and job.result_url:
            # htmx follows this header to the result page: no script in the fragment (the CSP forbids inline script)
            response["HX-Redirect"] = job.result_url
        return response

    return view(request)


def _jobs_of(user):
    from .models import Job

    return Job.objects.all() if user.is_superuser else Job.objects.filter(created_by=user)


def job_note(job) -> str:
    """The job's own note (why it was retried or stopped) in the user's language; other messages as they are."""
    import re

    from django.utils.translation import gettext as _

    from . import jobs

    text = job.message or ""
    if text == jobs.TIME_LIMIT_NOTE:
        return _("The job took longer than its time limit and was stopped.")
    stopped = re.escape(jobs.STOPPED_NOTE).replace(re.escape("{n}"), r"(\d+)")
    if m := re.fullmatch(stopped, text):
        return _("The worker running this job stopped (killed, or the machine restarted) %(n)s time(s).") % {"n": m[1]}
    if text == "the worker stopped: running it again":
        return _("The worker running this job stopped: it is running again.")
    if m := re.fullmatch(r"retrying in (\d+) s after a transient error", text):
        return _("A passing error (the database or a service was unavailable): trying again in %(n)s s.") % {"n": m[1]}
    # a job's own refusal (a XinyeError whose message is in the catalogue) reads in the user's language
    return _(text) if text else text


def job_restart(request, pk: int):
    """The restart button of a failed job (its creator, or a superuser)."""
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import redirect
    from django.views.decorators.http import require_POST

    from . import jobs

    @login_required
    @require_POST
    def view(request):
        job = get_or_404(_jobs_of(request.user).get, pk=pk)
        jobs.job_restart(job)
        return redirect("job_detail", pk=job.pk)

    return view(request)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: the SVG icon (its hashed name in production,
    looked up per request, so that nothing reads the static manifest while the URLs load)."""
    from django.shortcuts import redirect
    from django.templatetags.static import static

    return redirect(static("xinye/favicon.svg"), permanent=True)
