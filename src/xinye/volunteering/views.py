"""Pages of volunteering (issue 14), phone first: teams and posts; activities, shifts, sign-up; check-in.

Thin: reads through `selectors` (scoped by accounts.policy), writes through `services`. Anything out of the
user's scope, or an action the policy does not allow, is a 404.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinye.accounts import policy
from xinye.accounts.navigation import oversees
from xinye.accounts.scope import request_scope
from xinye.common.forms import IsoDateField
from xinye.common.views import get_or_404, paginate
from xinye.organizations.models import BusinessUnit, Company, UnitKind
from xinye.organizations.selectors import company_q, organization_list
from xinye.people.models import Person
from xinye.people.selectors import person_list
from xinye.places.models import Division, Level
from xinye.stations.selectors import station_list

from . import selectors, services
from .models import ActivityKind, Attendance, CalendarFeed, PostKind, SignupStatus, Team, TeamMembershipStatus
from .phone import actor, via, volunteer_required
from .services import NotAllowed, Refused

#: people offered in a picker at once (narrowed by a name search)
PICK_LIMIT = 50
#: business units where a post stands (the company's places workers go to, not its regions and lines)
UNIT_KINDS = (UnitKind.STATION, UnitKind.FLEET, UnitKind.PARK, UnitKind.TEAM)


def _person(request) -> Person | None:
    scope = request_scope(request)
    return Person.objects.filter(pk=scope.person_id).first() if scope.person_id else None


def _int(value) -> int | None:
    value = (value or "").strip() if isinstance(value, str) else value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _community(code: str) -> Division | None:
    code = (code or "").strip()
    if not code:
        return None
    found = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
    if found is None:
        raise Refused(_("No community has the code %(code)s.") % {"code": code}, field="community")
    return found


# ---------------------------------------------------------------------------------------------- home


@volunteer_required
def volunteering_index(request):
    """The volunteer's page: my teams and shifts, teams near me, current posts; for leaders and organizers the
    teams they see."""
    scope = request_scope(request)
    context = {
        "my_teams": selectors.my_teams(person_id=scope.person_id),
        "to_join": selectors.teams_to_join(scope=scope),
        "has_person": bool(scope.person_id),
        "may_set_up": selectors.may_set_up(scope),
        "teams_count": selectors.team_list(scope=scope).count() if selectors.may_set_up(scope) else 0,
        "posts": selectors.post_list(scope=scope)[:10],
        "oversees": oversees(scope),
    }
    context.update(_index_activities(request, scope))
    context.update(_index_hours(scope))
    return render(request, "volunteering/index.html", context)


def _index_activities(request, scope) -> dict:
    """The volunteer's own shifts and the activities they may join."""
    return {
        "my_signups": selectors.my_signups(person_id=scope.person_id) if scope.person_id else None,
        "activities": selectors.activity_list(scope=scope)[:10],
        "may_organize": _may_organize_any(scope),
    }


def _index_hours(scope) -> dict:
    """Hours waiting for the viewer's review, and whether they redeem points at a station."""
    from xinye.stations.models import Station

    return {
        "to_review": selectors.hours_to_review(scope=scope).count(),
        "redeems": Station.objects.filter(policy.points_stations_q(scope)).exists(),
    }


# ---------------------------------------------------------------------------------------------- teams


@volunteer_required
def team_index(request):
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()[:100]
    show = request.GET.get("show", "")
    teams = selectors.team_list(scope=scope, search=q, active=show != "all").order_by("name", "pk")
    return render(
        request,
        "volunteering/team_list.html",
        {"page": paginate(request, teams), "q": q, "show": show, "may_set_up": selectors.may_set_up(scope)},
    )


def _people_to_pick(scope, who: str, *, members_only: bool = False):
    return list(person_list(scope=scope, search=who, members_only=members_only).order_by("name", "pk")[:PICK_LIMIT])


def _manageable_places(scope):
    organizations = [
        o
        for o in organization_list(scope=scope).order_by("name")[:500]
        if policy.may_manage_team(scope, Team(organization=o))
    ]
    stations = list(station_list(scope=scope)[:500])
    return organizations, stations


@login_required
def team_new(request):
    scope = request_scope(request)
    if not selectors.may_set_up(scope):
        raise Http404
    organizations, stations = _manageable_places(scope)
    who = request.GET.get("who", "").strip()[:50]
    values = request.POST if request.method == "POST" else {}
    error = None
    if request.method == "POST":
        try:
            kind = values.get("place_kind", "")
            org_id, station_id = _int(values.get("organization")), _int(values.get("station"))
            organization = next((o for o in organizations if o.pk == org_id), None) if kind == "organization" else None
            station = next((s for s in stations if s.pk == station_id), None) if kind == "station" else None
            community = _community(values.get("community", "")) if kind == "community" else None
            leader_id = _int(values.get("leader"))
            leader = None
            if leader_id:
                leader = person_list(scope=scope).filter(pk=leader_id).first()
                if leader is None:
                    raise Http404
            team = services.team_create(
                scope=scope,
                actor=request.user,
                name=values.get("name", ""),
                organization=organization,
                station=station,
                community=community,
                description=values.get("description", ""),
                leader=leader,
            )
        except Refused as exc:
            error = exc.message
        else:
            messages.success(request, _("The team was set up."))
            return redirect("team_detail", pk=team.pk)
    return render(
        request,
        "volunteering/team_form.html",
        {
            "organizations": organizations,
            "stations": stations,
            "people": _people_to_pick(scope, who),
            "who": who,
            "values": values,
            "error": error,
        },
    )


@volunteer_required
def team_detail(request, pk: int):
    scope = request_scope(request)
    team = get_or_404(selectors.team_get, scope=scope, pk=pk)
    roster = selectors.team_roster(scope=scope, team=team)
    context = {
        "team": team,
        "roster": roster,
        "has_person": bool(scope.person_id),
        "posts": selectors.post_list(scope=scope).filter(team=team),
    }
    context.update(_team_activities(request, scope, team, roster))
    return render(request, "volunteering/team_detail.html", context)


def _team_activities(request, scope, team, roster) -> dict:
    """The team's activities (those the viewer may see) and, for its leaders, its calendar address."""
    activities = selectors.activity_list(scope=scope, when="all").filter(team=team)
    return {
        "activities": list(activities[:30]),
        "team_feed": selectors.active_feed(team=team) if roster["leads"] else None,
    }


@volunteer_required
@require_POST
def team_join(request, pk: int):
    scope = request_scope(request)
    team = get_or_404(selectors.team_get, scope=scope, pk=pk)
    try:
        m = services.team_join_request(
            person=_person(request), team=team, note=request.POST.get("note", ""), via=via(request)
        )
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        if m.status == TeamMembershipStatus.REQUESTED:
            messages.success(request, _("You asked to join; a leader of the team will answer."))
    return redirect("team_detail", pk=team.pk)


@volunteer_required
@require_POST
def team_leave(request, pk: int):
    scope = request_scope(request)
    team = get_or_404(selectors.team_get, scope=scope, pk=pk)
    if services.team_leave(person=_person(request), team=team, via=via(request)) is not None:
        messages.success(request, _("You are no longer in this team."))
    return redirect("team_detail", pk=team.pk)


@login_required
@require_POST
def team_request_decide(request, pk: int):
    scope = request_scope(request)
    membership = get_or_404(selectors.team_membership_get, scope=scope, pk=pk)
    try:
        services.team_request_decide(
            scope=scope,
            actor=request.user,
            membership=membership,
            approve=request.POST.get("approve") == "1",
            note=request.POST.get("note", ""),
        )
    except NotAllowed as exc:
        raise Http404 from exc
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("team_detail", pk=membership.team_id)


@login_required
@require_POST
def team_leader(request, pk: int):
    scope = request_scope(request)
    membership = get_or_404(selectors.team_membership_get, scope=scope, pk=pk)
    try:
        services.team_leader_set(
            scope=scope, actor=request.user, membership=membership, leader=request.POST.get("leader") == "1"
        )
    except NotAllowed as exc:
        raise Http404 from exc
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("team_detail", pk=membership.team_id)


@login_required
@require_POST
def team_dissolve(request, pk: int):
    scope = request_scope(request)
    team = get_or_404(selectors.team_get, scope=scope, pk=pk)
    try:
        services.team_dissolve(scope=scope, team=team)
    except NotAllowed as exc:
        raise Http404 from exc
    messages.success(request, _("The team was dissolved."))
    return redirect("team_detail", pk=team.pk)


# ---------------------------------------------------------------------------------------------- posts


@volunteer_required
def post_index(request):
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()[:100]
    show = request.GET.get("show", "")
    posts = selectors.post_list(scope=scope, current=show != "all", search=q)
    page = paginate(request, posts)
    page.object_list = [(p, policy.may_manage_post(scope, p)) for p in page.object_list]
    return render(
        request,
        "volunteering/post_list.html",
        {"page": page, "q": q, "show": show, "may_set_up": selectors.may_set_up(scope)},
    )


class PostForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PostKind.choices)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    duty = forms.CharField(label=gettext_lazy("Duty"), widget=forms.Textarea(attrs={"rows": 3}))
    starts_on = IsoDateField(label=gettext_lazy("From"))
    ends_on = IsoDateField(label=gettext_lazy("Until (empty: open)"), required=False)


@login_required
def post_new(request):
    scope = request_scope(request)
    if not selectors.may_set_up(scope):
        raise Http404
    who = request.GET.get("who", "").strip()[:50]
    people = _people_to_pick(scope, who, members_only=True)
    teams = list(selectors.team_list(scope=scope).order_by("name")[:500])
    stations = list(station_list(scope=scope)[:500])
    units = list(
        BusinessUnit.objects.filter(
            company__in=Company.objects.filter(company_q(scope)).values("pk"),
            valid_until__isnull=True,
            kind__in=UNIT_KINDS,
        )
        .select_related("company", "division")
        .order_by("company__name", "name")[:500]
    )
    values = request.POST if request.method == "POST" else {}
    form = PostForm(request.POST or None, initial={"starts_on": timezone.localdate(), "kind": PostKind.VANGUARD})
    error = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            holder = values.get("holder_kind", "")
            person = team = None
            if holder == "person":
                person = person_list(scope=scope).filter(pk=_int(values.get("person")) or 0).first()
                if person is None:
                    raise Refused(_("Choose the member who holds the post."), field="holder")
            elif holder == "team":
                team = next((t for t in teams if t.pk == _int(values.get("team"))), None)
                if team is None:
                    raise Refused(_("Choose the team that holds the post."), field="holder")
            kind = values.get("place_kind", "")
            station = next((s for s in stations if s.pk == _int(values.get("station"))), None)
            unit = None
            if kind == "business_unit":
                unit = next((u for u in units if u.pk == _int(values.get("business_unit"))), None)
                if unit is None:
                    raise Refused(_("Choose the business unit."), field="business_unit")
            post = services.vanguard_post_create(
                scope=scope,
                actor=request.user,
                kind=d["kind"],
                title=d["title"],
                duty=d["duty"],
                starts_on=d["starts_on"],
                ends_on=d["ends_on"],
                person=person,
                team=team,
                station=station if kind == "station" else None,
                community=_community(values.get("community", "")) if kind == "community" else None,
                business_unit=unit,
            )
        except Refused as exc:
            error = exc.message
        else:
            messages.success(request, _("The post was appointed."))
            return redirect("post_detail", pk=post.pk)
    return render(
        request,
        "volunteering/post_form.html",
        {
            "form": form,
            "people": people,
            "who": who,
            "teams": teams,
            "stations": stations,
            "units": units,
            "values": values,
            "error": error,
        },
    )


@volunteer_required
def post_detail(request, pk: int):
    scope = request_scope(request)
    post = get_or_404(selectors.post_get, scope=scope, pk=pk)
    if request.method == "POST":
        raw = request.POST.get("on", "")
        try:
            on = date.fromisoformat(raw) if raw else None
            services.vanguard_post_end(scope=scope, post=post, on=on)
        except ValueError:
            messages.error(request, _("A date is written YYYY-MM-DD."))
        except NotAllowed as exc:
            raise Http404 from exc
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The post was ended."))
        return redirect("post_detail", pk=post.pk)
    party = policy.party_members_among(scope, [post.person_id] if post.person_id else [])
    return render(
        request,
        "volunteering/post_detail.html",
        {
            "post": post,
            "may_manage": policy.may_manage_post(scope, post),
            "holder_is_member": post.person_id in party,
            "today": timezone.localdate(),
        },
    )


# ---------------------------------------------------------------------------------------------- activities


def _teams_led(scope) -> list[Team]:
    teams = selectors.team_list(scope=scope).order_by("name")[:500]
    return [t for t in teams if policy.may_lead_team(scope, t)]


def _organizations_for(scope) -> list:
    return [
        o
        for o in organization_list(scope=scope).order_by("name")[:500]
        if policy.may_organize_for(scope, organization=o)
    ]


def _may_organize_any(scope) -> bool:
    if selectors.may_set_up(scope):
        return True
    return bool(scope.person_id) and any(m.leader for m in selectors.my_teams(person_id=scope.person_id))


@volunteer_required
def activity_index(request):
    scope = request_scope(request)
    when = request.GET.get("when", "upcoming")
    when = when if when in ("upcoming", "past", "all") else "upcoming"
    kind = request.GET.get("kind", "")
    kind = kind if kind in ActivityKind.values else ""
    return render(
        request,
        "volunteering/activity_list.html",
        {
            "page": paginate(request, selectors.activity_list(scope=scope, when=when, kind=kind)),
            "when": when,
            "kind": kind,
            "kinds": ActivityKind.choices,
            "may_organize": _may_organize_any(scope),
        },
    )


def _aware(day: str, clock: str):
    """A timezone-aware datetime from a date input (YYYY-MM-DD) and a time input (HH:MM), local time."""
    try:
        value = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except (ValueError, AttributeError):
        raise Refused(_("Give the date as YYYY-MM-DD and the time as HH:MM."), field="when") from None
    return timezone.make_aware(value)


def _shift_times(values) -> tuple:
    starts = _aware(values.get("day", ""), values.get("start", ""))
    ends = _aware(values.get("day", ""), values.get("end", ""))
    if ends <= starts:  # a shift past midnight ends the next day
        ends += timedelta(days=1)
    capacity = _int(values.get("capacity"))
    if capacity is None:
        raise Refused(_("A shift has from 1 to 1000 places."), field="capacity")
    return starts, ends, capacity


@login_required
def activity_new(request):
    scope = request_scope(request)
    if not _may_organize_any(scope):
        raise Http404
    teams = _teams_led(scope)
    organizations = _organizations_for(scope)
    stations = list(station_list(scope=scope)[:500])
    values = request.POST if request.method == "POST" else request.GET
    if request.method != "POST" and "radius" not in values and settings.XINYE_CHECK_IN_RADIUS_M:
        # a check-in distance unless the organizer clears it: a photographed check-in code then works only
        # near the place (security.md)
        values = values.copy()
        values["radius"] = str(settings.XINYE_CHECK_IN_RADIUS_M)
    error = None
    if request.method == "POST":
        try:
            team = next((t for t in teams if t.pk == _int(values.get("team"))), None)
            organization = next((o for o in organizations if o.pk == _int(values.get("organization"))), None)
            kind = values.get("place_kind", "")
            station = next((x for x in stations if x.pk == _int(values.get("station"))), None)
            radius = _int(values.get("radius"))
            starts, ends, capacity = _shift_times(values)
            with transaction.atomic():
                activity = services.activity_create(
                    scope=scope,
                    actor=request.user,
                    title=values.get("title", ""),
                    kind=values.get("kind", ""),
                    team=team,
                    organization=organization,
                    station=station if kind == "station" else None,
                    community=_community(values.get("community", "")) if kind == "community" else None,
                    address=values.get("address", ""),
                    description=values.get("description", ""),
                    open_nearby=values.get("open_nearby") == "1",
                    check_in_radius_m=radius,
                )
                services.shift_add(
                    scope=scope, actor=request.user, activity=activity, starts_at=starts, ends_at=ends,
                    capacity=capacity,
                )  # fmt: skip
        except NotAllowed as exc:
            error = exc.message
        except Refused as exc:
            error = exc.message
        else:
            messages.success(request, _("The activity was set up."))
            return redirect("activity_detail", pk=activity.pk)
    return render(
        request,
        "volunteering/activity_form.html",
        {
            "teams": teams,
            "organizations": organizations,
            "stations": stations,
            "kinds": ActivityKind.choices,
            "values": values,
            "error": error,
            "today": timezone.localdate(),
            "is_post": request.method == "POST",
        },
    )


@volunteer_required
def activity_detail(request, pk: int):
    scope = request_scope(request)
    activity = get_or_404(selectors.activity_get, scope=scope, pk=pk)
    runs = policy.may_run_activity(scope, activity)
    if request.method == "POST":
        if not runs:
            raise Http404
        try:
            if request.POST.get("action") == "cancel":
                services.activity_cancel(scope=scope, activity=activity)
                messages.success(request, _("The activity was cancelled."))
            else:
                starts, ends, capacity = _shift_times(request.POST)
                services.shift_add(
                    scope=scope, actor=request.user, activity=activity, starts_at=starts, ends_at=ends,
                    capacity=capacity,
                )  # fmt: skip
                messages.success(request, _("The shift was added."))
        except Refused as exc:
            messages.error(request, exc.message)
        return redirect("activity_detail", pk=activity.pk)
    return render(
        request,
        "volunteering/activity_detail.html",
        {
            "activity": activity,
            "shifts": selectors.shifts_of(activity=activity, person_id=scope.person_id),
            "runs": runs,
            "has_person": bool(scope.person_id),
            "today": timezone.localdate(),
        },
    )


@volunteer_required
def shift_detail(request, pk: int):
    scope = request_scope(request)
    shift = get_or_404(selectors.shift_get, scope=scope, pk=pk)
    runs = policy.may_run_activity(scope, shift.activity)
    if request.method == "POST":
        if not runs:
            raise Http404
        try:
            promoted = services.shift_capacity_set(
                scope=scope, actor=request.user, shift=shift, capacity=_int(request.POST.get("capacity")) or 0
            )
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Places changed; %(n)s moved up from the waiting list.") % {"n": len(promoted)})
        return redirect("shift_detail", pk=shift.pk)
    own = selectors.own_signup(person_id=scope.person_id, shift=shift)
    context = {
        "shift": shift,
        "activity": shift.activity,
        "own": own,
        "position": services.waiting_position(own) if own is not None else None,
        "runs": runs,
        "roster": selectors.shift_roster(shift=shift) if runs else None,
        "has_person": bool(scope.person_id),
        "open": shift.cancelled_at is None and shift.activity.cancelled_at is None and shift.starts_at > timezone.now(),
    }
    context.update(_shift_attendance(request, scope, shift, own, runs))
    return render(request, "volunteering/shift_detail.html", context)


def _shift_attendance(request, scope, shift, own, runs) -> dict:
    """Check-in and check-out on the shift's page: the volunteer's own (type the code), and for those who run the
    activity everyone's, with check-in by hand."""
    now = timezone.now()
    mine = Attendance.objects.filter(shift=shift, person_id=scope.person_id).first() if scope.person_id else None
    rows = []
    if runs:
        atts = {a.person_id: a for a in shift.attendances.all()}
        roster = selectors.shift_roster(shift=shift)
        rows = [(s, atts.get(s.person_id)) for s in roster["confirmed"] + roster["waiting"]]
    return {
        "attendance_panel": bool((own is not None and own.status == SignupStatus.CONFIRMED) or mine or runs),
        "mine": mine,
        "check_open": services.check_open(shift, now),
        "needs_location": bool(shift.activity.check_in_radius_m and shift.activity.location),
        "attendance_rows": rows,
        "min_share": int(round(100 * float(settings.XINYE_VOLUNTEER_MIN_SHARE))),
        "now_local": timezone.localtime(now),
    }


@volunteer_required
@require_POST
def shift_signup(request, pk: int):
    scope = request_scope(request)
    shift = get_or_404(selectors.shift_get, scope=scope, pk=pk)
    try:
        s = services.signup_create(person=_person(request), shift=shift, via=via(request))
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        if s.status == SignupStatus.CONFIRMED:
            messages.success(request, _("You are signed up."))
        else:
            messages.success(
                request,
                _("The shift is full: you are number %(n)s on the waiting list.") % {"n": services.waiting_position(s)},
            )
    return redirect(_next(request, shift))


@volunteer_required
@require_POST
def shift_cancel(request, pk: int):
    scope = request_scope(request)
    shift = get_or_404(selectors.shift_get, scope=scope, pk=pk)
    own = selectors.own_signup(person_id=scope.person_id, shift=shift)
    if own is None:
        raise Http404
    try:
        services.signup_cancel(signup=own, via=via(request))
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your sign-up was cancelled."))
    return redirect(_next(request, shift))


def _next(request, shift) -> str:
    """Back to the activity's page when the button was on it, else to the shift's page."""
    from django.urls import reverse

    if request.POST.get("back") == "activity":
        return reverse("activity_detail", args=[shift.activity_id])
    return reverse("shift_detail", args=[shift.pk])


# ---------------------------------------------------------------------------------------------- calendars


def _feed_url(request, token: str) -> str:
    from django.urls import reverse

    return request.build_absolute_uri(reverse("calendar_feed", args=[token]))


@volunteer_required
def my_calendar(request):
    """The volunteer's private calendar address: made (shown once), made again, or revoked."""
    scope = request_scope(request)
    person = _person(request)
    if person is None:
        raise Http404
    url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.feed_revoke(person=person)
            messages.success(request, _("The calendar address no longer works."))
            return redirect("my_calendar")
        url = _feed_url(request, services.feed_create(actor=actor(request), person=person))
    return render(
        request,
        "volunteering/calendar.html",
        {"feed": selectors.active_feed(person=person), "url": url, "team": None, "scope_person": scope.person_id},
    )


@login_required
def team_calendar(request, pk: int):
    """A team's calendar address, for its leaders to hand to the team."""
    scope = request_scope(request)
    team = get_or_404(selectors.team_get, scope=scope, pk=pk)
    if not policy.may_lead_team(scope, team):
        raise Http404
    url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.feed_revoke(team=team)
            messages.success(request, _("The calendar address no longer works."))
            return redirect("team_calendar", pk=team.pk)
        url = _feed_url(request, services.feed_create(actor=request.user, team=team))
    return render(
        request, "volunteering/calendar.html", {"feed": selectors.active_feed(team=team), "url": url, "team": team}
    )


def calendar_feed(request, token: str):
    """The feed itself, for calendar apps (no sign-in: the address is the key). Unknown or revoked: 404."""
    from xinye.volunteering import ical

    feed = selectors.feed_by_token(token)
    if feed is None or (feed.person_id and not feed.person.is_processable):
        raise Http404  # unknown, revoked, or of a person who withdrew consent or was erased
    base = request.build_absolute_uri("/").rstrip("/")
    host = request.get_host().split(":")[0] or "xinye"
    if feed.person_id:
        body = ical.person_calendar(feed.person, base_url=base, host=host)
    else:
        body = ical.team_calendar(feed.team, base_url=base, host=host)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="xinye.ics"'
    return response


# ---------------------------------------------------------------------------------------------- check-in


@login_required
def shift_code(request, pk: int):
    """The rotating code of a shift, for a leader's phone or a station's screen: a QR code and 6 digits of the
    same window. When the window ends, app.js fetches the new code (`?fragment=1`) into the page; without script
    a button shows the current code."""
    import segno
    from django.urls import reverse

    from . import codes

    scope = request_scope(request)
    shift = get_or_404(selectors.shift_get, scope=scope, pk=pk)
    if not policy.may_run_activity(scope, shift.activity):
        raise Http404
    now = timezone.now()
    context = {"shift": shift, "activity": shift.activity, "open": services.check_open(shift, now)}
    if context["open"]:
        code = codes.current(shift.pk, now)
        address = request.build_absolute_uri(reverse("shift_check", args=[shift.pk])) + f"?t={code.token}"
        qr = segno.make(address, error="m").svg_inline(
            scale=6, border=2, dark="#111", light="#fff", svgclass="qr", title=_("Scan to check in or out")
        )
        context.update({"code": code, "qr": qr, "window": codes.window_seconds()})
    if request.GET.get("fragment") == "1":  # app.js swaps the new code in when the window ends
        if not context["open"]:
            raise Http404
        return render(request, "volunteering/_code_box.html", context)
    return render(request, "volunteering/shift_code.html", context)


@volunteer_required
def shift_check(request, pk: int):
    """GET: the page the QR code opens (its token checked now; a confirmation button carries a short-lived
    ticket), or the form to type the 6 digits. POST: check in, or out."""
    scope = request_scope(request)
    shift = get_or_404(selectors.shift_get, scope=scope, pk=pk)
    person = _person(request)
    now = timezone.now()
    ticket = ""
    error = None
    if request.method == "POST":
        try:
            att, action = services.attendance_check(
                person=person,
                shift=shift,
                code=request.POST.get("code", ""),
                ticket=request.POST.get("ticket", ""),
                lat=request.POST.get("lat") or None,
                lon=request.POST.get("lon") or None,
                via=via(request),
            )
        except Refused as exc:
            error = exc.message
        else:
            if action == "in":
                messages.success(request, _("Checked in at %(time)s.") % {"time": f"{timezone.localtime(now):%H:%M}"})
            elif att.counted:
                messages.success(request, _("Checked out: %(minutes)s minutes recorded.") % {"minutes": att.minutes})
            else:
                messages.success(
                    request,
                    _("Checked out: %(minutes)s minutes, less than the share of the shift that counts.")
                    % {"minutes": att.minutes},
                )
            return redirect("shift_detail", pk=shift.pk)
    else:
        from . import codes

        token = request.GET.get("t", "")
        if token and person is not None:
            if codes.token_valid(shift.pk, token, now):
                ticket = services.scan_ticket(shift=shift, person=person)
            else:
                error = _("This code is not valid (any more): use the code shown now.")
    return render(
        request,
        "volunteering/shift_check.html",
        {
            "shift": shift,
            "activity": shift.activity,
            "ticket": ticket,
            "error": error,
            "needs_location": bool(shift.activity.check_in_radius_m and shift.activity.location),
            "mine": Attendance.objects.filter(shift=shift, person=person).first() if person else None,
        },
    )


@login_required
@require_POST
def shift_manual(request, pk: int):
    """A leader checks someone in or out by hand, with a reason."""
    scope = request_scope(request)
    shift = get_or_404(selectors.shift_get, scope=scope, pk=pk)
    if not policy.may_run_activity(scope, shift.activity):
        raise Http404
    person = Person.objects.filter(pk=_int(request.POST.get("person")) or 0, shift_signups__shift=shift).first()
    if person is None:
        raise Http404
    at = None
    clock = request.POST.get("time", "").strip()
    try:
        if clock:
            at = _aware(request.POST.get("day", "") or f"{timezone.localtime(shift.starts_at):%Y-%m-%d}", clock)
        services.attendance_manual(
            scope=scope,
            actor=request.user,
            shift=shift,
            person=person,
            action="out" if request.POST.get("action") == "out" else "in",
            reason=request.POST.get("reason", ""),
            at=at,
        )
    except NotAllowed as exc:
        raise Http404 from exc
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Recorded."))
    return redirect("shift_detail", pk=shift.pk)
