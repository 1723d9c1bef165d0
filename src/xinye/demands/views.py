"""Demand pages: intake on a phone (with or without login), the submitter's tracking page, the handlers'
queue with bulk actions, the demand page with its history, and the statistics."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.algorithms.errors import InputError
from xinye.common import idempotency, ratelimit
from xinye.common.views import get_or_404, paginate
from xinye.organizations.models import Company
from xinye.people.models import Person
from xinye.people.selectors import person_q
from xinye.places.models import Division, Level

from . import selectors, services
from .models import OPEN_STATUSES, STATUS_ACTIONS, Attachment, Category, Channel, Demand, DemandStatus, LiaisonPair

DIGITS = re.compile(r"[0-9]{1,18}")
CODE = re.compile(r"[0-9A-Za-z]{1,12}")


def _submit_limit(request):
    """The demand-submission limit of this caller: per account when logged in, else per address."""
    if request.user.is_authenticated:
        return "demand_user", f"u{request.user.pk}", ratelimit.rate_setting("demand_user")
    return "demand_anon", ratelimit.client_key(request), ratelimit.rate_setting("demand_anon")


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
        # one key per rendered form: sending it twice (a double tap, a retry) makes one demand
        "form_key": idempotency.form_key(request.POST.get("idem", "")),
    }
    if request.method != "POST" or request.POST.get("submit") != "1" or request.POST.get("place"):
        # a street chosen without script ("show the communities"): the same page, everything typed kept
        return render(request, "demands/new.html", context)
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
    scope_name, ident, rate = _submit_limit(request)
    form_key = post.get("idem", "")
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
                idempotency_key=services.idempotency_hash("web", form_key)
                if idempotency.FORM_KEY.fullmatch(form_key)
                else None,
                # counted inside the demand's transaction: concurrent submissions cannot all pass the limit
                admit=lambda: ratelimit.ensure(scope_name, ident, rate),
            )
        except ratelimit.RateLimited as exc:
            context["errors"] = [_("Too many demands from here in the last hour; please try again later.")]
            response = render(request, "demands/new.html", context, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except InputError as exc:
            errors += [str(e) for e in exc.errors]
        else:
            _remember(request, demand, new=True)
            return redirect("demand_track")
    context["errors"] = errors
    return render(request, "demands/new.html", context, status=400)


def demand_communities(request):
    """The community choice of a street, as the fragment the intake page swaps in when a street is chosen
    (static/xinye/app.js, data-fill), so that choosing a street does not reload the page (issue 16)."""
    street = request.GET.get("street", "")
    communities = (
        Division.objects.filter(level=Level.COMMUNITY, parent__code=street, parent__level=Level.STREET)
        if DIGITS.fullmatch(street)
        else []
    )
    return render(request, "demands/_community_field.html", {"communities": communities, "values": {}})


def _tracked(request, code: str) -> Demand:
    """The demand of a tracking code. Wrong codes are counted per client address (XINYE_RATES["track_miss"]);
    over the limit, that address's lookups are refused for the rest of the window, except the codes this
    browser has opened before, which always work. Other addresses are not affected."""
    if not CODE.fullmatch(code):
        raise Http404
    code = code.strip().upper()
    opened = [pk for pk in request.session.get(OPENED, []) if isinstance(pk, int)]
    known = bool(opened) and Demand.objects.filter(pk__in=opened, tracking_code=code).exists()
    ident, rate = ratelimit.client_key(request), ratelimit.rate_setting("track_miss")
    # a slot is taken before the lookup and given back for a right code: concurrent guesses cannot overrun it
    decision = None if known else ratelimit.hit("track_miss", ident, rate)
    if decision is not None and not decision.allowed:
        raise ratelimit.RateLimited(
            "track_miss",
            decision.retry_after,
            _("Too many wrong tracking codes from your network; please try again later."),
        )
    demand = Demand.objects.filter(tracking_code=code).select_related("category", "merged_into").first()
    if demand is None:
        raise Http404
    if decision is not None:
        ratelimit.give_back("track_miss", ident, rate)
    return demand


# The tracking code never travels in an address (addresses reach access logs, browser histories and
# Referer headers): it is posted in a form, and the session then remembers which demand it opened, for
# XINYE_SESSION_IDLE_MINUTES after its last use.
TRACKED = "xinye_tracked_demand"
OPENED = "xinye_opened_demands"


def _remember(request, demand: Demand, *, new: bool = False) -> None:
    request.session.cycle_key()  # the code opened something: a fresh session key, as at signing in
    request.session[TRACKED] = {"pk": demand.pk, "at": timezone.now().timestamp(), "new": new}
    # the demands this browser opened with their code open again even when its address is over the
    # wrong-guess limit (someone else behind the same network guessing cannot lock the submitter out)
    opened = [pk for pk in request.session.get(OPENED, []) if pk != demand.pk]
    request.session[OPENED] = [*opened, demand.pk][-20:]


def _remembered(request) -> Demand | None:
    data = request.session.get(TRACKED)
    now = timezone.now().timestamp()
    if not isinstance(data, dict) or now - data.get("at", 0) > settings.XINYE_SESSION_IDLE_MINUTES * 60:
        request.session.pop(TRACKED, None)
        return None
    demand = Demand.objects.filter(pk=data.get("pk")).select_related("category", "merged_into").first()
    if demand is not None:
        request.session[TRACKED] = {**data, "at": now, "new": False}
    return demand


@never_cache
def demand_track_form(request):
    """Enter the tracking code (posted, never in the address)."""
    if request.method == "POST":
        wanted = request.POST.get("code", "").strip().upper()
        if not CODE.fullmatch(wanted):
            error = _("A tracking code is 10 letters and digits.")
        else:
            try:
                demand = _tracked(request, wanted)
            except Http404:
                error = _("No demand has this tracking code.")
            else:
                _remember(request, demand)
                return redirect("demand_track")
        return render(request, "demands/track_form.html", {"error": error}, status=404)
    return render(request, "demands/track_form.html", {})


def demand_track_old_link(request, code: str):
    """An old link with the code in its address: it shows nothing and leads to the form."""
    return redirect("demand_track_form")


@never_cache
def demand_track(request):
    """The submitter's page, reached with the tracking code: status, public history, reopen/close, rating."""
    data = request.session.get(TRACKED)
    new = bool(isinstance(data, dict) and data.get("new"))
    demand = _remembered(request)
    if demand is None:
        messages.info(request, _("Enter your tracking code to follow your demand."))
        return redirect("demand_track_form")
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
            return redirect("demand_track")
    return render(
        request,
        "demands/track.html",
        {
            "d": demand,
            "events": policy.tracking_events(demand),
            "may": services.allowed(demand, submitter=True),
            "error": error,
            "new": new,
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
    page = paginate(request, rows)
    page.object_list = selectors.queue_rows(scope, page.object_list)
    return render(
        request,
        "demands/queue.html",
        {
            "rows": page,
            "page": page,
            "count": page.paginator.count,
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
                services.demand_transition(
                    demand,
                    to=action,
                    actor=request.user,
                    version=_version(request),
                    note=note,
                    note_public=request.POST.get("public") == "1",
                )
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
                    "note": policy.demand_text_for(scope, demand, policy.event_note_for(e, handler=handler)),
                }
                for e in events
            ],
            "handler": handler,
            "may": [(s, STATUS_ACTIONS[s]) for s, _label in DemandStatus.choices if s in services.allowed(demand)]
            if handler
            else [],
            "merged": demand.merged.all(),
            "attachments": demand.attachments.all() if policy.photos_visible(scope, demand) else [],
            "photos_hidden": 0 if policy.photos_visible(scope, demand) else demand.attachments.count(),
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
    if not policy.photos_visible(scope, demand):
        raise Http404
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
