"""Service hours and points (issue 14, item 4): every write, one transaction each, keyword-only arguments.

- **Recorded hours** follow an attendance that counts (`hours_sync`, called by the check-out in
  `services.py`): one pending `HoursRecord` per attendance, its minutes and times kept in step while it is
  pending. Once reviewed, the attendance can no longer be changed by hand (award hours instead).
- **Awarded hours** are added by whoever runs the activity, with a reason (`hours_award`).
- **Review** (`hours_review`): pending -> approved or declined, once, by whom and when, in history; never by
  the volunteer, nor by whoever awarded them or entered their check-in or check-out by hand. Approving
  recorded hours credits points in the same transaction: `minutes * XINYE_POINTS_PER_HOUR // 60`, once per
  record (a unique constraint).
- **Points** are a ledger (`PointsEntry`: earn, redeem, expire); the balance is its sum, kept in
  `PointsBalance`, changed only by conditional updates that cannot take it below zero (and a database
  constraint): two redemptions at once cannot spend the same points.
- **Redemption** (`points_redeem`) at a station, by its operator, with the volunteer's code (`passes.py`),
  once per code. Wrong short codes are limited per operator (`XINYE_RATES["points_code"]`, the project's
  limiter): over the limit, typing codes is refused until the window ends (scanning the QR code still works).
- **Expiry** (`points_expire`, daily by the worker): with `XINYE_POINTS_EXPIRE_YEARS` = N > 0, points
  credited in year Y expire at the end of year Y + N. Points are spent oldest first, so what expires is what
  was credited up to then less everything redeemed or expired so far.

Who may do what is `accounts.policy` (`may_award_hours`, `may_review_hours`, `may_redeem_at`, `hours_q`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinye.accounts import policy
from xinye.accounts.scope import Scope

from . import passes
from .models import (
    OPEN_SIGNUP_STATUSES,
    Activity,
    Attendance,
    HoursKind,
    HoursRecord,
    HoursStatus,
    PointsBalance,
    PointsEntry,
    PointsKind,
    Signup,
    TeamMembership,
    TeamMembershipStatus,
)
from .services import NotAllowed, Refused

#: the longest period one award may cover, and how far back it may lie
MAX_AWARD = dt.timedelta(hours=24)
AWARD_LOOKBACK = dt.timedelta(days=366)
#: the most points one redemption may spend (a typing error of a few zeros is refused, not spent)
MAX_REDEEM = 100_000
#: the limiter's scope of wrong short codes typed by one operator (`common.ratelimit`)
CODE_LIMIT_SCOPE = "points_code"


class CodeLimited(Refused):
    """Too many wrong short codes from this operator: typing is paused for `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, field="code")
        self.retry_after = retry_after


def recording_organization(activity: Activity) -> str:
    """Who recorded the service, as the certificate and the export name it ("whoever records the service
    certifies it"): the organizing team (with its organization, if it has one) or the organization."""
    if activity.team_id:
        team = activity.team
        org = team.organization if team.organization_id else activity.organization
        return f"{team.name}（{org.name}）" if org is not None else team.name
    return activity.organization.name if activity.organization_id else ""


def points_per_hour() -> int:
    return int(getattr(settings, "XINYE_POINTS_PER_HOUR", 10))


def points_for(minutes: int) -> int:
    """Points earned by approved recorded minutes: whole points, rounded down."""
    return max(0, int(minutes) * points_per_hour() // 60)


def expire_years() -> int:
    return int(getattr(settings, "XINYE_POINTS_EXPIRE_YEARS", 0))


# ---------------------------------------------------------------------------------------------- recorded hours


def hours_frozen(att: Attendance) -> bool:
    """The attendance's hours were reviewed: its times may no longer change."""
    return HoursRecord.objects.filter(attendance=att).exclude(status=HoursStatus.PENDING).exists()


def hours_sync(att: Attendance) -> HoursRecord | None:
    """Keep the recorded hours of an attendance in step with it (inside the caller's transaction): pending
    hours made when it counts, their times updated while pending, removed when it no longer counts."""
    rec = HoursRecord.objects.filter(attendance=att).first()
    if rec is not None and rec.status != HoursStatus.PENDING:
        return rec
    if not att.counted:
        if rec is not None:
            rec.delete()  # pending, never reviewed; the deletion is in history
        return None
    shift = att.shift
    start = max(att.checked_in_at, shift.starts_at)
    end = min(att.checked_out_at, shift.ends_at)
    if rec is None:
        rec = HoursRecord(
            kind=HoursKind.RECORDED, attendance=att, person_id=att.person_id, activity_id=shift.activity_id, shift=shift
        )
    rec.starts_at, rec.ends_at, rec.minutes = start, end, att.minutes
    rec.save()
    return rec


# ---------------------------------------------------------------------------------------------- awarded hours


def _volunteer_of(activity: Activity, person) -> bool:
    """Signed up for one of its shifts (with a place or waiting), or an approved member of its team."""
    if Signup.objects.filter(shift__activity=activity, person=person, status__in=OPEN_SIGNUP_STATUSES).exists():
        return True
    return bool(
        activity.team_id
        and TeamMembership.objects.filter(
            team_id=activity.team_id, person=person, status=TeamMembershipStatus.APPROVED
        ).exists()
    )


def hours_award(
    *,
    scope: Scope,
    actor,
    activity: Activity,
    person,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    now: dt.datetime | None = None,
) -> HoursRecord:
    """Award hours served from `starts_at` to `ends_at` on the activity, with a reason; pending until another
    person who runs the activity reviews them."""
    if not policy.may_award_hours(scope, activity):
        raise NotAllowed(_("Only those who run the activity award hours."))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Say why you award these hours."), field="reason")
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("award times must be timezone-aware")
    now = now or timezone.now()
    if ends_at <= starts_at:
        raise Refused(_("The end must be after the start."), field="ends_at")
    if ends_at - starts_at > MAX_AWARD:
        raise Refused(_("One award covers at most 24 hours."), field="ends_at")
    if ends_at > now + dt.timedelta(minutes=1):
        raise Refused(_("Hours are awarded for time already served, not in the future."), field="ends_at")
    if starts_at < now - AWARD_LOOKBACK:
        raise Refused(_("Hours are awarded within a year of the service."), field="starts_at")
    if person is None or not person.is_processable:
        raise Refused(_("Only someone on record can be awarded hours."), field="person")
    if not _volunteer_of(activity, person):
        raise Refused(_("Award hours to a volunteer of this activity (signed up, or in its team)."), field="person")
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    if minutes < 1:
        raise Refused(_("The end must be after the start."), field="ends_at")
    with transaction.atomic():
        overlap = (
            HoursRecord.objects.filter(person=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
            .exclude(status=HoursStatus.DECLINED)
            .exists()
        )
        if overlap:
            raise Refused(_("These times overlap hours already on record for this person."), field="starts_at")
        return HoursRecord.objects.create(
            kind=HoursKind.AWARDED,
            person=person,
            activity=activity,
            starts_at=starts_at,
            ends_at=ends_at,
            minutes=minutes,
            reason=reason[:300],
            created_by=actor,
        )


# ---------------------------------------------------------------------------------------------- review


def hours_review(
    *, scope: Scope, actor, record: HoursRecord, approve: bool, note: str = "", now: dt.datetime | None = None
) -> HoursRecord:
    """Approve or decline pending hours, once (the row is locked; a second decision is refused). Declining
    needs a reason. Approved recorded hours earn points in the same transaction."""
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        rec = HoursRecord.objects.select_for_update(of=("self",)).get(pk=record.pk)
        if not policy.may_review_hours(scope, rec, actor):
            raise NotAllowed(_("You may not review these hours."))
        if rec.status != HoursStatus.PENDING:
            raise Refused(_("These hours were reviewed already."))
        if not approve and not note:
            raise Refused(_("Say why you decline these hours."), field="note")
        rec.status = HoursStatus.APPROVED if approve else HoursStatus.DECLINED
        rec.reviewed_by, rec.reviewed_at, rec.review_note = actor, now, note[:300]
        rec.save()
        if approve and rec.kind == HoursKind.RECORDED:
            _earn(rec, actor=actor, now=now)
    record.refresh_from_db()
    return rec


# ---------------------------------------------------------------------------------------------- points


def _balance_add(person_id: int, points: int, now: dt.datetime) -> None:
    if PointsBalance.objects.filter(person_id=person_id).update(balance=F("balance") + points, updated_at=now):
        return
    try:
        with transaction.atomic():
            PointsBalance.objects.create(person_id=person_id, balance=points)
    except IntegrityError:  # made at the same moment by another transaction
        PointsBalance.objects.filter(person_id=person_id).update(balance=F("balance") + points, updated_at=now)


def _balance_take(person_id: int, points: int, now: dt.datetime) -> bool:
    """Take `points` from the balance if it holds that many: one conditional UPDATE, so a concurrent
    redemption waits for this one's row lock and then finds the balance already lowered."""
    return bool(
        PointsBalance.objects.filter(person_id=person_id, balance__gte=points).update(
            balance=F("balance") - points, updated_at=now
        )
    )


def _earn(rec: HoursRecord, *, actor, now: dt.datetime) -> PointsEntry | None:
    pts = points_for(rec.minutes)
    if pts <= 0:
        return None
    entry = PointsEntry.objects.create(
        person_id=rec.person_id,
        kind=PointsKind.EARN,
        points=pts,
        hours=rec,
        year=timezone.localdate(now).year,
        note=rec.activity.title[:200],
        created_by=actor,
        created_at=now,
    )
    _balance_add(rec.person_id, pts, now)
    return entry


def points_balance(person_id: int | None) -> int:
    if not person_id:
        return 0
    return PointsBalance.objects.filter(person_id=person_id).values_list("balance", flat=True).first() or 0


def points_redeem(
    *, scope: Scope, actor, station, code: str, points: int, note: str = "", now: dt.datetime | None = None
) -> PointsEntry:
    """Redeem `points` of the volunteer whose code (`code`: the QR code's token or the typed short code) the
    station's operator read. Refused: not this viewer's station, an old or wrong code, a code already used,
    fewer points than asked."""
    if not policy.may_redeem_at(scope, station):
        raise NotAllowed(_("Points are redeemed by the station's own operator."))
    now = now or timezone.now()
    found = _read_counted(actor, code, now)
    person = _holder(found)
    if person is None:
        raise Refused(_("This code is not valid (any more): ask the volunteer for the code shown now."), field="code")
    if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= MAX_REDEEM:
        raise Refused(_("Enter the points to redeem: a whole number from 1 to 100000."), field="points")
    window = found[1]
    try:
        with transaction.atomic():
            if not _balance_take(person.pk, points, now):
                raise Refused(
                    _("Not enough points: the balance is %(n)s.") % {"n": points_balance(person.pk)}, field="points"
                )
            return PointsEntry.objects.create(
                person=person,
                kind=PointsKind.REDEEM,
                points=-points,
                station=station,
                station_name=station.name[:200],
                pass_window=window,
                note=(note or "").strip()[:200],
                created_by=actor,
                created_at=now,
            )
    except IntegrityError:
        raise Refused(_("This code was used already: ask the volunteer for the next one."), field="code") from None


def _holder(found: tuple[int, int] | None):
    from xinye.people.models import Person

    if found is None:
        return None
    person = Person.objects.filter(pk=found[0]).first()
    return person if person is not None and person.is_processable else None


def pass_person(code: str, now: dt.datetime | None = None):
    """The person whose valid code this is, or None (unknown, old, or a person who withdrew consent). An
    operator's lookup goes through `pass_lookup`, which counts wrong short codes."""
    return _holder(passes.read(code, now or timezone.now()))


def pass_lookup(*, actor, code: str, now: dt.datetime | None = None):
    """`pass_person` for an operator at a station: a typed short code counts against the operator's limit of
    wrong codes (CodeLimited when over it)."""
    now = now or timezone.now()
    return _holder(_read_counted(actor, code, now))


def _read_counted(actor, code: str, now: dt.datetime) -> tuple[int, int] | None:
    """Read a code; a typed short code is counted per operator first (so that twenty at once cannot pass a
    limit of ten), and given back when it was right: only wrong codes use up the limit. The QR code's token
    is not counted: it carries 132 bits of its HMAC, the short code 20 (6 digits), which is what a limit
    must protect."""
    from xinye.common import ratelimit

    code = (code or "").strip()
    if not code or "." in code:
        return passes.read(code, now)
    ident = str(getattr(actor, "pk", None) or "anonymous")
    rate = ratelimit.rate_setting(CODE_LIMIT_SCOPE)
    decision = ratelimit.hit(CODE_LIMIT_SCOPE, ident, rate)
    if not decision.allowed:
        minutes = max(1, -(-decision.retry_after // 60))
        raise CodeLimited(
            _(
                "Too many wrong short codes were typed on this account: typing codes is paused for %(minutes)s min. "
                "Scan the volunteer's QR code instead, or try again later."
            )
            % {"minutes": minutes},
            retry_after=decision.retry_after,
        )
    found = passes.read(code, now)
    if _holder(found) is not None:
        ratelimit.give_back(CODE_LIMIT_SCOPE, ident, rate)
    return found


def _consumed_and_credited(person_id: int, through_year: int) -> tuple[int, int]:
    """(points credited in `through_year` and before, points redeemed or expired so far) of a person."""
    sums = PointsEntry.objects.filter(person_id=person_id).aggregate(
        credited=Sum("points", filter=Q(kind=PointsKind.EARN, year__lte=through_year)),
        used=Sum("points", filter=Q(kind__in=[PointsKind.REDEEM, PointsKind.EXPIRE])),
    )
    return sums["credited"] or 0, -(sums["used"] or 0)


def points_expiring(person_id: int | None, today: dt.date | None = None) -> tuple[int, int] | None:
    """(points, year): how many of the person's points expire at the end of this year; None when points do
    not expire."""
    n = expire_years()
    if n <= 0 or not person_id:
        return None
    today = today or timezone.localdate()
    credited, used = _consumed_and_credited(person_id, today.year - n)
    return max(0, credited - used), today.year


def points_expire(*, today: dt.date | None = None) -> int:
    """Expire the points due (see the module's documentation); returns how many points expired. Safe to run
    again or twice at once (each person's balance row is locked while their expiry is computed)."""
    n = expire_years()
    if n <= 0:
        return 0
    today = today or timezone.localdate()
    cutoff = today.year - n - 1
    now = timezone.now()
    candidates = (
        PointsEntry.objects.values("person_id")
        .annotate(
            credited=Sum("points", filter=Q(kind=PointsKind.EARN, year__lte=cutoff)),
            used=Sum("points", filter=Q(kind__in=[PointsKind.REDEEM, PointsKind.EXPIRE])),
        )
        .filter(credited__gt=0)
        .order_by("person_id")
    )
    total = 0
    for row in candidates.iterator():
        if (row["credited"] or 0) + (row["used"] or 0) <= 0:
            continue
        with transaction.atomic():
            PointsBalance.objects.select_for_update().filter(person_id=row["person_id"]).first()
            credited, used = _consumed_and_credited(row["person_id"], cutoff)
            amount = credited - used
            if amount <= 0:
                continue
            if not _balance_take(row["person_id"], amount, now):
                raise RuntimeError(f"points balance of person {row['person_id']} is below its ledger")
            PointsEntry.objects.create(
                person_id=row["person_id"], kind=PointsKind.EXPIRE, points=-amount, year=cutoff, created_at=now
            )
            total += amount
    return total
