"""Vanguard posts, volunteer teams, activities, shifts, sign-ups and attendance (issue 14).

Places are what Xinye already keeps: a station, a community (a `places.Division`), a company's business unit,
an organization. Every team, post and activity also records `division`, the division it lies in (the
community, the station's community, the organization's place, the unit's division), so that scoping by an
organizer's division subtree is one indexed prefix filter, the same as everywhere else (accounts.policy).

Who may see or lead what is decided in `accounts.policy` (`teams_q`, `may_lead_team`, `may_manage_team`,
`vanguard_posts_q`, `may_manage_post`, `activities_q`, `may_run_activity`); writes are in `services.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xinye.common.models import TimestampedModel

# ---------------------------------------------------------------------------------------------- teams


class Team(TimestampedModel):
    """A volunteer team. It belongs to exactly one of: an organization, a station, a community."""

    name = models.CharField(_("name"), max_length=100)
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_teams",
        verbose_name=_("organization"),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_teams",
        verbose_name=_("station"),
    )
    community = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_teams",
        verbose_name=_("community"),
    )
    #: where the team is, for scoping: the community, the station's community or the organization's place
    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("place")
    )
    description = models.TextField(_("description"), blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(organization__isnull=False, station__isnull=True, community__isnull=True)
                    | Q(organization__isnull=True, station__isnull=False, community__isnull=True)
                    | Q(organization__isnull=True, station__isnull=True, community__isnull=False)
                ),
                name="team_belongs_to_one_place",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def home(self):
        """What the team belongs to: its organization, station or community."""
        return self.organization or self.station or self.community

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None


class TeamMembershipStatus(models.TextChoices):
    REQUESTED = "requested", _("Asked to join")
    APPROVED = "approved", _("Member of the team")
    DECLINED = "declined", _("Declined")
    LEFT = "left", _("Left")


#: the statuses of a membership still open: a person has at most one such row per team
OPEN_TEAM_STATUSES = (TeamMembershipStatus.REQUESTED, TeamMembershipStatus.APPROVED)


class TeamMembership(TimestampedModel):
    """A person in a team (a worker or a member): asked to join, then approved or declined by a leader; leaves
    later. A leader is an approved membership with `leader` set. Rows are never deleted: joining again after
    leaving or being declined is a new row, so the history of the team is kept."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="team_memberships")
    status = models.CharField(
        _("status"), max_length=10, choices=TeamMembershipStatus.choices, default=TeamMembershipStatus.REQUESTED
    )
    leader = models.BooleanField(_("leader"), default=False)
    #: the person's message when asking, or the leader's reason when declining
    note = models.CharField(_("note"), max_length=300, blank=True)
    requested_at = models.DateTimeField(_("asked on"))
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    left_at = models.DateTimeField(_("left on"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["team", "-leader", "person__name", "pk"]
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "person"],
                condition=Q(status__in=["requested", "approved"]),
                name="one_open_team_membership",
            ),
            models.CheckConstraint(
                condition=Q(leader=False) | Q(status="approved"), name="team_leader_is_approved_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.team} ({self.status})"


# ---------------------------------------------------------------------------------------------- posts


class PostKind(models.TextChoices):
    VANGUARD = "vanguard", _("Vanguard post")
    MODEL = "model", _("Model post")


class VanguardPost(TimestampedModel):
    """A vanguard post (党员先锋岗) or model post (示范岗): held by a member or by a team, at a place (a station,
    a community or a company's business unit), with a duty, for a period."""

    kind = models.CharField(_("kind"), max_length=10, choices=PostKind.choices, default=PostKind.VANGUARD)
    title = models.CharField(_("title"), max_length=120)
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="vanguard_posts",
        verbose_name=_("held by (member)"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="posts", verbose_name=_("held by (team)")
    )
    station = models.ForeignKey(
        "stations.Station", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("station")
    )
    community = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    business_unit = models.ForeignKey(
        "organizations.BusinessUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("business unit"),
    )
    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("place")
    )
    duty = models.TextField(_("duty"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name = _("vanguard or model post")
        verbose_name_plural = _("vanguard and model posts")
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, team__isnull=True) | Q(person__isnull=True, team__isnull=False),
                name="post_held_by_one",
            ),
            models.CheckConstraint(
                condition=(
                    Q(station__isnull=False, community__isnull=True, business_unit__isnull=True)
                    | Q(station__isnull=True, community__isnull=False, business_unit__isnull=True)
                    | Q(station__isnull=True, community__isnull=True, business_unit__isnull=False)
                ),
                name="post_at_one_place",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="post_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def holder(self):
        return self.person or self.team

    @property
    def place(self):
        return self.station or self.community or self.business_unit


# ---------------------------------------------------------------------------------------------- activities


class ActivityKind(models.TextChoices):
    SAFETY_PATROL = "safety_patrol", _("Safety patrol")
    CIVILITY = "civility", _("Civility campaign")
    COMMUNITY_SERVICE = "community_service", _("Community service")
    STATION_DUTY = "station_duty", _("Station duty")
    EMERGENCY = "emergency", _("Emergency")
    TRAINING = "training", _("Training")


class Activity(TimestampedModel):
    """A volunteer activity at a place (a station or a community), organized by a team or an organization (or
    both: a team of an organization), with shifts. `open_nearby`: volunteers working in the same district may
    find it and sign up; otherwise only the organizers' own people see it."""

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    description = models.TextField(_("description"), blank=True)
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_activities",
        verbose_name=_("station"),
    )
    community = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    #: where exactly to meet (a gate, a crossing), as people write it
    address = models.CharField(_("where to meet"), max_length=200, blank=True)
    division = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("place")
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="activities", verbose_name=_("team")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_activities",
        verbose_name=_("organization"),
    )
    open_nearby = models.BooleanField(_("open to volunteers working nearby"), default=True)
    #: check-in only within this distance of the place (metres); empty: no distance check
    check_in_radius_m = models.PositiveIntegerField(_("check-in within (m)"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(station__isnull=False, community__isnull=True)
                | Q(station__isnull=True, community__isnull=False),
                name="activity_at_one_place",
            ),
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(organization__isnull=False), name="activity_has_organizer"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def place(self):
        return self.station or self.community

    @property
    def organizer(self):
        return self.team or self.organization

    @property
    def location(self) -> tuple[float, float] | None:
        """(lat, lon) WGS-84 of the place: the station's, or the community's when it has one."""
        place = self.place
        if place is not None and place.lat is not None and place.lon is not None:
            return (place.lat, place.lon)
        return None


class Shift(TimestampedModel):
    """One time slot of an activity with a number of places; sign-ups beyond it wait in line."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="shift_has_a_place"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Signed up")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_SIGNUP_STATUSES = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class Signup(TimestampedModel):
    """A person signed up for a shift: confirmed while there is a place, else on the waiting list in the order
    of signing up (`created_at`, then `pk`); a cancellation of a confirmed place promotes the first in line."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="shift_signups")
    status = models.CharField(_("status"), max_length=10, choices=SignupStatus.choices)
    promoted_at = models.DateTimeField(_("moved up from the waiting list"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    #: when the reminder before the shift was sent (sent once)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["shift", "created_at", "pk"]
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "person"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="one_open_signup_per_shift",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.shift} ({self.status})"


class CalendarFeed(models.Model):
    """A private iCalendar address (RFC 5545) of a volunteer's shifts or of a team's activities. The address
    holds a random token; only its SHA-256 is stored, so the address is shown once, when it is made. Making a
    new one or revoking ends the old one."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="calendar_feeds"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("made"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_read_at = models.DateTimeField(_("last read by a calendar"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, team__isnull=True) | Q(person__isnull=True, team__isnull=False),
                name="feed_of_one",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(revoked_at__isnull=True, person__isnull=False),
                name="one_feed_per_person",
            ),
            models.UniqueConstraint(
                fields=["team"], condition=Q(revoked_at__isnull=True, team__isnull=False), name="one_feed_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"feed {self.pk} ({'person' if self.person_id else 'team'})"


# ---------------------------------------------------------------------------------------------- attendance


class CheckMethod(models.TextChoices):
    CODE = "code", _("6-digit code")
    QR = "qr", _("QR code")
    MANUAL = "manual", _("By hand, by a leader")


class Attendance(TimestampedModel):
    """A volunteer's check-in and check-out on a shift ("whoever records the service certifies it").

    `minutes` is the time recorded within the shift (check-in to check-out, the part inside the shift's start
    and end); `counted` says whether it counts as service hours: only with both a check-in and a check-out and
    at least XINYE_VOLUNTEER_MIN_SHARE of the shift. No location is stored: a distance check reads the
    coordinates the browser sends and forgets them."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="attendances")
    checked_in_at = models.DateTimeField(_("checked in"))
    check_in_method = models.CharField(_("checked in by"), max_length=8, choices=CheckMethod.choices)
    check_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    check_in_reason = models.CharField(_("reason (by hand)"), max_length=300, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    check_out_method = models.CharField(_("checked out by"), max_length=8, choices=CheckMethod.choices, blank=True)
    check_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    check_out_reason = models.CharField(_("reason (by hand)"), max_length=300, blank=True)
    minutes = models.PositiveIntegerField(_("recorded minutes"), default=0)
    counted = models.BooleanField(_("counts as service hours"), default=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["shift", "checked_in_at", "pk"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(fields=["shift", "person"], name="one_attendance_per_shift"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=models.F("checked_in_at")),
                name="attendance_out_after_in",
            ),
            models.CheckConstraint(
                condition=Q(counted=False) | Q(checked_out_at__isnull=False), name="counted_needs_out"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.shift}"


# ---------------------------------------------------------------------------------------------- hours and points


class HoursKind(models.TextChoices):
    RECORDED = "recorded", _("Recorded by check-in and check-out")
    AWARDED = "awarded", _("Awarded by a leader")


class HoursStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class HoursRecord(TimestampedModel):
    """Service hours of a person on an activity, reviewed by a leader (issue 14, item 4).

    Two kinds, kept apart: **recorded** hours come from an attendance that counts (one row per attendance,
    made and kept in step by the check-out, `minutes` and times the attendance's part inside the shift);
    **awarded** hours are added by whoever runs the activity, with a reason (time served outside the shift,
    a record the phones missed). Each is pending until reviewed once: approved or declined, by whom and when.
    Approved recorded hours earn points (`PointsEntry`); approved hours of both kinds are on the certificate
    and in the export."""

    kind = models.CharField(_("kind"), max_length=10, choices=HoursKind.choices)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="volunteer_hours")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="hours", verbose_name=_("activity"))
    shift = models.ForeignKey(Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="hours")
    attendance = models.OneToOneField(Attendance, on_delete=models.CASCADE, null=True, blank=True, related_name="hours")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    minutes = models.PositiveIntegerField(_("minutes"))
    #: awarded hours: why the leader adds them (required)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=HoursStatus.choices, default=HoursStatus.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed on"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-starts_at", "pk"]
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        indexes = [
            models.Index(fields=["person", "status"], name="hours_person_status"),
            models.Index(fields=["activity", "status"], name="hours_activity_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="recorded", attendance__isnull=False) | Q(kind="awarded", attendance__isnull=True),
                name="hours_recorded_have_an_attendance",
            ),
            models.CheckConstraint(condition=Q(kind="recorded") | ~Q(reason=""), name="hours_awarded_have_a_reason"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="hours_end_after_start"),
            models.CheckConstraint(condition=Q(minutes__gte=1), name="hours_at_least_a_minute"),
            models.CheckConstraint(
                condition=Q(status="pending", reviewed_at__isnull=True)
                | Q(status__in=["approved", "declined"], reviewed_at__isnull=False),
                name="hours_reviewed_when_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.minutes} min @ {self.activity} ({self.kind}, {self.status})"

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


class PointsKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")


class PointsEntry(models.Model):
    """One line of a person's points ledger; the balance is the sum of `points` (earned positive, redeemed and
    expired negative). Lines are never changed or deleted. `PointsBalance` holds the same sum in one row per
    person, so that a redemption is one conditional update that can never take it below zero."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="points_entries")
    kind = models.CharField(_("kind"), max_length=8, choices=PointsKind.choices)
    points = models.IntegerField(_("points"))
    #: earn: the approved recorded hours that earned it (once per record)
    hours = models.ForeignKey(HoursRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    #: earn: the year the points were credited; expire: the last year of credits it ends
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    station = models.ForeignKey("stations.Station", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    #: the station's name when redeemed there (the ledger reads the same if the station is renamed or closed)
    station_name = models.CharField(_("station"), max_length=200, blank=True)
    #: redeem: the time window of the volunteer's code; a code redeems once
    pass_window = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="earn", points__gt=0) | Q(kind__in=["redeem", "expire"], points__lt=0),
                name="points_sign_by_kind",
            ),
            models.UniqueConstraint(
                fields=["hours"], condition=Q(kind="earn", hours__isnull=False), name="points_earned_once_per_hours"
            ),
            models.UniqueConstraint(
                fields=["person", "pass_window"],
                condition=Q(kind="redeem", pass_window__isnull=False),
                name="points_code_redeems_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.kind} {self.points}"


class PointsBalance(models.Model):
    """A person's points balance: the sum of their ledger, kept in one row. Never below zero (a database
    constraint); every change is a conditional `UPDATE ... SET balance = balance - n WHERE balance >= n` in the
    transaction that writes the ledger line, so two redemptions at once cannot spend the same points."""

    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, related_name="points_balance")
    balance = models.IntegerField(_("points"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points balance")
        verbose_name_plural = _("points balances")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_never_negative")]

    def __str__(self) -> str:
        return f"{self.person}: {self.balance}"


# commendations (issue 14, item 6) live in their own module with their services
from .recognition import Commendation, CommendationKind, CommendationStatus  # noqa: E402, F401
