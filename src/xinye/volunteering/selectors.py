"""Reads of the volunteering app, scoped to the acting user through accounts.policy (teams_q, vanguard_posts_q,
activities_q). Anything outside is treated as missing: `*_get` raises DoesNotExist and the page answers 404."""

from __future__ import annotations

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope

from . import services
from .models import (
    OPEN_SIGNUP_STATUSES,
    OPEN_TEAM_STATUSES,
    Activity,
    CalendarFeed,
    HoursKind,
    HoursRecord,
    HoursStatus,
    PointsEntry,
    Shift,
    Signup,
    SignupStatus,
    Team,
    TeamMembership,
    TeamMembershipStatus,
    VanguardPost,
)


def team_list(*, scope: Scope, search: str = "", active: bool = True) -> QuerySet[Team]:
    qs = Team.objects.filter(policy.teams_q(scope))
    if active:
        qs = qs.filter(dissolved_on__isnull=True)
    if search:
        qs = qs.filter(name__contains=search)
    return qs.select_related("organization", "station", "community", "division").annotate(
        member_count=Count("memberships", filter=Q(memberships__status=TeamMembershipStatus.APPROVED), distinct=True)
    )


def team_get(*, scope: Scope, pk: int) -> Team:
    return (
        Team.objects.filter(policy.teams_q(scope))
        .select_related("organization__division", "station__division", "community", "division")
        .get(pk=pk)
    )


def team_membership_get(*, scope: Scope, pk: int) -> TeamMembership:
    """A membership of a team the viewer sees (whether they may act on it is the service's question)."""
    return (
        TeamMembership.objects.filter(team__in=Team.objects.filter(policy.teams_q(scope)).values("pk"))
        .select_related("team__organization__division", "team__station__division", "team__community", "person")
        .get(pk=pk)
    )


def own_team_membership(*, person_id: int | None, team: Team) -> TeamMembership | None:
    if not person_id:
        return None
    return TeamMembership.objects.filter(team=team, person_id=person_id, status__in=OPEN_TEAM_STATUSES).first()


def team_roster(*, scope: Scope, team: Team) -> dict:
    """The team's members and requests as the viewer may see them. Names are for the team's own people
    (members, leaders, and whoever manages the team); anyone else who sees the team sees counts. Members are
    marked as Party members where the viewer may see party status (accounts.policy.party_members_among)."""
    approved = list(
        team.memberships.filter(status=TeamMembershipStatus.APPROVED)
        .select_related("person")
        .order_by("-leader", "person__name", "pk")
    )
    own = own_team_membership(person_id=scope.person_id, team=team)
    leads = policy.may_lead_team(scope, team)
    sees_names = leads or (own is not None and own.status == TeamMembershipStatus.APPROVED)
    requests = []
    if leads:
        requests = list(
            team.memberships.filter(status=TeamMembershipStatus.REQUESTED).select_related("person").order_by("pk")
        )
    shown = approved if sees_names else [m for m in approved if m.leader]
    party = policy.party_members_among(scope, [m.person_id for m in shown + requests])
    return {
        "members": [(m, m.person_id in party) for m in shown],
        "requests": [(m, m.person_id in party) for m in requests],
        "count": len(approved),
        "sees_names": sees_names,
        "leads": leads,
        "manages": policy.may_manage_team(scope, team),
        "own": own,
    }


def my_teams(*, person_id: int | None) -> list[TeamMembership]:
    if not person_id:
        return []
    return list(
        TeamMembership.objects.filter(person_id=person_id, status__in=OPEN_TEAM_STATUSES, team__dissolved_on=None)
        .select_related("team")
        .order_by("team__name")
    )


def teams_to_join(*, scope: Scope, limit: int = 20) -> list[Team]:
    """Active teams the viewer sees and is not in (yet): near where they work, or of their branch."""
    if not scope.person_id:
        return []
    mine = TeamMembership.objects.filter(person_id=scope.person_id, status__in=OPEN_TEAM_STATUSES).values("team_id")
    return list(team_list(scope=scope).exclude(pk__in=mine).order_by("name")[:limit])


def post_list(*, scope: Scope, current: bool = True, search: str = "") -> QuerySet[VanguardPost]:
    qs = VanguardPost.objects.filter(policy.vanguard_posts_q(scope))
    if current:
        today = timezone.localdate()
        qs = qs.filter(starts_on__lte=today).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if search:
        qs = qs.filter(Q(title__contains=search) | Q(person__name__contains=search) | Q(team__name__contains=search))
    return qs.select_related("person", "team", "station", "community", "business_unit", "division").order_by(
        "-starts_on", "pk"
    )


def post_get(*, scope: Scope, pk: int) -> VanguardPost:
    return (
        VanguardPost.objects.filter(policy.vanguard_posts_q(scope))
        .select_related("person", "team", "station__division", "community", "business_unit__division", "division")
        .get(pk=pk)
    )


def may_set_up(scope: Scope) -> bool:
    """Whether the user could set up a team or appoint a post anywhere (the "new" buttons)."""
    return bool(
        scope.is_admin or scope.division_prefixes or scope.org_ids or scope.operator_names or scope.staff_company_ids
    )


# ---------------------------------------------------------------------------------------------- activities


def activity_list(*, scope: Scope, when: str = "upcoming", kind: str = "") -> QuerySet[Activity]:
    """Visible activities with `shift_count`, `next_start` (the next shift not yet ended) and, for the list,
    the organizer and place. `when`: "upcoming" (a shift not yet ended, not cancelled), "past" or "all"."""
    now = timezone.now()
    qs = Activity.objects.filter(policy.activities_q(scope))
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.annotate(
        shift_count=Count("shifts", distinct=True),
        next_start=Min("shifts__starts_at", filter=Q(shifts__ends_at__gt=now, shifts__cancelled_at__isnull=True)),
    )
    if when == "upcoming":
        qs = qs.filter(cancelled_at__isnull=True, next_start__isnull=False).order_by("next_start", "pk")
    elif when == "past":
        qs = qs.filter(next_start__isnull=True).order_by("-created_at", "pk")
    else:
        qs = qs.order_by("-created_at", "pk")
    return qs.select_related("station", "community", "team", "organization")


def activity_get(*, scope: Scope, pk: int) -> Activity:
    return (
        Activity.objects.filter(policy.activities_q(scope))
        .select_related("station__division", "community", "division", "team__organization", "organization__division")
        .get(pk=pk)
    )


def shift_get(*, scope: Scope, pk: int) -> Shift:
    return (
        Shift.objects.filter(activity__in=Activity.objects.filter(policy.activities_q(scope)).values("pk"))
        .select_related(
            "activity__station__division",
            "activity__community",
            "activity__division",
            "activity__team__organization",
            "activity__organization__division",
        )  # fmt: skip
        .get(pk=pk)
    )


def shifts_of(*, activity: Activity, person_id: int | None) -> list[dict]:
    """The activity's shifts with their counts and the viewer's own sign-up."""
    shifts = list(
        activity.shifts.annotate(
            taken=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED)),
            waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITLISTED)),
        ).order_by("starts_at", "pk")
    )
    mine = {}
    if person_id:
        for s in Signup.objects.filter(shift__activity=activity, person_id=person_id, status__in=OPEN_SIGNUP_STATUSES):
            mine[s.shift_id] = s
    now = timezone.now()
    rows = []
    for sh in shifts:
        own = mine.get(sh.pk)
        rows.append(
            {
                "shift": sh,
                "free": max(0, sh.capacity - sh.taken),
                "own": own,
                "position": services.waiting_position(own) if own is not None else None,
                "open": sh.cancelled_at is None and activity.cancelled_at is None and sh.starts_at > now,
            }
        )
    return rows


def own_signup(*, person_id: int | None, shift: Shift) -> Signup | None:
    if not person_id:
        return None
    return Signup.objects.filter(shift=shift, person_id=person_id, status__in=OPEN_SIGNUP_STATUSES).first()


def shift_roster(*, shift: Shift) -> dict:
    """Who has a place and who waits, in order (for those who run the activity: `policy.may_run_activity`)."""
    signups = list(
        shift.signups.filter(status__in=OPEN_SIGNUP_STATUSES).select_related("person").order_by("created_at", "pk")
    )
    return {
        "confirmed": [s for s in signups if s.status == SignupStatus.CONFIRMED],
        "waiting": [s for s in signups if s.status == SignupStatus.WAITLISTED],
    }


def my_signups(*, person_id: int | None, upcoming: bool = True) -> list[tuple[Signup, int | None]]:
    """The person's sign-ups (with a place or waiting) and their waiting positions, soonest first."""
    if not person_id:
        return []
    qs = Signup.objects.filter(person_id=person_id, status__in=OPEN_SIGNUP_STATUSES).select_related(
        "shift__activity__station", "shift__activity__community"
    )
    if upcoming:
        qs = qs.filter(shift__ends_at__gt=timezone.now()).order_by("shift__starts_at", "pk")
    else:
        qs = qs.filter(shift__ends_at__lte=timezone.now()).order_by("-shift__starts_at", "pk")
    return [(s, services.waiting_position(s)) for s in qs[:50]]


def feed_by_token(token: str) -> CalendarFeed | None:
    """The active feed whose address holds `token`, or None (unknown or revoked)."""
    if not token or len(token) > 100:
        return None
    return (
        CalendarFeed.objects.filter(token_hash=services.feed_token_hash(token), revoked_at__isnull=True)
        .select_related("person", "team")
        .first()
    )


def active_feed(*, person=None, team=None) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(person=person, team=team, revoked_at__isnull=True).first()


# ---------------------------------------------------------------------------------------------- hours and points


def hours_list(*, scope: Scope) -> QuerySet[HoursRecord]:
    """The service hours the viewer may see (`policy.hours_q`), newest first."""
    return (
        HoursRecord.objects.filter(policy.hours_q(scope))
        .select_related("person", "activity__team__organization", "activity__organization", "shift")
        .order_by("-starts_at", "-pk")
    )


def hours_to_review(*, scope: Scope) -> QuerySet[HoursRecord]:
    """Pending hours of activities the viewer runs, without their own hours and the hours they awarded
    (`policy.may_review_hours` as a filter), oldest first."""
    qs = HoursRecord.objects.filter(policy.hours_review_q(scope), status=HoursStatus.PENDING)
    return qs.select_related("person", "activity__team__organization", "activity__organization", "shift").order_by(
        "starts_at", "pk"
    )


def hours_get(*, scope: Scope, pk: int) -> HoursRecord:
    return hours_list(scope=scope).get(pk=pk)


def hours_of_person(*, person_id: int | None) -> QuerySet[HoursRecord]:
    """A volunteer's own hours (the "my hours" page and the certificate)."""
    return (
        HoursRecord.objects.filter(person_id=person_id or 0)
        .select_related("activity__team__organization", "activity__organization", "shift")
        .order_by("-starts_at", "-pk")
    )


def hours_totals(qs: QuerySet[HoursRecord]) -> dict:
    """Minutes by status and kind: {"approved": n, "approved_recorded": n, "approved_awarded": n, "pending": n,
    "declined": n}."""
    sums = qs.aggregate(
        approved=Sum("minutes", filter=Q(status=HoursStatus.APPROVED)),
        approved_recorded=Sum("minutes", filter=Q(status=HoursStatus.APPROVED, kind=HoursKind.RECORDED)),
        approved_awarded=Sum("minutes", filter=Q(status=HoursStatus.APPROVED, kind=HoursKind.AWARDED)),
        pending=Sum("minutes", filter=Q(status=HoursStatus.PENDING)),
        declined=Sum("minutes", filter=Q(status=HoursStatus.DECLINED)),
    )
    return {k: v or 0 for k, v in sums.items()}


def points_ledger(*, person_id: int | None, limit: int = 100) -> list[PointsEntry]:
    if not person_id:
        return []
    return list(
        PointsEntry.objects.filter(person_id=person_id)
        .select_related("hours__activity")
        .order_by("-created_at", "-pk")[:limit]
    )


def redemptions(*, scope: Scope):
    """Redemptions at the stations where the viewer redeems (`policy.redemptions_q`), newest first."""
    return (
        PointsEntry.objects.filter(policy.redemptions_q(scope))
        .select_related("person", "created_by")
        .order_by("-created_at", "-pk")
    )
