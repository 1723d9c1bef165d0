"""Demand pages: intake on a phone (with or without login), the submitter's tracking page, the handlers'
queue with bulk actions, the demand page with its history, and the statistics."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.algorithms.errors import InputError
from xinye.common.views import get_or_404
from xinye.organizations.models import Company
from xinye.people.models import Person
from xinye.people.selectors import person_q
from xinye.places.models import Division, Level

from . import selectors, services
from .models import OPEN_STATUSES, Attachment, Category, Channel, Demand, DemandStatus, LiaisonPair

DIGITS = re.compile(r"[0-9]{1,18}")
CODE = re.compile(r"[0-9A-Za-z]{1,12}")
SUBMIT_LIMIT_ANON = 5  # demands an hour from one network address without login
SUBMIT_LIMIT_USER = 30  # ... from one account
TRACK_LIMIT = 30  # unknown tracking codes an hour from one address


def _ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _count(key: str) -> int:
    return cache.get(key, 0)


def _bump(key: str) -> None:
    cache.set(key, _count(key) + 1, 3600)


def _on_behalf(request, scope) -> Person | None:
    """The worker a member (or organizer) enters the demand for: one they keep in touch with or oversee."""
    raw = request.GET.get("worker") or request.POST.get("worker")
    if not raw:
        return None
    if not DIGITS.fullmatch(str(raw)):
        raise Http404
    if (
        scope.person_id
        and LiaisonPair.objects.filter(member_id=scope.person_id, worker_id=int(raw), until__isnull=True).exists()
    ):
        return Person.objects.get(pk=int(raw))
    overseer = scope.is_admin or scope.division_prefixes
    person = Person.objects.filter(person_q(scope), pk=int(raw)).first() if overseer else None
    if person is None:
        raise Http404
    return person


def demand_new(request):
    """The intake page: no login needed. Category, description, optional photos and place."""
    scope = request_scope(request)
    worker = _on_behalf(request, scope) if request.user.is_authenticated else None
    own = None
    if request.user.is_authenticated and worker is None and scope.person_id:
        own = Person.objects.filter(pk=scope.person_id).first()
    city = request.GET.get("city") or request.POST.get("city") or "4403"
    street = request.GET.get("street") or request.POST.get("street") or ""
    context = {
        "categories": Category.objects.filter(active=True),
        "streets": Division.objects.filter(level=Level.STREET, code__startswith=city).select_related("parent"),
        "street": street,
        "city": city,
        "communities": Division.objects.filter(level=Level.COMMUNITY, parent__code=street) if street else [],
        "platforms": Company.objects.filter(is_platform=True).order_by("name"),
        "worker": worker,
        "own": own,
        "values": request.POST if request.method == "POST" else request.GET,
        "errors": [],
    }
    if request.method != "POST" or request.POST.get("submit") != "1":
        return render(request, "demands/new.html", context)
    key = f"demand-rate:{'u' + str(request.user.pk) if request.user.is_authenticated else _ip(request)}"
    limit = SUBMIT_LIMIT_USER if request.user.is_authenticated else SUBMIT_LIMIT_ANON
    if _count(key) >= limit:
        context["errors"] = [_("Too many demands from here in the last hour; please try again later.")]
        return render(request, "demands/new.html", context, status=429)
    if request.POST.get("website"):  # a field people do not see; robots fill it in
        return redirect("demand_new")
    post = request.POST
    category = Category.objects.filter(code=post.get("category", ""), active=True).first()
    community = Division.objects.filter(code=post.get("community") or "-", level=Level.COMMUNITY).first()
    company_key = post.get("company", "")
    company = (
        Company.objects.filter(pk=int(company_key), is_platform=True).first() if DIGITS.fullmatch(company_key) else None
    )
    lat = lon = None
    errors = []
    if not category:
        errors.append(_("Choose what the demand is about."))
    if post.get("lat") and post.get("lon"):
        try:
            lat, lon = float(post["lat"]), float(post["lon"])
        except ValueError:
            errors.append(_("The location is not valid."))
    files = request.FILES.getlist("photos")
    photos = []
    if len(files) > services.MAX_PHOTOS:
        errors.append(_("At most %(n)s photos.") % {"n": services.MAX_PHOTOS})
    for f in files[: services.MAX_PHOTOS]:
        if f.size > services.MAX_PHOTO_BYTES:  # refused before it is read into memory
            errors.append(_("%(name)s: larger than 5 MB") % {"name": f.name})
        else:
            photos.append(services.Photo(f.name, f.read()))
    anonymous = post.get("anonymous") == "1" or not (worker or own)
    if not errors:
        try:
            demand = services.demand_submit(
                category=category,
                description=post.get("description", ""),
                person=None if anonymous else (worker or own),
                # an anonymous demand keeps no account, unless a member entered it for a worker
                entered_by=request.user if request.user.is_authenticated and (worker or not anonymous) else None,
                anonymous=anonymous,
                hide_from_platform=post.get("hide_from_platform") == "1",
                company=company,
                community=community,
                lat=lat,
                lon=lon,
                address=post.get("address", ""),
                photos=photos,
                channel=Channel.MEMBER if worker else Channel.WEB,
            )
        except InputError as exc:
            errors += [str(e) for e in exc.errors]
        else:
            _bump(key)
            request.session[f"demand-{demand.tracking_code}"] = True
            return redirect("demand_track", code=demand.tracking_code)
    context["errors"] = errors
    return render(request, "demands/new.html", context, status=400)


def _tracked(request, code: str) -> Demand:
    key = f"track-miss:{_ip(request)}"
    if _count(key) >= TRACK_LIMIT or not CODE.fullmatch(code):
        raise Http404
    demand = Demand.objects.filter(tracking_code=code.strip().upper()).select_related("category", "merged_into").first()
    if demand is None:
        _bump(key)
        raise Http404
    return demand


def demand_track(request, code: str | None = None):
    """The submitter's page, reached with the tracking code: status, public history, reopen/close, rating."""
    if code is None:
        wanted = request.GET.get("code", "").strip().upper()
        if CODE.fullmatch(wanted):
            return redirect("demand_track", code=wanted)
        if wanted:
            raise Http404
        return render(request, "demands/track_form.html", {})
    demand = _tracked(request, code)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "rate":
                services.demand_rate(
                    demand, rating=int(request.POST.get("rating") or 0), note=request.POST.get("note", "")
                )
                messages.success(request, _("Thank you for your rating."))
            elif action in (DemandStatus.CLOSED, DemandStatus.REOPENED):
                services.demand_transition(
                    demand,
                    to=action,
                    version=_version(request),
                    note=request.POST.get("note", ""),
                    submitter=True,
                )
                messages.success(request, _("Saved."))
            else:
                raise Http404
        except (services.DemandError, ValueError) as exc:
            error = str(exc)
        else:
            return redirect("demand_track", code=demand.tracking_code)
    return render(
        request,
        "demands/track.html",
        {
            "d": demand,
            "events": policy.tracking_events(demand),
            "may": services.allowed(demand, submitter=True),
            "error": error,
            "new": request.session.pop(f"demand-{demand.tracking_code}", False),
        },
        status=409 if error else 200,
    )


def _handler_scope(request):
    scope = request_scope(request)
    if not (
        scope.is_admin or scope.division_prefixes or scope.org_ids or scope.staff_company_ids or scope.platform_handler
    ):
        raise Http404
    return scope


@login_required
def demand_queue(request):
    scope = _handler_scope(request)
    rows = selectors.queue(
        scope=scope,
        status=request.GET.get("status", ""),
        category=request.GET.get("category", ""),
        overdue=request.GET.get("overdue") == "1",
        search=request.GET.get("q", "").strip(),
    )
    return render(
        request,
        "demands/queue.html",
        {
            "rows": rows[:500],
            "count": len(rows),
            "statuses": DemandStatus.choices,
            "categories": Category.objects.all(),
            "f": request.GET,
        },
    )


@login_required
@require_POST
def demand_bulk(request):
    """Bulk actions on the queue: accept, start, or merge the chosen demands into a collective demand."""
    scope = _handler_scope(request)
    ids = [int(i) for i in request.POST.getlist("ids")[:500] if DIGITS.fullmatch(i)]
    chosen = [d for d in selectors.demand_list(scope=scope).filter(pk__in=ids) if selectors.is_handler(scope, d)]
    # the version each row showed: without it the change is refused (someone may have changed it since)
    versions = {d.pk: int(v) if DIGITS.fullmatch(v := request.POST.get(f"v{d.pk}", "")) else 0 for d in chosen}
    action = request.POST.get("action", "")
    done, problems = 0, []
    if action == "merge":
        try:
            into = services.demand_merge(chosen, actor=request.user, versions=versions)
            messages.success(request, _("Merged into collective demand %(code)s.") % {"code": into.reference})
        except services.DemandError as exc:
            messages.error(request, str(exc))
        return redirect("demand_queue")
    if action not in (DemandStatus.ACCEPTED, DemandStatus.IN_PROGRESS):
        raise Http404
    for d in chosen:
        try:
            services.demand_transition(d, to=action, actor=request.user, version=versions[d.pk])
            done += 1
        except services.DemandError as exc:
            problems.append(f"{d.reference}: {exc}")
    messages.success(request, _("%(n)s demands changed.") % {"n": done})
    for p in problems:
        messages.error(request, p)
    return redirect("demand_queue")


@login_required
def demand_detail(request, pk: int):
    scope = request_scope(request)
    demand = get_or_404(selectors.demand_get, scope=scope, pk=pk)
    handler = selectors.is_handler(scope, demand)
    error = ""
    if request.method == "POST":
        if not handler:
            raise Http404
        action = request.POST.get("action", "")
        note = request.POST.get("note", "")
        try:
            if action == "note":
                services.demand_note(demand, actor=request.user, note=note, public=request.POST.get("public") == "1")
            elif action == "merge":
                ref = request.POST.get("into", "").strip().upper().removeprefix("D")
                into = selectors.demand_list(scope=scope).filter(pk=int(ref)).first() if DIGITS.fullmatch(ref) else None
                if into is None or not selectors.is_handler(scope, into):
                    raise services.DemandError(_("No demand with that number in your queue."))
                services.demand_merge(
                    [demand, into],
                    into=into,
                    actor=request.user,
                    versions={demand.pk: _version(request)},
                )
            else:
                services.demand_transition(demand, to=action, actor=request.user, version=_version(request), note=note)
        except services.StaleDemand:
            error = (
                _(
                    "Someone else changed this demand while you were looking at it. Nothing was saved; here is "
                    "its current state. Your note:"
                )
                + " "
                + note
            )
        except (services.DemandError, ValueError) as exc:
            error = str(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("demand_detail", pk=pk)
        demand = selectors.demand_get(scope=scope, pk=pk)
    events = demand.events.select_related("actor") if handler else demand.events.filter(public=True)
    return render(
        request,
        "demands/detail.html",
        {
            "d": demand,
            "identity": policy.demand_identity_for(scope, demand),
            "text": policy.demand_text_for(scope, demand),
            "address": policy.demand_text_for(scope, demand, demand.address),
            "rating_note": policy.demand_text_for(scope, demand, demand.rating_note),
            # the submitter and the member who entered it see what the tracking page shows, no more
            "events": [
                {
                    "e": e,
                    "who": policy.history_actor_for(scope, demand, e, handler=handler),
                    "note": policy.demand_text_for(scope, demand, e.note),
                }
                for e in events
            ],
            "handler": handler,
            "may": [(s, label) for s, label in DemandStatus.choices if s in services.allowed(demand)]
            if handler
            else [],
            "merged": demand.merged.all(),
            "attachments": demand.attachments.all(),
            "overdue": demand.is_open and demand.due_at < timezone.now(),
            "error": error,
        },
        status=409 if error else 200,
    )


def _version(request) -> int:
    v = request.POST.get("version", "")
    return int(v) if DIGITS.fullmatch(v) else 0


@login_required
def demand_photo(request, pk: int, attachment: int):
    scope = request_scope(request)
    demand = get_or_404(selectors.demand_get, scope=scope, pk=pk)
    a = get_or_404(Attachment.objects.get, pk=attachment, demand=demand)
    return FileResponse(a.file.open("rb"), content_type=a.content_type)


@login_required
def demand_stats(request):
    scope = _handler_scope(request)
    rows = selectors.demand_stats(scope=scope)
    return render(
        request,
        "demands/stats.html",
        {
            "rows": rows,
            "total": sum(r["total"] for r in rows),
            "open": sum(r["open"] for r in rows),
            "overdue": sum(r["overdue"] for r in rows),
            "open_statuses": OPEN_STATUSES,
        },
    )
