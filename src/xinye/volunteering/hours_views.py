"""Pages of hours, points, certificates and exports (issue 14, items 4-5), phone first.

Thin: reads through `selectors` (scoped by `accounts.policy.hours_q`, `activities_run_q`, `points_stations_q`),
writes through `hours`. Anything out of the user's scope, or an action the policy does not allow, is a 404.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.views import get_or_404, paginate
from xinye.people.models import Person
from xinye.stations.models import Station

from . import certificates, exports, hours, passes, selectors
from .models import HoursRecord, HoursStatus, Signup, TeamMembership, TeamMembershipStatus
from .services import NotAllowed, Refused
from .views import _aware, _int, _person

# ---------------------------------------------------------------------------------------------- my hours


@login_required
def my_hours(request):
    """The volunteer's hours: recorded and awarded, each with its review; totals; the certificate."""
    scope = request_scope(request)
    if not scope.person_id:
        raise Http404
    records = selectors.hours_of_person(person_id=scope.person_id)
    return render(
        request,
        "volunteering/my_hours.html",
        {
            "page": paginate(request, records),
            "totals": selectors.hours_totals(records),
            "balance": hours.points_balance(scope.person_id),
        },
    )


@login_required
def my_certificate(request):
    """The certificate of the volunteer's approved hours, a printable page in Chinese."""
    person = _person(request)
    if person is None:
        raise Http404
    data = certificates.certificate_data(person)
    return HttpResponse(certificates.certificate_html(data, request=request))


@login_required
def my_certificate_pdf(request):
    person = _person(request)
    if person is None:
        raise Http404
    pdf = certificates.certificate_pdf(certificates.certificate_data(person))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"volunteer-certificate-{timezone.localdate():%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------------------------------------- my points


@login_required
def my_points(request):
    """The volunteer's points: the balance, what expires when, the ledger, and the code to show at a station
    (a QR code and a short code; app.js fetches the next one when it ends, `?fragment=1`)."""
    import segno

    scope = request_scope(request)
    if not scope.person_id:
        raise Http404
    now = timezone.now()
    code = passes.current(scope.person_id, now)
    address = request.build_absolute_uri(reverse("points_redeem")) + f"?t={code.token}"
    qr = segno.make(address, error="m").svg_inline(
        scale=5, border=2, dark="#111", light="#fff", svgclass="qr", title=_("Show this at a station to redeem points")
    )
    context = {"code": code, "qr": qr, "window": passes.WINDOW_SECONDS}
    if request.GET.get("fragment") == "1":
        return render(request, "volunteering/_points_code.html", context)
    context.update(
        {
            "balance": hours.points_balance(scope.person_id),
            "expiring": hours.points_expiring(scope.person_id),
            "ledger": selectors.points_ledger(person_id=scope.person_id),
            "rate": hours.points_per_hour(),
        }
    )
    return render(request, "volunteering/my_points.html", context)


# ---------------------------------------------------------------------------------------------- review


@login_required
def hours_review_list(request):
    """Pending hours of the activities the viewer runs (not their own, not those they awarded), oldest first."""
    scope = request_scope(request)
    qs = selectors.hours_to_review(scope=scope)
    activity_id = _int(request.GET.get("activity"))
    if activity_id:
        qs = qs.filter(activity_id=activity_id)
    return render(request, "volunteering/hours_review.html", {"page": paginate(request, qs), "activity": activity_id})


@login_required
@require_POST
def hours_decide(request, pk: int):
    scope = request_scope(request)
    record = get_or_404(selectors.hours_get, scope=scope, pk=pk)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "decline"):
        raise Http404
    try:
        hours.hours_review(
            scope=scope,
            actor=request.user,
            record=record,
            approve=decision == "approve",
            note=request.POST.get("note", ""),
        )
    except NotAllowed as exc:
        raise Http404 from exc
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Approved.") if decision == "approve" else _("Declined."))
    back = reverse("hours_review")
    if _int(request.POST.get("activity")):
        back += f"?activity={_int(request.POST.get('activity'))}"
    return redirect(back)


# ---------------------------------------------------------------------------------------------- award


def _volunteers_of(activity) -> list[Person]:
    """People who may be awarded hours on the activity: signed up for a shift, or in its team."""
    signed = Signup.objects.filter(shift__activity=activity, status__in=("confirmed", "waitlisted")).values("person_id")
    q = Q(pk__in=signed)
    if activity.team_id:
        members = TeamMembership.objects.filter(team_id=activity.team_id, status=TeamMembershipStatus.APPROVED)
        q |= Q(pk__in=members.values("person_id"))
    return list(Person.objects.filter(q).order_by("name", "pk")[:500])


@login_required
def hours_award(request, pk: int):
    """Award hours on an activity with a reason (whoever runs it)."""
    scope = request_scope(request)
    activity = get_or_404(selectors.activity_get, scope=scope, pk=pk)
    if not policy.may_award_hours(scope, activity):
        raise Http404
    people = _volunteers_of(activity)
    values = request.POST if request.method == "POST" else {}
    error = None
    if request.method == "POST":
        person = next((p for p in people if p.pk == _int(values.get("person"))), None)
        try:
            if person is None:
                raise Refused(_("Choose the volunteer."), field="person")
            starts = _aware(values.get("day", ""), values.get("start", ""))
            ends = _aware(values.get("day", ""), values.get("end", ""))
            if ends <= starts:  # past midnight: the next day
                ends += timedelta(days=1)
            hours.hours_award(
                scope=scope,
                actor=request.user,
                activity=activity,
                person=person,
                starts_at=starts,
                ends_at=ends,
                reason=values.get("reason", ""),
            )
        except NotAllowed as exc:
            raise Http404 from exc
        except Refused as exc:
            error = exc.message
        else:
            messages.success(request, _("The hours were added; another person who runs the activity reviews them."))
            return redirect("activity_detail", pk=activity.pk)
    return render(
        request,
        "volunteering/hours_award.html",
        {"activity": activity, "people": people, "values": values, "error": error, "today": timezone.localdate()},
    )


# ---------------------------------------------------------------------------------------------- redeem


@login_required
def points_redeem(request):
    """At a station: the operator scans the volunteer's QR code (it opens this page with `?t=`) or types the
    short code, sees who it is and their balance, and redeems an amount."""
    scope = request_scope(request)
    stations = list(Station.objects.filter(policy.points_stations_q(scope)).order_by("name", "pk")[:200])
    if not stations:
        raise Http404
    values = request.POST if request.method == "POST" else request.GET
    code = (values.get("t") or values.get("code") or "").strip()[:60]
    error = None
    if request.method == "POST":
        station = next((s for s in stations if s.pk == _int(values.get("station"))), None)
        if station is None:
            raise Http404
        try:
            entry = hours.points_redeem(
                scope=scope,
                actor=request.user,
                station=station,
                code=code,
                points=_int(values.get("points")) or 0,
                note=values.get("note", ""),
            )
        except NotAllowed as exc:
            raise Http404 from exc
        except Refused as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("%(points)s points redeemed for %(name)s; %(left)s left.")
                % {
                    "points": -entry.points,
                    "name": entry.person.name,
                    "left": hours.points_balance(entry.person_id),
                },
            )
            return redirect(reverse("points_redeem") + f"?station={station.pk}")
    holder = None
    if code and error is None:  # a code just refused is not counted twice
        try:
            holder = hours.pass_person(code, reader=request.user)
        except Refused as exc:
            error = exc.message
    if code and holder is None and error is None:
        error = _("This code is not valid (any more): ask the volunteer for the code shown now.")
    return render(
        request,
        "volunteering/redeem.html",
        {
            "stations": stations,
            "station_id": _int(values.get("station")) or stations[0].pk,
            "code": code if holder is not None else "",
            "holder": holder,
            "balance": hours.points_balance(holder.pk) if holder is not None else None,
            "values": values,
            "error": error,
        },
    )


# ---------------------------------------------------------------------------------------------- exports


def _export(records, scope, fmt: str, name: str) -> HttpResponse:
    data = exports.rows(scope, records)
    stamp = f"{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.to_xlsx(data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    return response


def _approved(scope):
    return (
        HoursRecord.objects.filter(policy.hours_q(scope), status=HoursStatus.APPROVED)
        .select_related("person", "activity__team__organization", "activity__organization")
        .order_by("starts_at", "pk")
    )


@login_required
def team_hours_export(request, pk: int, fmt: str):
    """A team's approved hours (its activities') for the national volunteer system: its leaders."""
    scope = request_scope(request)
    team = get_or_404(selectors.team_get, scope=scope, pk=pk)
    if fmt not in ("csv", "xlsx") or not policy.may_lead_team(scope, team):
        raise Http404
    return _export(_approved(scope).filter(activity__team=team), scope, fmt, f"team-{team.pk}-hours")


@login_required
def activity_hours_export(request, pk: int, fmt: str):
    """An activity's approved hours: whoever runs it."""
    scope = request_scope(request)
    activity = get_or_404(selectors.activity_get, scope=scope, pk=pk)
    if fmt not in ("csv", "xlsx") or not policy.may_run_activity(scope, activity):
        raise Http404
    return _export(_approved(scope).filter(activity=activity), scope, fmt, f"activity-{activity.pk}-hours")
