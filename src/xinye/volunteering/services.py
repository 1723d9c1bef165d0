"""Every write of the volunteering app (issue 14): one transaction each, keyword-only arguments.

Who may do what is asked of `accounts.policy` (`may_manage_team`, `may_lead_team`, `may_manage_post`, ...);
a service refuses with `NotAllowed` when the answer is no, and with `Refused` when the action is not possible
now (the team is dissolved, the shift is full or over, the code is old). Both carry a message in the
language active when they are raised, for the page to show as it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms.errors import XinyeError
from xinye.places.models import Level

from .models import (
    OPEN_SIGNUP_STATUSES,
    OPEN_TEAM_STATUSES,
    Activity,
    ActivityKind,
    Attendance,
    CalendarFeed,
    CheckMethod,
    PostKind,
    Shift,
    Signup,
    SignupStatus,
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


def code_attempt(ident: str):
    """Take one try of `ident`'s budget of wrong codes (XINYE_RATES["code_miss"], per account) before a check-in
    or points code is checked, and return a function that gives it back (a right code costs nothing). A 6-digit
    code is one in a million, but a volunteer at home could otherwise post codes until one is right for the
    whole check-in period, and an operator could spend anyone's points (outsider review 2026-12-04). Over the
    budget: Refused, until the window ends."""
    from xinye.common import ratelimit

    rate = ratelimit.rate_setting("code_miss")
    decision = ratelimit.hit("code_miss", ident, rate)
    if not decision.allowed:
        raise Refused(_("Too many wrong codes; please try again later."), field="code")
    return lambda: ratelimit.give_back("code_miss", ident, rate)


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


def _via(obj, via: str):
    """Mark the history row of a change made through `via` (e.g. "volunteer's phone": a worker's volunteer
    session, no user): simple-history stores it as the change reason, shown in the person's words."""
    if via:
        obj._change_reason = via
    return obj


def team_join_request(*, person, team: Team, note: str = "", via: str = "") -> TeamMembership:
    """The person asks to join (a worker or a member). Asking again while a request is open returns it."""
    _active(team)
    if person is None or not person.is_processable:
        raise Refused(_("Only someone on record can join a team."))
    with transaction.atomic():
        existing = (
            TeamMembership.objects.select_for_update()
            .filter(team=team, person=person, status__in=OPEN_TEAM_STATUSES)
            .first()
        )
        if existing is not None:
            return existing
        m = TeamMembership(team=team, person=person, note=(note or "").strip()[:300], requested_at=timezone.now())
        _via(m, via).save()
        return m


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


def team_leave(*, person, team: Team, via: str = "") -> TeamMembership | None:
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
        _via(m, via).save()
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
    if person is not None and not policy.is_visible_member(scope, person):  # never a hidden membership's say
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


# ---------------------------------------------------------------------------------------------- activities

#: the longest shift, and the most places one shift may have
MAX_SHIFT = dt.timedelta(hours=24)
MAX_CAPACITY = 1000


def activity_create(
    *,
    scope: Scope,
    actor,
    title: str,
    kind: str,
    team: Team | None = None,
    organization=None,
    station=None,
    community=None,
    address: str = "",
    description: str = "",
    open_nearby: bool = True,
    check_in_radius_m: int | None = None,
) -> Activity:
    """An activity organized by a team or an organization (whose leaders or staff set it up) at a station or a
    community. Shifts are added with `shift_add`."""
    title = (title or "").strip()
    if not title:
        raise Refused(_("Give the activity a title."), field="title")
    if kind not in ActivityKind.values:
        raise Refused(_("Choose the kind of activity."), field="kind")
    if team is None and organization is None:
        raise Refused(_("Say who organizes the activity (a team or an organization)."), field="organizer")
    if team is not None:
        _active(team)
    _one_of(station=station, community=community)
    _check_community(community)
    if check_in_radius_m is not None and not 10 <= check_in_radius_m <= 5000:
        raise Refused(_("The check-in distance is from 10 to 5000 metres."), field="check_in_radius_m")
    if not policy.may_organize_for(scope, team=team, organization=organization):
        raise NotAllowed(_("You may not set up an activity for this organizer."))
    activity = Activity(
        title=title[:120],
        kind=kind,
        description=(description or "").strip(),
        station=station,
        community=community,
        address=(address or "").strip()[:200],
        division=_place_division(station=station, community=community),
        team=team,
        organization=organization,
        open_nearby=open_nearby,
        check_in_radius_m=check_in_radius_m,
        created_by=actor,
    )
    with transaction.atomic():
        activity.save()
    return activity


def activity_cancel(*, scope: Scope, activity: Activity, now: dt.datetime | None = None) -> Activity:
    """Cancel the activity: no one signs up any more; calendars show its shifts as cancelled."""
    if not policy.may_run_activity(scope, activity):
        raise NotAllowed(_("You may not cancel this activity."))
    now = now or timezone.now()
    with transaction.atomic():
        Activity.objects.filter(pk=activity.pk, cancelled_at__isnull=True).update(cancelled_at=now, updated_at=now)
        activity.refresh_from_db()
        activity.save(update_fields=["updated_at"])  # a history row for the change
    return activity


def shift_add(
    *, scope: Scope, actor, activity: Activity, starts_at: dt.datetime, ends_at: dt.datetime, capacity: int
) -> Shift:
    if not policy.may_run_activity(scope, activity):
        raise NotAllowed(_("You may not add shifts to this activity."))
    if activity.cancelled_at is not None:
        raise Refused(_("This activity was cancelled."))
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("shift times must be timezone-aware")
    if ends_at <= starts_at:
        raise Refused(_("A shift ends after it starts."), field="ends_at")
    if ends_at - starts_at > MAX_SHIFT:
        raise Refused(_("A shift lasts at most 24 hours."), field="ends_at")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise Refused(_("A shift has from 1 to 1000 places."), field="capacity")
    with transaction.atomic():
        return Shift.objects.create(activity=activity, starts_at=starts_at, ends_at=ends_at, capacity=capacity)


def shift_capacity_set(*, scope: Scope, actor, shift: Shift, capacity: int, now=None) -> list[Signup]:
    """Change the number of places. More places move people up from the waiting list (returned); fewer places
    take no one's place away (the confirmed stay, nobody moves up until there is room)."""
    if not policy.may_run_activity(scope, shift.activity):
        raise NotAllowed(_("You may not change this shift."))
    if not 1 <= capacity <= MAX_CAPACITY:
        raise Refused(_("A shift has from 1 to 1000 places."), field="capacity")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        locked.capacity = capacity
        locked.save(update_fields=["capacity", "updated_at"])
        promoted = _promote(locked, now)
    shift.refresh_from_db()
    _tell_promoted(promoted)
    return promoted


# ---------------------------------------------------------------------------------------------- sign-ups


def _open_for_signup(shift: Shift, now: dt.datetime) -> None:
    if shift.cancelled_at is not None or shift.activity.cancelled_at is not None:
        raise Refused(_("This shift was cancelled."))
    if shift.starts_at <= now:
        raise Refused(_("This shift has already started."))
    if shift.activity.team_id and not shift.activity.team.is_active:
        raise Refused(_("This team has been dissolved."))


def signup_create(*, person, shift: Shift, now: dt.datetime | None = None, via: str = "") -> Signup:
    """Sign the person up: a place if one is free, else the end of the waiting list. Signing up again while
    signed up returns the sign-up as it is.

    Concurrency: the shift's row is locked first (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
    transactions queue writers), so two people taking the last place at once get one place and one waiting
    position, never two places."""
    if person is None:
        raise Refused(_("Only someone on record can sign up."))
    if not person.is_processable:
        raise Refused(_("Only someone on record can sign up."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Shift.objects.select_for_update(of=("self",)).select_related("activity__team").get(pk=shift.pk)
        _open_for_signup(locked, now)
        existing = Signup.objects.filter(shift=locked, person=person, status__in=OPEN_SIGNUP_STATUSES).first()
        if existing is not None:
            return existing
        taken = Signup.objects.filter(shift=locked, status=SignupStatus.CONFIRMED).count()
        status = SignupStatus.CONFIRMED if taken < locked.capacity else SignupStatus.WAITLISTED
        s = Signup(shift=locked, person=person, status=status)
        _via(s, via).save()
        return s


def _promote(shift: Shift, now: dt.datetime) -> list[Signup]:
    """Within a transaction holding the shift's lock: move people up from the waiting list, first come first,
    while there are free places. Each move is a conditional update (waitlisted -> confirmed), so a sign-up
    someone cancelled at the same moment is skipped, never confirmed."""
    promoted = []
    taken = Signup.objects.filter(shift=shift, status=SignupStatus.CONFIRMED).count()
    while taken < shift.capacity:
        nxt = (
            Signup.objects.filter(shift=shift, status=SignupStatus.WAITLISTED)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if nxt is None:
            break
        if Signup.objects.filter(pk=nxt, status=SignupStatus.WAITLISTED).update(
            status=SignupStatus.CONFIRMED, promoted_at=now, updated_at=now
        ):
            s = Signup.objects.select_related("person", "shift__activity").get(pk=nxt)
            s.save(update_fields=["updated_at"])  # a history row for the move
            promoted.append(s)
            taken += 1
    return promoted


def signup_cancel(*, signup: Signup, now: dt.datetime | None = None, via: str = "") -> tuple[Signup, list[Signup]]:
    """Cancel a sign-up (the volunteer, from their phone). A confirmed place that frees up goes to the first on
    the waiting list, who is told by text message. Returns the sign-up and whoever moved up."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = Shift.objects.select_for_update(of=("self",)).select_related("activity").get(pk=signup.shift_id)
        s = Signup.objects.select_for_update().get(pk=signup.pk)
        if s.status == SignupStatus.CANCELLED:
            return s, []
        if shift.starts_at <= now:
            raise Refused(_("This shift has already started; tell the leader instead."))
        was_confirmed = s.status == SignupStatus.CONFIRMED
        s.status = SignupStatus.CANCELLED
        s.cancelled_at = now
        _via(s, via).save(update_fields=["status", "cancelled_at", "updated_at"])
        promoted = _promote(shift, now) if was_confirmed else []
    _tell_promoted(promoted)
    signup.refresh_from_db()
    return s, promoted


def waiting_position(signup: Signup) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if signup.status != SignupStatus.WAITLISTED:
        return None
    ahead = Signup.objects.filter(shift_id=signup.shift_id, status=SignupStatus.WAITLISTED).filter(
        Q(created_at__lt=signup.created_at) | Q(created_at=signup.created_at, pk__lt=signup.pk)
    )
    return ahead.count() + 1


# ---------------------------------------------------------------------------------------------- messages


def _when(shift: Shift) -> str:
    return f"{timezone.localtime(shift.starts_at):%Y-%m-%d %H:%M}"


def _send(person, text: str) -> bool:
    from xinye.people.sms import get_sender

    if not (person.phone and person.is_processable):
        return False
    get_sender().send(person.phone, text)
    return True


def _tell_promoted(promoted: list[Signup]) -> None:
    """Text each person moved up from the waiting list, once the move is committed, in the deployment's
    language (a text message has no page language)."""
    if not promoted:
        return

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            for s in promoted:
                _send(
                    s.person,
                    _("Xinye: a place came free: you are now signed up for %(activity)s at %(when)s.")
                    % {"activity": s.shift.activity.title, "when": _when(s.shift)},
                )

    transaction.on_commit(send)


def shift_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind everyone with a place on a shift starting within XINYE_VOLUNTEER_REMINDER_HOURS, once (a text
    message). Run by the worker every 15 minutes (common/schedules.py). Each reminder is claimed with a
    conditional update before it is sent, so two runs at once never send it twice. Returns how many were sent."""
    now = now or timezone.now()
    lead = dt.timedelta(hours=float(getattr(settings, "XINYE_VOLUNTEER_REMINDER_HOURS", 24)))
    due = (
        Signup.objects.filter(
            status=SignupStatus.CONFIRMED,
            reminded_at__isnull=True,
            shift__starts_at__gt=now,
            shift__starts_at__lte=now + lead,
            shift__cancelled_at__isnull=True,
            shift__activity__cancelled_at__isnull=True,
        )
        .select_related("person", "shift__activity__station", "shift__activity__community")
        .order_by("shift__starts_at", "pk")
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for s in due:
            if not Signup.objects.filter(pk=s.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue  # another run took it
            a = s.shift.activity
            where = a.address or str(a.place)
            text = _("Xinye reminder: %(activity)s at %(when)s, %(where)s. Cannot come? Cancel on your phone.") % {
                "activity": a.title,
                "when": _when(s.shift),
                "where": where,
            }
            if _send(s.person, text):
                sent += 1
    return sent


# ---------------------------------------------------------------------------------------------- calendar feeds


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_create(*, actor, person=None, team: Team | None = None, now: dt.datetime | None = None) -> str:
    """Make a new private calendar address for a person's shifts or a team's activities, ending the old one.
    Returns the token (shown once: only its hash is kept). Who may make a team's feed is the view's question
    (whoever leads the team, `policy.may_lead_team`)."""
    if (person is None) == (team is None):
        raise ValueError("a feed is of one person or one team")
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(person=person, team=team, revoked_at__isnull=True).update(revoked_at=now)
        CalendarFeed.objects.create(
            person=person, team=team, token_hash=feed_token_hash(token), created_at=now, created_by=actor
        )
    return token


def feed_revoke(*, person=None, team: Team | None = None, now: dt.datetime | None = None) -> int:
    """End the private calendar address of a person or a team; calendars reading it get nothing any more."""
    if (person is None) == (team is None):
        raise ValueError("a feed is of one person or one team")
    now = now or timezone.now()
    with transaction.atomic():
        return CalendarFeed.objects.filter(person=person, team=team, revoked_at__isnull=True).update(revoked_at=now)


# ---------------------------------------------------------------------------------------------- check-in

#: the code is shown, and check-in and check-out are open, from this long before a shift starts ...
CHECK_OPENS = dt.timedelta(minutes=30)
#: ... until this long after it ends
CHECK_CLOSES = dt.timedelta(hours=2)
#: a second scan this soon after checking in is taken for a repeat, not for leaving
MIN_STAY = dt.timedelta(minutes=5)
#: how long the confirmation page opened by scanning the QR code stays good
SCAN_TICKET_SECONDS = 120
SCAN_SALT = "xinye.volunteering.scan"


def check_open(shift: Shift, now: dt.datetime) -> bool:
    return shift.starts_at - CHECK_OPENS <= now <= shift.ends_at + CHECK_CLOSES


def scan_ticket(*, shift: Shift, person) -> str:
    """Given when a volunteer opens the QR code's address with a valid token: a short-lived signed ticket that the
    confirmation button sends back (the window may have turned by the time they press it)."""
    from django.core import signing

    return signing.dumps({"s": shift.pk, "p": person.pk}, salt=SCAN_SALT, compress=False)


def _ticket_valid(ticket: str, shift: Shift, person) -> bool:
    from django.core import signing

    try:
        data = signing.loads(ticket, salt=SCAN_SALT, max_age=SCAN_TICKET_SECONDS)
    except signing.BadSignature:
        return False
    return data == {"s": shift.pk, "p": person.pk}


def _record(att: Attendance, shift: Shift) -> None:
    """Recorded minutes: the part of check-in..check-out inside the shift; counted when both exist and it is at
    least XINYE_VOLUNTEER_MIN_SHARE of the shift."""
    if att.checked_out_at is None:
        att.minutes, att.counted = 0, False
        return
    start = max(att.checked_in_at, shift.starts_at)
    end = min(att.checked_out_at, shift.ends_at)
    att.minutes = max(0, int((end - start).total_seconds() // 60))
    share = float(getattr(settings, "XINYE_VOLUNTEER_MIN_SHARE", 0.5))
    att.counted = shift.minutes > 0 and att.minutes >= share * shift.minutes


def _heard_from(att: Attendance) -> None:
    """A member who served is in touch with the Party (issue 12, item 6): their last contact moves up."""
    if att.counted:
        from xinye.people.services import member_heard_from

        member_heard_from(att.person_id, timezone.localdate(att.checked_out_at))


def _hours_sync(att: Attendance) -> None:
    """The recorded hours follow the attendance (hours.py, issue 14 item 4; imported here, as it imports us)."""
    from .hours import hours_sync

    hours_sync(att)


def _hours_frozen(att: Attendance) -> bool:
    from .hours import hours_frozen

    return hours_frozen(att)


def _distance_check(activity: Activity, lat, lon) -> None:
    """Within the activity's check-in distance of its place, when it has one and the place has coordinates. The
    coordinates are read here and forgotten: never stored, never logged."""
    from xinye.algorithms.geo import haversine_m

    radius = activity.check_in_radius_m
    where = activity.location
    if not radius or where is None:
        return
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise Refused(
            _("Share your location to check in here (it is only compared, never kept)."), field="location"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Refused(_("Share your location to check in here (it is only compared, never kept)."), field="location")
    metres = haversine_m(lat, lon, where[0], where[1])
    if metres > radius:
        far = {"m": int(round(metres)), "r": radius}
        raise Refused(_("You are %(m)s m from the place; check in within %(r)s m of it.") % far, field="location")


def attendance_check(
    *,
    person,
    shift: Shift,
    code: str = "",
    token: str = "",
    ticket: str = "",
    lat=None,
    lon=None,
    now: dt.datetime | None = None,
    via: str = "",
) -> tuple[Attendance, str]:
    """Check in, or out if already in, with the shift's current code: the 6 digits typed (`code`), the QR code's
    token (`token`), or the ticket of the page the QR code opened (`ticket`). Returns the attendance and "in" or
    "out". Refused: no place on the shift, outside the check-in period, an old or wrong code, too far from the
    place, already checked out, or a second scan within MIN_STAY of checking in."""
    from xinye.volunteering import codes

    now = now or timezone.now()
    if person is None:
        raise Refused(_("Only someone on record can sign up."))
    activity = shift.activity
    if shift.cancelled_at is not None or activity.cancelled_at is not None:
        raise Refused(_("This shift was cancelled."))
    if not Signup.objects.filter(shift=shift, person=person, status=SignupStatus.CONFIRMED).exists():
        raise Refused(_("You have no place on this shift."))
    if not check_open(shift, now):
        raise Refused(_("Check-in is open from 30 minutes before the shift until 2 hours after it."))
    give_back = code_attempt(f"checkin:p{person.pk}")
    if token:
        ok, method = codes.token_valid(shift.pk, token, now), CheckMethod.QR
    elif ticket:
        ok, method = _ticket_valid(ticket, shift, person), CheckMethod.QR
    else:
        ok, method = codes.digits_valid(shift.pk, code, now), CheckMethod.CODE
    if not ok:
        raise Refused(_("This code is not valid (any more): use the code shown now."), field="code")
    give_back()
    _distance_check(activity, lat, lon)
    with transaction.atomic():
        Shift.objects.select_for_update().filter(pk=shift.pk).first()  # one check at a time per shift
        att = Attendance.objects.filter(shift=shift, person=person).first()
        if att is None:
            att = Attendance(
                shift=shift, person=person, checked_in_at=now, check_in_method=method, check_in_by=person.user
            )
            _via(att, via).save()
            return att, "in"
        if att.checked_out_at is not None:
            raise Refused(_("You have already checked out of this shift."))
        if now - att.checked_in_at < MIN_STAY:
            raise Refused(
                _("You checked in at %(time)s; use the code again when you leave.")
                % {"time": f"{timezone.localtime(att.checked_in_at):%H:%M}"}
            )
        att.checked_out_at = now
        att.check_out_method = method
        att.check_out_by = person.user
        _record(att, shift)
        _via(att, via).save()
        _hours_sync(att)
        _heard_from(att)
    return att, "out"


def attendance_manual(
    *,
    scope: Scope,
    actor,
    shift: Shift,
    person,
    action: str,
    reason: str,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """A leader checks someone in or out by hand (a phone without battery, a late record), with a reason; `at`
    the time it happened (default now). Only for people signed up for the shift (with a place or waiting)."""
    if not policy.may_run_activity(scope, shift.activity):
        raise NotAllowed(_("Only those who run the activity check people in by hand."))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Say why you check them in or out by hand."), field="reason")
    now = now or timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=1):
        raise Refused(_("A check-in or check-out by hand cannot be in the future."), field="at")
    if not (shift.starts_at - CHECK_OPENS <= at <= shift.ends_at + CHECK_CLOSES):
        raise Refused(_("The time must be within the shift (from 30 minutes before to 2 hours after)."), field="at")
    if not Signup.objects.filter(shift=shift, person=person, status__in=OPEN_SIGNUP_STATUSES).exists():
        raise Refused(_("This person is not signed up for the shift."))
    if action not in ("in", "out"):
        raise ValueError(action)
    with transaction.atomic():
        Shift.objects.select_for_update().filter(pk=shift.pk).first()
        att = Attendance.objects.filter(shift=shift, person=person).first()
        if att is not None and _hours_frozen(att):
            raise Refused(_("These hours were reviewed already; award hours with a reason instead."))
        if action == "in":
            if att is None:
                att = Attendance(shift=shift, person=person)
            elif att.checked_out_at is not None and at > att.checked_out_at:
                raise Refused(_("The check-in must be before the check-out."), field="at")
            att.checked_in_at = at
            att.check_in_method = CheckMethod.MANUAL
            att.check_in_by = actor
            att.check_in_reason = reason[:300]
        else:
            if att is None:
                raise Refused(_("Check them in first."))
            if at < att.checked_in_at:
                raise Refused(_("The check-out must be after the check-in."), field="at")
            att.checked_out_at = at
            att.check_out_method = CheckMethod.MANUAL
            att.check_out_by = actor
            att.check_out_reason = reason[:300]
        _record(att, shift)
        att.save()
        _hours_sync(att)
        _heard_from(att)
    return att
