"""Volunteering seen from above (issue 14, item 7): teams, activities, hours and active volunteers by district,
organization, platform and occupation, and a map of posts and activities, for those who oversee an area.

Every count is taken over what `accounts.policy` lets the viewer see (`teams_q`, `activities_q`,
`vanguard_posts_q`, `commendations_q`); nobody is named here. Hours are the counted minutes of attendances
(check-in and check-out, at least the configured share of the shift); approved hours and the points they earned
(item 4) are those of the same activities after review, and commendations are counted by kind for the year.
A volunteer who drives or rides for two platforms counts under each (the table says so); every other breakdown
counts each volunteer once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope

#: a volunteer who served within this many days is active
ACTIVE_DAYS = 90


@dataclass
class Row:
    key: str
    label: str
    activities: int = 0
    hours: float = 0.0
    volunteers: set = field(default_factory=set)
    #: hours approved after review (recorded and awarded) and the points they earned
    approved_hours: float = 0.0
    points: int = 0

    @property
    def volunteer_count(self) -> int:
        return len(self.volunteers)


def overview(*, scope: Scope, today: dt.date | None = None) -> dict:
    from xinye.organizations.models import Company
    from xinye.people.models import Occupation
    from xinye.places.models import Division
    from xinye.volunteering.models import Activity, Attendance, Shift, Team, TeamMembership, VanguardPost

    today = today or timezone.localdate()
    now = timezone.now()
    teams = Team.objects.filter(policy.teams_q(scope), dissolved_on__isnull=True)
    activities = Activity.objects.filter(policy.activities_q(scope), cancelled_at__isnull=True)
    posts = VanguardPost.objects.filter(policy.vanguard_posts_q(scope)).exclude(ends_on__lt=today)
    attendances = Attendance.objects.filter(shift__activity__in=activities.values("pk"), counted=True)
    rows = list(
        attendances.values_list(
            "person_id",
            "minutes",
            "checked_out_at",
            "shift__activity_id",
            "shift__activity__division__code",
            "shift__activity__organization__name",
            "shift__activity__team__organization__name",
            "person__occupation",
        )
    )
    since = now - dt.timedelta(days=ACTIVE_DAYS)
    by_activity = dict(activities.values_list("pk", "division__code"))
    activity_org = {
        pk: org or team_org or ""
        for pk, org, team_org in activities.values_list("pk", "organization__name", "team__organization__name")
    }
    districts = {
        d.code: d.name for d in Division.objects.filter(code__in={(c or "")[:6] for c in by_activity.values()})
    }
    occupations = dict(Occupation.choices)
    tables: dict[str, dict[str, Row]] = {k: {} for k in ("district", "organization", "platform", "occupation")}

    def row(table: str, key: str, label: str) -> Row:
        got = tables[table].get(key)
        if got is None:
            got = tables[table][key] = Row(key, label)
        return got

    for pk, code in by_activity.items():
        d = (code or "")[:6]
        row("district", d, districts.get(d, "—")).activities += 1
        org = activity_org.get(pk, "")
        row("organization", org, org or "—").activities += 1
    person_ids = {r[0] for r in rows}
    platforms: dict[int, list[tuple[int, str]]] = defaultdict(list)
    through = Company.workers.through
    names = dict(Company.objects.values_list("pk", "short_name"))
    full = dict(Company.objects.values_list("pk", "name"))
    approved_people = set(_approved_person_ids(activities))
    for pid, cid in through.objects.filter(person_id__in=person_ids | approved_people).values_list(
        "person_id", "company_id"
    ):
        platforms[pid].append((cid, names.get(cid) or full.get(cid, "")))
    total_minutes = 0
    active: set[int] = set()
    for pid, minutes, out_at, _activity, code, org, team_org, occupation in rows:
        hours = minutes / 60
        total_minutes += minutes
        if out_at and out_at >= since:
            active.add(pid)
        d = (code or "")[:6]
        for table, key, label in (
            ("district", d, districts.get(d, "—")),
            ("organization", org or team_org or "", org or team_org or "—"),
            ("occupation", occupation or "", str(occupations.get(occupation, "—"))),
        ):
            r = row(table, key, label)
            r.hours += hours
            r.volunteers.add(pid)
        for cid, label in platforms.get(pid) or [(0, "—")]:
            r = row("platform", str(cid), label)
            r.hours += hours
            r.volunteers.add(pid)
    for pid, minutes, code, org, team_org, occupation, points in _approved_rows(activities):
        hours = minutes / 60
        d = (code or "")[:6]
        cells = [
            ("district", d, districts.get(d, "—")),
            ("organization", org or team_org or "", org or team_org or "—"),
            ("occupation", occupation or "", str(occupations.get(occupation, "—"))),
        ]
        cells += [("platform", str(cid), label) for cid, label in platforms.get(pid) or [(0, "—")]]
        for table, key, label in cells:
            r = row(table, key, label)
            r.approved_hours += hours
            r.points += points
    ordered = {k: sorted(v.values(), key=lambda r: (-r.hours, -r.activities, r.label)) for k, v in tables.items()}
    shifts = Shift.objects.filter(activity__in=activities.values("pk"), cancelled_at__isnull=True)
    reviewed = _reviewed(scope, activities, today)
    return {
        **reviewed,
        "teams": teams.count(),
        "team_members": TeamMembership.objects.filter(team__in=teams.values("pk"), status="approved").count(),
        "activities": activities.count(),
        "past_shifts": shifts.filter(ends_at__lt=now).count(),
        "coming_shifts": shifts.filter(starts_at__gte=now).count(),
        "posts": posts.count(),
        "hours": round(total_minutes / 60, 1),
        "volunteers": len(person_ids),
        "active": len(active),
        "active_days": ACTIVE_DAYS,
        "tables": ordered,
        "map": _map(activities, posts),
    }


def _approved(activities):
    from xinye.volunteering.models import HoursRecord, HoursStatus

    return HoursRecord.objects.filter(activity__in=activities.values("pk"), status=HoursStatus.APPROVED)


def _approved_person_ids(activities):
    return _approved(activities).values_list("person_id", flat=True).distinct()


def _approved_rows(activities) -> list[tuple]:
    """(person, minutes, division code, organization, team's organization, occupation, points earned) of each
    approved hours record of the activities."""
    from xinye.volunteering.models import PointsEntry, PointsKind

    approved = _approved(activities)
    earned = dict(
        PointsEntry.objects.filter(kind=PointsKind.EARN, hours__in=approved.values("pk")).values_list(
            "hours_id", "points"
        )
    )
    return [
        (pid, minutes, code, org, team_org, occupation, earned.get(pk, 0))
        for pk, pid, minutes, code, org, team_org, occupation in approved.values_list(
            "pk",
            "person_id",
            "minutes",
            "activity__division__code",
            "activity__organization__name",
            "activity__team__organization__name",
            "person__occupation",
        )
    ]


def _reviewed(scope: Scope, activities, today: dt.date) -> dict:
    """Approved hours of the activities and the points they earned; approved commendations of the year by kind."""
    from django.db.models import Sum

    from xinye.volunteering.models import PointsEntry, PointsKind
    from xinye.volunteering.recognition import CommendationKind, approved_counts

    approved = _approved(activities)
    minutes = approved.aggregate(n=Sum("minutes"))["n"] or 0
    earned = (
        PointsEntry.objects.filter(kind=PointsKind.EARN, hours__in=approved.values("pk")).aggregate(n=Sum("points"))[
            "n"
        ]
        or 0
    )
    counts = approved_counts(scope=scope, year=today.year)
    return {
        "approved_hours": round(minutes / 60, 1),
        "points_earned": earned,
        "commendations": [(label, counts[k]) for k, label in CommendationKind.choices if counts.get(k)],
        "year": today.year,
    }


def _map(activities, posts) -> dict:
    """Points of posts and activities (at their station, or their community's location), for the map."""

    def point(obj) -> list[float] | None:
        if obj.station_id and obj.station:
            return [obj.station.lon, obj.station.lat]
        community = getattr(obj, "community", None)
        if community is not None and community.lon is not None:
            return [community.lon, community.lat]
        return None

    def points(qs, name):
        out = []
        for obj in qs.select_related("station", "community"):
            at = point(obj)
            if at is not None:
                out.append({"name": name(obj), "value": at})
        return out

    return {
        "activities": points(activities, lambda a: f"{a.title} · {a.get_kind_display()}"),
        "posts": points(posts, lambda p: f"{p.title} · {p.get_kind_display()}"),
    }
