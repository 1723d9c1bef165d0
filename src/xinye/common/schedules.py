"""Schedules without cron (issue 11): what the worker runs on its own, kept as data.

The schedules are django-q2 `Schedule` rows: administrators see and edit them (times, intervals, switching
one off by setting its repeats to 0) in the admin site under "Jobs". `ensure_schedules` creates the ones
missing when the worker starts and never overwrites an administrator's change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Planned:
    name: str
    func: str
    schedule_type: str  # django_q Schedule.MINUTES / DAILY / MONTHLY
    minutes: int | None
    label: object


def planned() -> list[Planned]:
    from django_q.models import Schedule

    return [
        Planned(
            "xinye: recover stopped jobs",
            "xinye.common.jobs.jobs_recover",
            Schedule.MINUTES,
            1,
            _("Run again, or end with a reason, jobs whose worker stopped; the worker's heartbeat"),
        ),
        Planned(
            "xinye: escalate late demands",
            "xinye.demands.services.demands_escalate",
            Schedule.MINUTES,
            5,
            _("Escalate demands past their due date one level up"),
        ),
        Planned(
            "xinye: remind volunteers of their shifts",
            "xinye.volunteering.services.shift_reminders_send",
            Schedule.MINUTES,
            15,
            _("Send volunteers a text message before their shift (once, XINYE_VOLUNTEER_REMINDER_HOURS ahead)"),
        ),
        Planned(
            "xinye: expire volunteer points",
            "xinye.volunteering.hours.points_expire",
            Schedule.DAILY,
            None,
            _("Expire volunteer points credited more than XINYE_POINTS_EXPIRE_YEARS years ago (nothing when 0)"),
        ),
        Planned(
            "xinye: monthly indicator snapshot",
            "xinye.reports.services.indicator_snapshots_monthly",
            Schedule.MONTHLY,
            None,
            _("Take the snapshot of every indicator for the month that has just ended (the trend lines, the pilots)"),
        ),
        Planned(
            "xinye: count the home pages' indicators",
            "xinye.reports.services.indicators_warm",
            Schedule.MINUTES,
            4,
            _("Count the indicators of every organizer's home page ahead of time (kept for a few minutes)"),
        ),
        Planned(
            "xinye: delete old roster uploads",
            "xinye.people.roster.uploads_sweep",
            Schedule.MINUTES,
            30,
            _("Delete uploaded rosters (they may hold ID-card numbers) not imported within two hours of their check"),
        ),
        Planned(
            "xinye: member flags and term reminders",
            "xinye.organizations.reminders.reminders_refresh",
            Schedule.DAILY,
            None,
            _("Flag floating members due to transfer and members out of contact; terms falling due"),
        ),
    ]


def ensure_schedules() -> list[str]:
    """Create the planned schedules that are missing (by name); returns the names created."""
    from django.utils import timezone
    from django_q.models import Schedule

    made = []
    for p in planned():
        if Schedule.objects.filter(name=p.name).exists():
            continue
        Schedule.objects.create(
            name=p.name,
            func=p.func,
            schedule_type=p.schedule_type,
            minutes=p.minutes,
            repeats=-1,
            next_run=timezone.now(),
        )
        made.append(p.name)
    return made
