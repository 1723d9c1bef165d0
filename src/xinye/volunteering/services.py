"""Every write of the volunteering app (issue 14): one transaction each, keyword-only arguments.

Who may do what is asked of `accounts.policy` (`may_manage_team`, `may_lead_team`, `may_manage_post`, ...);
a service refuses with `NotAllowed` when the answer is no, and with `Refused` when the action is not possible
now (the team is dissolved, the shift is full or over, the code is old). Both carry a message in the
language active when they are raised, for the page to show as it is.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms.errors import XinyeError
from xinye.places.models import Level

from .models import (
    OPEN_TEAM_STATUSES,
    PostKind,
    Team,
    TeamMembership,
    TeamMembershipStatus,
    VanguardPost,
)


class Refused(XinyeError):
    """The action is not possible now; `message` says why, in the user's language."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class NotAllowed(Refused):
    """The acting user may not do this (pages answer 404, as for anything out of scope)."""


def _place_division(*, organization=None, station=None, community=None, business_unit=None):
    """The division a place lies in (for scoping), or None."""
    if community is not None:
        return community
    if station is not None:
        return station.division if station.division_id else None
    if business_unit is not None:
        return business_unit.division if business_unit.division_id else None
    if organization is not None:
        return organization.division if organization.division_id else None
    return None


def _one_of(**places) -> str:
    given = [k for k, v in places.items() if v is not None]
    if len(given) != 1:
        raise Refused(_("Choose exactly one place."), field="place")
    return given[0]


def _check_community(community) -> None:
    if community is not None and community.level != Level.COMMUNITY:
        raise Refused(_("The place must be a community (a 12-digit division code)."), field="community")


# ---------------------------------------------------------------------------------------------- teams


def team_create(
    *,
    scope: Scope,
    actor,
    name: str,
    organization=None,
    station=None,
    community=None,
    description: str = "",
    leader=None,
) -> Team:
    """A new team belonging to one organization, station or community; `leader` (a person) is its first leader."""
    name = (name or "").strip()
    if not name:
        raise Refused(_("Give the team a name."), field="name")
    _one_of(organization=organization, station=station, community=community)
    _check_community(community)
    team = Team(
        name=name[:100],
        organization=organization,
        station=station,
        community=community,
        division=_place_division(organization=organization, station=station, community=community),
        description=(description or "").strip(),
        created_by=actor,
    )
    if not policy.may_manage_team(scope, team):
        raise NotAllowed(_("You may not set up a team there."))
    now = timezone.now()
    with transaction.atomic():
        team.save()
        if leader is not None:
            TeamMembership.objects.create(
                team=team,
                person=leader,
                status=TeamMembershipStatus.APPROVED,
                leader=True,
                requested_at=now,
                decided_at=now,
                decided_by=actor,
            )
    return team


def team_dissolve(*, scope: Scope, team: Team, on: dt.date | None = None) -> Team:
    if not policy.may_manage_team(scope, team):
        raise NotAllowed(_("You may not dissolve this team."))
    with transaction.atomic():
        Team.objects.filter(pk=team.pk, dissolved_on__isnull=True).update(
            dissolved_on=on or timezone.localdate(), updated_at=timezone.now()
        )
        team.refresh_from_db()
    return team


def _active(team: Team) -> None:
    if not team.is_active:
        raise Refused(_("This team has been dissolved."))


def team_join_request(*, person, team: Team, note: str = "") -> TeamMembership:
    """The person asks to join (a worker or a member). Asking again while a request is open returns it."""
    _active(team)
    if person is None:
        raise Refused(_("Only someone on record can join a team."))
    with transaction.atomic():
        existing = (
            TeamMembership.objects.select_for_update()
            .filter(team=team, person=person, status__in=OPEN_TEAM_STATUSES)
            .first()
        )
        if existing is not None:
            return existing
        return TeamMembership.objects.create(
            team=team, person=person, note=(note or "").strip()[:300], requested_at=timezone.now()
        )


def team_request_decide(
    *, scope: Scope, actor, membership: TeamMembership, approve: bool, note: str = ""
) -> TeamMembership:
    """A leader approves or declines a request to join. Two leaders answering at once: the first answer wins,
    the second is told it was already answered."""
    if not policy.may_lead_team(scope, membership.team):
        raise NotAllowed(_("Only the team's leaders answer requests to join."))
    _active(membership.team)
    status = TeamMembershipStatus.APPROVED if approve else TeamMembershipStatus.DECLINED
    now = timezone.now()
    with transaction.atomic():
        changed = TeamMembership.objects.filter(pk=membership.pk, status=TeamMembershipStatus.REQUESTED).update(
            status=status,
            decided_at=now,
            decided_by=actor,
            note=(note or "").strip()[:300] or membership.note,
            updated_at=now,
        )
        if not changed:
            raise Refused(_("This request was already answered."))
        membership.refresh_from_db()
        membership.save(update_fields=["updated_at"])  # the conditional update wrote no history row: this does
    return membership


def team_member_add(*, scope: Scope, actor, team: Team, person, leader: bool = False) -> TeamMembership:
    """A leader adds someone directly (approved), e.g. a worker who asked in person."""
    if not policy.may_lead_team(scope, team):
        raise NotAllowed(_("Only the team's leaders add members."))
    _active(team)
    now = timezone.now()
    with transaction.atomic():
        m = (
            TeamMembership.objects.select_for_update()
            .filter(team=team, person=person, status__in=OPEN_TEAM_STATUSES)
            .first()
        )
        if m is None:
            m = TeamMembership(team=team, person=person, requested_at=now)
        m.status = TeamMembershipStatus.APPROVED
        m.leader = m.leader or leader
        m.decided_at = now
        m.decided_by = actor
        m.save()
    return m


def team_leader_set(*, scope: Scope, actor, membership: TeamMembership, leader: bool) -> TeamMembership:
    """Make an approved member a leader, or not. Those who manage the team and its leaders may."""
    if not policy.may_lead_team(scope, membership.team):
        raise NotAllowed(_("Only the team's leaders appoint leaders."))
    if membership.status != TeamMembershipStatus.APPROVED:
        raise Refused(_("Only a member of the team can lead it."))
    with transaction.atomic():
        membership.leader = leader
        membership.save(update_fields=["leader", "updated_at"])
    return membership


def team_leave(*, person, team: Team) -> TeamMembership | None:
    """The person leaves the team (or withdraws a request). Returns the membership, None if there was none."""
    now = timezone.now()
    with transaction.atomic():
        m = (
            TeamMembership.objects.select_for_update()
            .filter(team=team, person=person, status__in=OPEN_TEAM_STATUSES)
            .first()
        )
        if m is None:
            return None
        m.status = TeamMembershipStatus.LEFT
        m.leader = False
        m.left_at = now
        m.save()
    return m


# ---------------------------------------------------------------------------------------------- posts


def vanguard_post_create(
    *,
    scope: Scope,
    actor,
    kind: str,
    title: str,
    duty: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    person=None,
    team: Team | None = None,
    station=None,
    community=None,
    business_unit=None,
) -> VanguardPost:
    """Appoint a vanguard or model post: held by a member (a person with a current membership) or by a team, at
    one place (a station, a community or a business unit), with a duty, from a date (until a date, or open)."""
    from xinye.people.models import Membership

    if kind not in PostKind.values:
        raise Refused(_("Choose the kind of post."), field="kind")
    title = (title or "").strip()
    duty = (duty or "").strip()
    if not title:
        raise Refused(_("Give the post a title."), field="title")
    if not duty:
        raise Refused(_("Say what the post's duty is."), field="duty")
    if (person is None) == (team is None):
        raise Refused(_("A post is held by one member or by one team."), field="holder")
    if person is not None and not Membership.objects.filter(person=person, until__isnull=True).exists():
        raise Refused(_("A post is held by a Party member (this person has no current membership)."), field="holder")
    if team is not None:
        _active(team)
    _one_of(station=station, community=community, business_unit=business_unit)
    _check_community(community)
    if ends_on is not None and ends_on < starts_on:
        raise Refused(_("The post cannot end before it starts."), field="ends_on")
    post = VanguardPost(
        kind=kind,
        title=title[:120],
        duty=duty,
        starts_on=starts_on,
        ends_on=ends_on,
        person=person,
        team=team,
        station=station,
        community=community,
        business_unit=business_unit,
        division=_place_division(station=station, community=community, business_unit=business_unit),
        created_by=actor,
    )
    if not policy.may_manage_post(scope, post):
        raise NotAllowed(_("You may not appoint a post there."))
    with transaction.atomic():
        post.save()
    return post


def vanguard_post_end(*, scope: Scope, post: VanguardPost, on: dt.date | None = None) -> VanguardPost:
    if not policy.may_manage_post(scope, post):
        raise NotAllowed(_("You may not end this post."))
    on = on or timezone.localdate()
    if on < post.starts_on:
        raise Refused(_("The post cannot end before it starts."), field="ends_on")
    with transaction.atomic():
        post.ends_on = on
        post.save(update_fields=["ends_on", "updated_at"])
    return post
