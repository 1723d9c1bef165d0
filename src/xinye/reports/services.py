"""Every write of the reports app: monthly indicator snapshots (taken on a schedule and on demand) and pilots."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms.errors import InputError, RowError, XinyeError

from .indicators import INDICATORS, LEVEL_LENGTHS, Context, compute
from .models import IndicatorSnapshot, Pilot

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
#: levels a pilot may be (a community is too small to compare)
PILOT_LEVELS = ("province", "city", "county", "street")


class PilotError(XinyeError):
    """A pilot that cannot be set as asked (the message says why, in English; pages translate it)."""


def period_parse(text: str, *, field: str = "period") -> dt.date:
    """ "2026-03" -> date(2026, 3, 1); InputError naming the field and value otherwise."""
    m = _PERIOD.match((text or "").strip())
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    raise InputError([RowError("command line", None, field, text, "a month is written YYYY-MM, e.g. 2026-03")])


def month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def previous_month(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def period_as_of(period: dt.date, today: dt.date) -> dt.date:
    """The day a month's snapshot describes: its last day, or today while the month is not over. A month that
    has not begun cannot be counted."""
    if period > today:
        raise InputError(
            [RowError("command line", None, "period", f"{period:%Y-%m}", f"the month has not begun ({today:%Y-%m-%d})")]
        )
    return min(month_end(period), today)


@dataclass
class SnapshotResult:
    period: dt.date
    as_of: dt.date
    rows: int
    replaced: int


def snapshot_rows(*, period: dt.date, as_of: dt.date, taken_at: dt.datetime) -> list[IndicatorSnapshot]:
    """Every indicator counted as of `as_of` by division, platform and occupation (rows with nothing counted
    left out)."""
    rows = []
    for indicator in INDICATORS:
        counts = compute(indicator, Context(as_of=as_of, cross=True)) or {}
        for (division, occupation, platform), (num, den) in sorted(counts.items(), key=lambda kv: str(kv[0])):
            if not (num or den):
                continue
            rows.append(
                IndicatorSnapshot(
                    indicator=indicator.code,
                    period=period,
                    division=division,
                    occupation=occupation,
                    platform_id=platform,
                    numerator=num,
                    denominator=den,
                    as_of=as_of,
                    taken_at=taken_at,
                )
            )
    return rows


def indicator_snapshot_take(*, period: dt.date, today: dt.date | None = None) -> SnapshotResult:
    """Take the snapshot of the month `period` (its first day): the counts as of its last day (today for the
    current month). Idempotent: a second run replaces the month's rows, so a month has one set of rows
    however often it is taken. Counting runs outside any transaction; replacing the rows is one."""
    today = today or timezone.localdate()
    period = period.replace(day=1)
    as_of = period_as_of(period, today)
    taken_at = timezone.now()
    rows = snapshot_rows(period=period, as_of=as_of, taken_at=taken_at)
    for attempt in range(2):
        try:
            with transaction.atomic():
                replaced, _ = IndicatorSnapshot.objects.filter(period=period).delete()
                IndicatorSnapshot.objects.bulk_create(rows, batch_size=2000)
            break
        except IntegrityError:
            # another run of the same month committed between our delete and insert: replace its rows in turn
            if attempt:
                raise
    return SnapshotResult(period=period, as_of=as_of, rows=len(rows), replaced=replaced)


def indicator_snapshots_monthly() -> str:
    """The schedule's task (common.schedules): the snapshot of the month that has just ended, then the monthly
    report of each division in XINYE_MONTHLY_REPORT_DIVISIONS, each as a job."""
    result = indicator_snapshot_take(period=previous_month(timezone.localdate()))
    queued = monthly_reports_queue(period=result.period)
    return f"{result.period:%Y-%m}: {result.rows} rows as of {result.as_of:%Y-%m-%d}; {len(queued)} reports queued"


def indicators_warm(*, today: dt.date | None = None) -> str:
    """The schedule's task (common.schedules, every few minutes): count today's indicators of every division
    that opens someone's home page (`selectors.home_divisions`) and keep them for XINYE_INDICATOR_CACHE_SECONDS,
    so that no organizer waits for the count (a city takes seconds). Nothing when the cache is off."""
    from django.conf import settings

    from . import selectors

    if not settings.XINYE_INDICATOR_CACHE_SECONDS:
        return "the indicator cache is off (XINYE_INDICATOR_CACHE_SECONDS=0): nothing to warm"
    today = today or timezone.localdate()
    codes = selectors.home_divisions()
    for code in codes:
        selectors.current_counts(code=code, platform=None, occupation="", as_of=today, fresh=True)
    return f"{len(codes)} divisions counted as of {today:%Y-%m-%d}"


def monthly_reports_queue(*, period: dt.date) -> list:
    """Queue the report of the month `period` of every division in XINYE_MONTHLY_REPORT_DIVISIONS, built as the
    operator (every count as it is, as `xinye indicators report` does): the schedule's, never a user's."""
    from django.conf import settings

    from xinye.common.jobs import job_submit

    return [
        job_submit(kind="indicator_report", params={"division": code, "period": f"{period:%Y-%m}", "operator": True})
        for code in settings.XINYE_MONTHLY_REPORT_DIVISIONS
    ]


# ------------------------------------------------------------------------------------------------- pilots


def _check_pilot(*, scope: Scope, division, start_on: dt.date, note: str) -> None:
    if not policy.may_manage_pilots(scope):
        raise PermissionDenied
    if division is None or division.level not in PILOT_LEVELS:
        raise PilotError(gettext_noop("a pilot is a province, city, district or street"))
    if not isinstance(start_on, dt.date):
        raise PilotError(gettext_noop("a pilot needs the date it started"))
    if len(note or "") > 300:
        raise PilotError(gettext_noop("the note is at most 300 characters"))


def pilot_create(*, scope: Scope, division, start_on: dt.date, note: str = "", user=None) -> Pilot:
    _check_pilot(scope=scope, division=division, start_on=start_on, note=note)
    with transaction.atomic():
        if Pilot.objects.select_for_update().filter(division=division).exists():
            raise PilotError(gettext_noop("this division is a pilot already"))
        return Pilot.objects.create(division=division, start_on=start_on, note=(note or "").strip(), created_by=user)


def pilot_update(*, scope: Scope, pilot: Pilot, start_on: dt.date, note: str = "") -> Pilot:
    _check_pilot(scope=scope, division=pilot.division, start_on=start_on, note=note)
    with transaction.atomic():
        pilot.start_on, pilot.note = start_on, (note or "").strip()
        pilot.save(update_fields=["start_on", "note", "updated_at"])
    return pilot


def pilot_delete(*, scope: Scope, pilot: Pilot) -> None:
    if not policy.may_manage_pilots(scope):
        raise PermissionDenied
    with transaction.atomic():
        pilot.delete()


# ------------------------------------------------------------------------------------------ monthly reports


class ReportError(XinyeError):
    """A monthly report that cannot be built as asked (the message says why, in English; pages translate it)."""


def monthly_report_create(
    *, scope: Scope, division_code: str, period: dt.date, user=None, today: dt.date | None = None, progress=None
):
    """Build and keep the monthly report of a division (issue 15, item 4) for the month `period`: its .xlsx and
    its PDF, from the month's snapshot and the ones before it. The month's snapshot is taken first when there
    is none (the current month's as of today). Only for a division the acting scope reads as it is
    (policy.may_generate_report): the kept files are the ones readers inside the division get. `progress`
    (stage, done, total) is a job's or the command's progress. Returns the MonthlyReport."""
    from xinye.places.models import Division

    from . import report_files, selectors
    from .models import MonthlyReport

    report = progress or (lambda stage, done, total: None)
    if not policy.may_generate_report(scope, division_code):
        raise PermissionDenied(division_code)
    if len(division_code) not in LEVEL_LENGTHS:
        raise ReportError(gettext_noop("a report is made for a province, city, district or street"))
    today = today or timezone.localdate()
    period = period.replace(day=1)
    if period > today:
        raise ReportError(gettext_noop("the month has not begun"))
    if not Division.objects.filter(code=division_code).exists():
        raise ReportError(gettext_noop("no division has this code"))
    report("indicator snapshot", 0, 4)
    if not IndicatorSnapshot.objects.filter(period=period).exists():
        indicator_snapshot_take(period=period, today=today)
    report("figures", 1, 4)
    try:
        data = selectors.monthly_report_data(scope=scope, code=division_code, period=period)
    except Division.DoesNotExist:
        raise ReportError(gettext_noop("no division has this code")) from None
    report("spreadsheet", 2, 4)
    xlsx = report_files.report_xlsx(data)
    report("pdf", 3, 4)
    pdf = report_files.report_pdf(data)
    with transaction.atomic():
        kept = MonthlyReport.objects.create(
            division=data.division,
            period=period,
            as_of=data.as_of,
            created_by=user,
            xlsx=xlsx,
            pdf=pdf,
            xlsx_size=len(xlsx),
            pdf_size=len(pdf),
        )
    report("done", 4, 4)
    return kept
