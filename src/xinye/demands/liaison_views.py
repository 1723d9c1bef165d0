"""Pages of liaisons: assignment of workers to members (organizers, secretaries), a member's own workers and
contacts, a branch's contact rates. Anything out of the user's scope is a 404."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.disclosure import round_total, suppress_small, suppress_table
from xinye.common.errors import InputError
from xinye.common.forms import IsoDateField
from xinye.common.jobs import job_submit
from xinye.common.models import Job
from xinye.common.views import get_or_404, paginate
from xinye.people.models import Person
from xinye.people.selectors import person_q
from xinye.places.models import Level

from . import liaison
from . import tasks as _tasks  # noqa: F401  (registers the liaison_assign job)
from .models import ContactChannel, LiaisonPair

REASON_LABELS = {
    liaison.REASON_FAR: gettext_lazy("No member within %(km)s km"),
    liaison.REASON_FULL: gettext_lazy("Every member within %(km)s km already has as many workers as they can"),
    liaison.REASON_NO_CELL: gettext_lazy("No work area recorded"),
}
SHOWN = 200  # rows of a run's lists shown on its page


def _reason_label(code: str, km) -> str:
    label = REASON_LABELS.get(code)
    return str(label) % {"km": f"{km:g}"} if label is not None else code


# ----------------------------------------------------------------------------------------------- assignment


@login_required
def liaison_index(request):
    scope = request_scope(request)
    areas = liaison.liaison_areas(scope=scope)
    if not (areas["divisions"] or areas["organizations"]):
        if scope.person_id:
            return redirect("liaison_mine")
        raise Http404
    return render(request, "demands/liaison_index.html", {**areas, "has_person": bool(scope.person_id)})


def _area_page(request, area, *, title_object, run_url: str, children=()):
    counts = liaison.area_counts_shown(
        liaison.area_counts(area), in_scope=liaison.area_in_scope(request_scope(request), area)
    )
    key = "division_code" if area.kind == "division" else "organization_id"
    value = area.key if area.kind == "division" else int(area.key)
    runs = Job.objects.filter(kind="liaison_assign", **{f"params__{key}": value}).order_by("-created_at")[:5]
    return render(
        request,
        "demands/liaison_area.html",
        {
            "area": area,
            "object": title_object,
            "counts": counts,
            "quotas": liaison.quota_rows(area),
            "runs": runs,
            "run_url": run_url,
            "max_quota": liaison.MAX_QUOTA,
            "default_km": liaison.DEFAULT_MAX_KM,
            "children": children,
        },
    )


@login_required
def liaison_division(request, code: str):
    scope = request_scope(request)
    division = get_or_404(liaison.liaison_division_get, scope=scope, code=code)
    return _area_page(
        request,
        liaison.area_for_division(division),
        title_object=division,
        run_url=reverse("liaison_division_run", args=[division.code]),
        children=division.children.filter(level__in=[Level.CITY, Level.COUNTY, Level.STREET]).order_by("code"),
    )


@login_required
def liaison_organization(request, pk: int):
    scope = request_scope(request)
    organization = get_or_404(liaison.liaison_organization_get, scope=scope, pk=pk)
    return _area_page(
        request,
        liaison.area_for_organization(organization),
        title_object=organization,
        run_url=reverse("liaison_organization_run", args=[organization.pk]),
    )


def _submit(request, area):
    try:
        max_km = min(20.0, max(0.5, float(request.POST.get("max_km", liaison.DEFAULT_MAX_KM))))
    except (TypeError, ValueError):
        max_km = liaison.DEFAULT_MAX_KM
    j = job_submit(kind="liaison_assign", user=request.user, params={**area.params, "max_km": max_km})
    return redirect("job_detail", pk=j.pk)


@login_required
@require_POST
def liaison_division_run(request, code: str):
    scope = request_scope(request)
    division = get_or_404(liaison.liaison_division_get, scope=scope, code=code)
    return _submit(request, liaison.area_for_division(division))


@login_required
@require_POST
def liaison_organization_run(request, pk: int):
    scope = request_scope(request)
    organization = get_or_404(liaison.liaison_organization_get, scope=scope, pk=pk)
    return _submit(request, liaison.area_for_organization(organization))


@login_required
@require_POST
def liaison_quota(request, pk: int):
    scope = request_scope(request)
    organization = get_or_404(liaison.liaison_organization_get, scope=scope, pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("liaison_organization", args=[organization.pk])
    try:
        low, high = int(request.POST.get("min_load", "")), int(request.POST.get("max_load", ""))
    except ValueError:
        messages.error(request, _("Give the minimum and the maximum as whole numbers."))
        return redirect(back)
    try:
        liaison.quota_set(organization=organization, min_load=low, max_load=high, user=request.user)
    except InputError:
        messages.error(
            request,
            _("A quota needs 0 ≤ minimum ≤ maximum ≤ %(max)s; nothing was changed.") % {"max": liaison.MAX_QUOTA},
        )
    else:
        messages.success(
            request,
            _("%(org)s: each member keeps in touch with %(min)s to %(max)s workers.")
            % {"org": organization.name, "min": low, "max": high},
        )
    return redirect(back)


@login_required
def liaison_run(request, pk: int):
    """The result of an assignment job, for anyone who oversees its area."""
    scope = request_scope(request)
    job = get_or_404(Job.objects.filter(kind="liaison_assign", status=Job.Status.DONE).get, pk=pk)
    result = job.params.get("result")
    if not result:
        raise Http404
    params = {k: job.params[k] for k in ("division_code", "organization_id") if job.params.get(k)}
    area = get_or_404(liaison.area_from_params, scope=scope, **params)
    km = result.get("max_km", liaison.DEFAULT_MAX_KM)

    # counts of workers the viewer may not see one by one: small ones suppressed (common.disclosure)
    in_scope = liaison.area_in_scope(scope, area)
    by_reason = suppress_table({code: len(ids) for code, ids in result["unassigned"].items()}, in_scope=in_scope)
    unassigned_shown = suppress_small(result["unassigned_count"], in_scope=in_scope)
    hidden = unassigned_shown != result["unassigned_count"] or any(
        by_reason[c] != len(ids) for c, ids in result["unassigned"].items()
    )
    result = {
        **result,
        "unassigned_count": unassigned_shown,
        "workers": round_total(result["workers"], in_scope=in_scope, part_hidden=hidden),
    }
    # workers left without a liaison, by reason: names only of those the viewer may see
    groups = []
    for code, ids in result["unassigned"].items():
        head = ids[: 5 * SHOWN]
        visible = {
            p.pk: p for p in Person.objects.filter(person_q(scope), pk__in=head).select_related("work_community")
        }
        workers = [visible[i] for i in head if i in visible][:SHOWN]
        groups.append(
            {
                "code": code,
                "label": _reason_label(code, km),
                "count": by_reason[code],
                "workers": workers,
                # "and N more": only when the count itself is shown
                "more": len(ids) - len(workers) if by_reason[code] == len(ids) else 0,
            }
        )

    def pairs(ids):
        return list(
            LiaisonPair.objects.filter(liaison.liaison_q(scope), pk__in=ids[:SHOWN])
            .select_related("member", "worker")
            .order_by("member__name", "worker__name")
        )

    histogram = [(int(k), v) for k, v in result["load_histogram"].items()]
    top = max((v for _k, v in histogram), default=0) or 1
    return render(
        request,
        "demands/liaison_run.html",
        {
            "job": job,
            "area": area,
            "result": result,
            "km": km,
            "unassigned": groups,
            "new_pairs": pairs(result.get("new_ids", [])),
            "ended_pairs": pairs(result.get("ended_ids", [])),
            "histogram": [{"load": k, "members": v, "width": round(100 * v / top)} for k, v in histogram],
            "area_url": reverse("liaison_division", args=[area.key])
            if area.kind == "division"
            else reverse("liaison_organization", args=[int(area.key)]),
        },
    )


# ----------------------------------------------------------------------------------------------- a member's workers


@login_required
def liaison_mine(request):
    scope = request_scope(request)
    if not scope.person_id:
        raise Http404
    today = timezone.localdate()
    return render(
        request,
        "demands/liaison_mine.html",
        {"rows": liaison.my_workers(scope=scope, today=today), "today": today},
    )


class _DialRedirect(HttpResponseRedirect):
    """A redirect to the phone's dialer or messages app."""

    allowed_schemes = ["tel", "sms"]


@login_required
def worker_reach(request, worker: int, how: str):
    """Call (`how="tel"`) or message (`"sms"`) one of the member's own workers with one tap: the full number is
    revealed by the policy for this worker only, audited, and handed to the phone as a tel:/sms: redirect, so
    the list page never carries the members' workers' numbers. Anyone else's worker is a 404."""
    scope = request_scope(request)
    pair = get_or_404(liaison.my_worker_get, scope=scope, worker_id=worker)
    phone = policy.reveal_phone_for(scope, pair.worker)
    digits = "".join(ch for ch in phone if ch.isascii() and (ch.isdigit() or ch == "+"))
    if not digits:
        raise Http404
    response = _DialRedirect(f"{how}:{digits}")
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


class ContactForm(forms.Form):
    on = IsoDateField(label=gettext_lazy("Date"))
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=ContactChannel.choices)
    note = forms.CharField(
        label=gettext_lazy("Short note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500, "class": "wide"}),
    )
    follow_up_on = IsoDateField(label=gettext_lazy("Follow up on"), required=False)

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > self.today:
            raise forms.ValidationError(_("The date of a contact cannot be in the future."))
        return on

    def clean(self):
        data = super().clean()
        on, follow = data.get("on"), data.get("follow_up_on")
        if on and follow and follow < on:
            self.add_error("follow_up_on", _("The follow-up date cannot be before the date of the contact."))
        return data


@login_required
def contact_new(request, worker: int):
    """One of the member's workers: their contacts so far and a form to record a contact."""
    scope = request_scope(request)
    pair = get_or_404(liaison.my_worker_get, scope=scope, worker_id=worker)
    today = timezone.localdate()
    if request.method == "POST":
        form = ContactForm(request.POST, today=today)
        if form.is_valid():
            d = form.cleaned_data
            try:
                liaison.contact_record(
                    scope=scope,
                    worker_id=pair.worker_id,
                    on=d["on"],
                    channel=d["channel"],
                    note=d["note"],
                    follow_up_on=d["follow_up_on"],
                    user=request.user,
                    today=today,
                )
            except InputError as exc:  # the form checks the same; kept for a clear message if they differ
                for e in exc.errors:
                    form.add_error(e.column if e.column in form.fields else None, e.message)
            else:
                messages.success(request, _("The contact with %(name)s was recorded.") % {"name": pair.worker.name})
                return redirect("liaison_mine")
    else:
        form = ContactForm(initial={"on": today, "channel": ContactChannel.IN_PERSON}, today=today)
    worker_obj = pair.worker
    return render(
        request,
        "demands/contact_form.html",
        {
            "pair": pair,
            "worker": worker_obj,
            "phone": policy.phone_for(scope, worker_obj),
            "phone_full": policy.sees_full_phone(scope),
            "form": form,
            "contacts": liaison.my_contacts(scope=scope, worker_id=worker_obj.pk)[:50],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# ----------------------------------------------------------------------------------------------- a branch's rates


@login_required
def liaison_branch(request, pk: int):
    scope = request_scope(request)
    organization = get_or_404(liaison.liaison_organization_get, scope=scope, pk=pk)
    today = timezone.localdate()
    data = liaison.branch_contact_rates(organization=organization, today=today)
    # the totals stay those of the whole organization; the table is searched, filtered and paged
    q = request.GET.get("q", "").strip()[:100]
    overdue = request.GET.get("overdue") == "1"
    rows = [r for r in data.pop("rows") if (not q or q in r["member"].name) and (not overdue or r["overdue"])]
    page = paginate(request, rows)
    return render(
        request,
        "demands/liaison_branch.html",
        {"organization": organization, "today": today, "rows": page, "page": page, "q": q, "overdue": overdue, **data},
    )
