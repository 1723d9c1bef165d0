"""Reads of the volunteering app, scoped to the acting user through accounts.policy (teams_q, vanguard_posts_q,
activities_q). Anything outside is treated as missing: `*_get` raises DoesNotExist and the page answers 404."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope

from .models import OPEN_TEAM_STATUSES, Team, TeamMembership, TeamMembershipStatus, VanguardPost


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
