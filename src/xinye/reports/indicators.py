"""Indicators as data (issue 15, item 1): each indicator is a definition (code, what is counted above and below
the line, unit, source, an explanation in both languages) and a function that counts it from the records.

Every indicator is a ratio of two whole numbers, counted by division (province, city, district, street: the
statistical division code of where the counted person works, or where the unit, demand or report is), by
platform company and by occupation:

- the counts are taken at the finest grain in SQL (a community's code, an occupation, a platform) and summed
  up the division tree here (`rollup`); a worker on two platforms counts under each platform and once under
  "every platform", which is its own count, never a sum;
- an indicator that has no occupation (a business unit has none) is not counted by occupation (`by_occupation`);
- every count is "as of" a day: records with dates of their own (memberships, liaison pairs, contacts,
  confirmed reports, union membership, demands, ratings, attendances, organizations, business units) are read
  as they stood that day, so a past month's snapshot can be taken later; what has no date of its own (who is
  on record, where they work, their occupation and platforms, a station and its status, a membership's
  status) is read as it is now.

Nothing here decides who may see a figure: pages, the API and exports show them through
`accounts.policy.indicator_figures` (small counts outside the viewer's own area suppressed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

#: statistical code lengths of the levels counted: province, city, district (county), street
LEVEL_LENGTHS = (2, 4, 6, 9)
#: the window of the indicators that count what happened recently (contacts, demands, ratings, volunteering)
WINDOW_DAYS = 90
#: an occupation that is not known (an anonymous demand): counted under "every occupation" only
UNKNOWN = "?"

PERCENT = "percent"
MEAN = "mean"
HOURS = "hours"
UNITS = {
    PERCENT: _("share of the denominator, in per cent"),
    MEAN: _("mean rating, 1 (poor) to 5 (very good)"),
    HOURS: _("hours per active volunteer"),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    label: Promise
    numerator: Promise
    denominator: Promise
    unit: str
    source: Promise
    explanation: Promise
    compute: Callable[[Context, Facts], None] = field(repr=False)
    #: the people, units or demands behind the figure (the lists its numbers link to)
    records: Callable[[Context], Records] = field(repr=False)
    by_occupation: bool = True
    #: the numerator counts people (or units); else it is a sum (of ratings, of minutes) whose smallness says
    #: nothing: the policy suppresses it with its denominator only
    numerator_counts: bool = True

    def text(self, name: str) -> str:
        """One of the texts in the active language, with the figures it names filled in."""
        return str(getattr(self, name)) % text_params()

    @property
    def unit_label(self) -> str:
        return str(UNITS[self.unit])

    def value(self, numerator: float, denominator: float) -> float | None:
        """The figure: a percentage, a mean rating or hours per volunteer; None when nothing was counted."""
        if not denominator:
            return None
        if self.unit == PERCENT:
            return 100.0 * numerator / denominator
        if self.unit == HOURS:
            return numerator / 60.0 / denominator  # the numerator is minutes
        return numerator / denominator

    @property
    def scale(self) -> float:
        """`value` = scale * numerator / denominator (the pilots' comparison works on it)."""
        return {PERCENT: 100.0, HOURS: 1 / 60.0}.get(self.unit, 1.0)


def radius_km() -> float:
    return float(settings.XINYE_COVERAGE_RADIUS_KM)


def text_params() -> dict:
    return {"radius_km": f"{radius_km():g}", "days": WINDOW_DAYS}


# ------------------------------------------------------------------------------------------------ counting


@dataclass
class Context:
    """What to count: as of the end of `as_of`, under the division `prefix` ("" everywhere). `cross`: every
    platform and occupation apart (a snapshot); otherwise only `platform` (None: every platform together) and
    `occupation` ("" every occupation) (a page)."""

    as_of: dt.date
    prefix: str = ""
    cross: bool = False
    platform: int | None = None
    occupation: str = ""

    @property
    def end(self) -> dt.datetime:
        """The first moment after `as_of` (local time)."""
        return timezone.make_aware(dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time.min))

    @property
    def window_start(self) -> dt.datetime:
        return self.end - dt.timedelta(days=WINDOW_DAYS)

    @property
    def window_first_day(self) -> dt.date:
        return self.as_of - dt.timedelta(days=WINDOW_DAYS - 1)


#: counts at the finest grain: (division code, occupation or "", platform id or None) -> [numerator, denominator]
Facts = dict


def new_facts() -> Facts:
    return defaultdict(lambda: [0, 0])


def _add(facts: Facts, part: int, code: str | None, occupation: str | None, platform: int | None, n) -> None:
    facts[(code or "", occupation or "", platform)][part] += int(n or 0)


NUM, DEN = 0, 1


def narrow(ctx: Context, qs: QuerySet, *, code: str, occupation: str | None, platform: str | None) -> QuerySet:
    """`qs` under the division `ctx.prefix`, and (unless counting across) of `ctx.platform` and `ctx.occupation`,
    through the paths `code`, `occupation` and `platform` (as `tally` takes them)."""
    if ctx.prefix:
        qs = qs.filter(**{f"{code}__startswith": ctx.prefix})
    if not ctx.cross:
        if ctx.platform is not None and platform:
            qs = qs.filter(**{platform: ctx.platform})
        if ctx.occupation and occupation:
            qs = qs.filter(**{occupation: ctx.occupation})
    return qs


def tally(
    ctx: Context,
    facts: Facts,
    part: int,
    qs: QuerySet,
    *,
    code: str,
    occupation: str | None,
    platform: str | None,
    agg=None,
) -> None:
    """Add the counts of `qs` to `facts[...][part]`, grouped by the paths `code` (a division code), `occupation`
    (None: the records have none) and `platform` (a company id, possibly many-to-many); `agg` defaults to
    counting distinct records."""
    agg = agg if agg is not None else Count("pk", distinct=True)
    qs = narrow(ctx, qs, code=code, occupation=occupation, platform=platform)
    if not ctx.cross:
        for c, n in qs.order_by().values_list(code).annotate(n=agg):
            _add(facts, part, c, ctx.occupation, ctx.platform, n)
        return
    fields = [code, occupation] if occupation else [code]
    for row in qs.order_by().values_list(*fields).annotate(n=agg):
        _add(facts, part, row[0], (row[1] or UNKNOWN) if occupation else "", None, row[-1])
    if platform:
        by_platform = qs.filter(**{f"{platform}__isnull": False}).order_by().values_list(*fields, platform)
        for row in by_platform.annotate(n=agg):
            _add(facts, part, row[0], (row[1] or UNKNOWN) if occupation else "", row[-2], row[-1])


def prefixes(code: str) -> list[str]:
    """The codes a count at `code` adds up to: the whole country ("") and each level above and at it."""
    return [""] + [code[:n] for n in LEVEL_LENGTHS if len(code) >= n]


def rollup(facts: Facts) -> dict[tuple[str, str, int | None], tuple[int, int]]:
    """The counts summed up the division tree and over occupations: (division prefix, occupation or "" for
    every occupation, platform or None) -> (numerator, denominator)."""
    # communities first summed into their streets: the rest of the work is then per street
    streets: dict[tuple[str, str, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for (code, occ, plat), (num, den) in facts.items():
        cell = streets[(code[:9], occ, plat)]
        cell[0] += num
        cell[1] += den
    out: dict[tuple[str, str, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for (code, occ, plat), (num, den) in streets.items():
        occupations = ("",) if occ in ("", UNKNOWN) else ("", occ)
        for p in prefixes(code):
            for o in occupations:
                cell = out[(p, o, plat)]
                cell[0] += num
                cell[1] += den
    return {k: (v[0], v[1]) for k, v in out.items()}


# ------------------------------------------------------------------------------------------- the records


def _people(ctx: Context) -> QuerySet:
    """Everyone on record (workers and members; an erased person stays as an anonymous count), as now: a roster
    is often imported long after people started working, so the day a record was made says little."""
    from xinye.people.models import Person

    return Person.objects.all()


def _memberships(ctx: Context) -> QuerySet:
    from xinye.people.models import Membership

    return Membership.objects.filter(since__lte=ctx.as_of).filter(Q(until__isnull=True) | Q(until__gt=ctx.as_of))


def _workers(ctx: Context) -> QuerySet:
    """The workers members keep in touch with (as the liaison assignment counts them): people who are not
    members that day and who have not withdrawn consent or been erased."""
    from xinye.people.rights import processable_q

    members = _memberships(ctx).values("person_id")
    return _people(ctx).filter(processable_q()).exclude(pk__in=members)


def _pairs(ctx: Context) -> QuerySet:
    from xinye.demands.models import LiaisonPair

    return LiaisonPair.objects.filter(since__lte=ctx.as_of).filter(Q(until__isnull=True) | Q(until__gt=ctx.as_of))


PEOPLE, BUSINESS_UNITS, DEMANDS = "people", "units", "demands"
#: the paths `narrow` and `tally` take for each kind of record
PATHS = {
    PEOPLE: {"code": "work_community__code", "occupation": "occupation", "platform": "platforms"},
    DEMANDS: {"code": "community__code", "occupation": "person__occupation", "platform": "company"},
    BUSINESS_UNITS: {"code": "division__code", "occupation": None, "platform": "company_id"},
}
PERSON = PATHS[PEOPLE]
DEMAND = PATHS[DEMANDS]


@dataclass(frozen=True)
class Records:
    """The records behind a figure: `counted` (above the line) among `all` (below it), not yet narrowed to a
    division, platform or occupation (`records` does that). `membership`: the records say who is a Party member,
    so a list of them is only for those who may see party status."""

    kind: str
    all: QuerySet
    counted: QuerySet
    membership: bool = False


def _count_people(ctx: Context, facts: Facts, part: int, qs: QuerySet) -> None:
    tally(ctx, facts, part, qs, **PERSON)


def _count_records(ctx: Context, facts: Facts, r: Records) -> None:
    tally(ctx, facts, DEN, r.all, **PATHS[r.kind])
    tally(ctx, facts, NUM, r.counted, **PATHS[r.kind])


def _person_ids(qs: QuerySet, field: str = "person_id") -> QuerySet:
    from xinye.people.models import Person

    return Person.objects.filter(pk__in=qs.values(field))


def records_org_units(ctx: Context) -> Records:
    from xinye.organizations.models import BusinessUnit, Organization
    from xinye.organizations.planning import rules_for
    from xinye.people.models import MembershipStatus

    least = rules_for("cpc").min_formal_members
    formal = (
        _memberships(ctx)
        .filter(status=MembershipStatus.FORMAL, person__business_unit__isnull=False)
        .order_by()
        .values_list("person__business_unit")
        .annotate(n=Count("person", distinct=True))
    )
    eligible = {unit for unit, n in formal if n >= least}
    units = BusinessUnit.objects.filter(pk__in=eligible, division__isnull=False)
    units = units.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=ctx.as_of))
    units = units.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=ctx.as_of))
    active = Organization.objects.filter(Q(founded_on__isnull=True) | Q(founded_on__lte=ctx.as_of)).filter(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=ctx.as_of)
    )
    covered = Organization.business_units.through.objects.filter(organization__in=active.values("pk"))
    return Records(BUSINESS_UNITS, units, units.filter(pk__in=covered.values("businessunit_id")))


def compute_org_units(ctx: Context, facts: Facts) -> None:
    r = records_org_units(ctx)
    units = narrow(ctx, r.all, **PATHS[BUSINESS_UNITS])
    covered = set(narrow(ctx, r.counted, **PATHS[BUSINESS_UNITS]).values_list("pk", flat=True))
    for pk, code, company in units.values_list("pk", "division__code", "company_id"):
        platforms = [None, company] if ctx.cross else [ctx.platform]
        for plat in platforms:
            _add(facts, DEN, code, "", plat, 1)
            if pk in covered:
                _add(facts, NUM, code, "", plat, 1)


def records_members_in_branch(ctx: Context) -> Records:
    members = _memberships(ctx)
    return Records(
        PEOPLE,
        _person_ids(members),
        _person_ids(members.filter(organization__isnull=False)),
        membership=True,
    )


def records_liaison_paired(ctx: Context) -> Records:
    workers = _workers(ctx)
    return Records(PEOPLE, workers, workers.filter(pk__in=_pairs(ctx).values("worker_id")))


def records_liaison_contacted(ctx: Context) -> Records:
    from xinye.demands.models import Contact

    paired = _workers(ctx).filter(pk__in=_pairs(ctx).values("worker_id"))
    recent = Contact.objects.filter(on__gte=ctx.window_first_day, on__lte=ctx.as_of).values("worker_id")
    return Records(PEOPLE, paired, paired.filter(pk__in=recent))


@dataclass(frozen=True)
class Reach:
    """Which stations reach a worker: within `minutes` by `mode` (else within the coverage radius), open at
    night (`night`), having `amenity` ("" any)."""

    night: bool = False
    minutes: float | None = None
    mode: str = "ebike"
    amenity: str = ""

    @property
    def radius_m(self) -> float:
        from xinye.stations.coverage import radius_m

        return radius_km() * 1000 if self.minutes is None else radius_m(self.minutes, self.mode)


RADIUS = Reach()
NIGHT = Reach(night=True)
#: the coverage page's default reach: 15 minutes by e-bike (stations.coverage)
EBIKE_15 = Reach(minutes=15, mode="ebike")
#: what riders most ask of a station (domain.md, "warm homes"): water, a toilet, charging
AMENITY_REACH = {a: Reach(amenity=a) for a in ("water", "toilet", "charging")}


def _covered_cells(ctx: Context, people: QuerySet, reach: Reach) -> set[int]:
    """The work cells among `people`'s that a station in service reaches (see `Reach`)."""
    from xinye.stations.coverage import cells_covered

    cells = sorted(set(people.order_by().values_list("work_cell", flat=True).distinct()))
    any_station, at_night = cells_covered(cells, radius_m=reach.radius_m, as_of=ctx.as_of, amenity=reach.amenity)
    mask = at_night if reach.night else any_station
    return {c for c, m in zip(cells, mask.tolist(), strict=True) if m}


def _records_stations(ctx: Context, reach: Reach) -> Records:
    people = _people(ctx).filter(work_cell__isnull=False)
    covered = _covered_cells(ctx, narrow(ctx, people, **PERSON), reach)
    return Records(PEOPLE, people, people.filter(work_cell__in=covered))


def records_station_covered(ctx: Context) -> Records:
    return _records_stations(ctx, RADIUS)


def records_station_night(ctx: Context) -> Records:
    return _records_stations(ctx, NIGHT)


def _station_cells(ctx: Context, facts: Facts, reach: Reach) -> None:
    """Counted cell by cell (a worker's cell decides), not by listing the covered cells in SQL."""
    people = narrow(ctx, _people(ctx).filter(work_cell__isnull=False), **PERSON)
    count = Count("pk", distinct=True)
    if ctx.cross:
        rows = [
            (cell, code, occ or UNKNOWN, None, n)
            for cell, code, occ, n in people.order_by()
            .values_list("work_cell", "work_community__code", "occupation")
            .annotate(n=count)
        ]
        rows += [
            (cell, code, occ or UNKNOWN, plat, n)
            for cell, code, occ, plat, n in people.filter(platforms__isnull=False)
            .order_by()
            .values_list("work_cell", "work_community__code", "occupation", "platforms")
            .annotate(n=count)
        ]
    else:
        rows = [
            (cell, code, ctx.occupation, ctx.platform, n)
            for cell, code, n in people.order_by().values_list("work_cell", "work_community__code").annotate(n=count)
        ]
    covered = _covered_cells(ctx, people, reach)
    for cell, code, occ, plat, n in rows:
        _add(facts, DEN, code, occ, plat, n)
        if cell in covered:
            _add(facts, NUM, code, occ, plat, n)


def compute_station_covered(ctx: Context, facts: Facts) -> None:
    _station_cells(ctx, facts, RADIUS)


def compute_station_night(ctx: Context, facts: Facts) -> None:
    _station_cells(ctx, facts, NIGHT)


def reached(reach: Reach) -> tuple[Callable[[Context, Facts], None], Callable[[Context], Records]]:
    """The counting and the records of a station indicator with its own reach."""

    def count(ctx: Context, facts: Facts) -> None:
        _station_cells(ctx, facts, reach)

    def records(ctx: Context) -> Records:
        return _records_stations(ctx, reach)

    return count, records


def records_union_members(ctx: Context) -> Records:
    people = _people(ctx)
    union = people.exclude(union_name="").filter(Q(union_since__isnull=True) | Q(union_since__lte=ctx.as_of))
    return Records(PEOPLE, people, union)


def records_community_reported(ctx: Context) -> Records:
    from xinye.people.models import CommunityReport, ReportStatus

    people = _people(ctx)
    confirmed = CommunityReport.objects.filter(status=ReportStatus.CONFIRMED, person__isnull=False).filter(
        Q(decided_at__lt=ctx.end) | Q(decided_at__isnull=True, created_at__lt=ctx.end)
    )
    return Records(PEOPLE, people, people.filter(pk__in=confirmed.values("person_id")))


def records_demands_on_time(ctx: Context) -> Records:
    from django.db.models import F

    from xinye.demands.models import Demand, DemandStatus

    due = Demand.objects.filter(merged_into__isnull=True, due_at__gte=ctx.window_start, due_at__lt=ctx.end).exclude(
        status__in=[DemandStatus.REJECTED, DemandStatus.DUPLICATE]
    )
    on_time = due.filter(resolved_at__isnull=False, resolved_at__lte=F("due_at"), resolved_at__lt=ctx.end)
    return Records(DEMANDS, due, on_time)


def records_demand_rating(ctx: Context) -> Records:
    from xinye.demands.models import Demand, DemandEvent

    rated_events = DemandEvent.objects.filter(
        kind=DemandEvent.Kind.RATED, at__gte=ctx.window_start, at__lt=ctx.end
    ).values("demand_id")
    rated = Demand.objects.filter(rating__isnull=False, pk__in=rated_events)
    return Records(DEMANDS, rated, rated)


def compute_demand_rating(ctx: Context, facts: Facts) -> None:
    rated = records_demand_rating(ctx).all
    tally(ctx, facts, DEN, rated, **DEMAND)
    tally(ctx, facts, NUM, rated, **DEMAND, agg=Sum("rating"))


def _attendances(ctx: Context) -> QuerySet:
    from xinye.volunteering.models import Attendance

    return Attendance.objects.filter(counted=True, checked_out_at__gte=ctx.window_start, checked_out_at__lt=ctx.end)


def records_volunteer_hours(ctx: Context) -> Records:
    volunteers = _person_ids(_attendances(ctx))
    return Records(PEOPLE, volunteers, volunteers)


def compute_volunteer_hours(ctx: Context, facts: Facts) -> None:
    where = {
        "code": "person__work_community__code",
        "occupation": "person__occupation",
        "platform": "person__platforms",
    }
    served = _attendances(ctx)
    tally(ctx, facts, DEN, served, **where, agg=Count("person", distinct=True))
    tally(ctx, facts, NUM, served, **where, agg=Sum("minutes"))


def records_volunteers_active(ctx: Context) -> Records:
    people = _people(ctx)
    return Records(PEOPLE, people, people.filter(pk__in=_attendances(ctx).values("person_id")))


def records_commended(ctx: Context) -> Records:
    """People with an approved commendation decided in the year up to the day; commendations that say their
    holder is a Party member are left out (the count would tell it where party status is not shown)."""
    from xinye.volunteering.recognition import PARTY_KINDS, Commendation, CommendationStatus

    people = _people(ctx)
    approved = Commendation.objects.filter(
        status=CommendationStatus.APPROVED,
        person__isnull=False,
        decided_at__gte=ctx.end - dt.timedelta(days=365),
        decided_at__lt=ctx.end,
    ).exclude(kind__in=PARTY_KINDS)
    return Records(PEOPLE, people, people.filter(pk__in=approved.values("person_id")))


def counted_by_records(records: Callable[[Context], Records]) -> Callable[[Context, Facts], None]:
    """An indicator counted as its records: the people, units or demands below and above the line."""

    def count(ctx: Context, facts: Facts) -> None:
        _count_records(ctx, facts, records(ctx))

    return count


# ------------------------------------------------------------------------------------------- the registry


def _amenity_label(code: str):
    from xinye.stations.models import Amenity

    return Amenity(code).label


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="org_units",
        label=_("Business units with an organization"),
        numerator=_("business units with at least 3 formal members that have an organization"),
        denominator=_("business units with at least 3 formal members"),
        unit=PERCENT,
        source=_("companies' business units, organizations anchored to them, memberships"),
        explanation=_(
            "A unit of a company's business (a station, a fleet, a city company) with 3 or more formal members "
            "sets up a branch (Regulations on the Work of Party Branches, art. 4). Counted where the unit is "
            "and under its company; a unit placed in a city counts in the city, not in its districts. Units "
            "have no occupation."
        ),
        compute=compute_org_units,
        records=records_org_units,
        by_occupation=False,
    ),
    Indicator(
        code="members_in_branch",
        label=_("Members in a branch"),
        numerator=_("members who belong to a branch here"),
        denominator=_("members"),
        unit=PERCENT,
        source=_("memberships"),
        explanation=_(
            "Every member belongs to exactly one branch. A member not placed yet, or a floating member whose "
            "membership is held elsewhere, is in no branch here. Counted where the member works."
        ),
        compute=counted_by_records(records_members_in_branch),
        records=records_members_in_branch,
    ),
    Indicator(
        code="liaison_paired",
        label=_("Workers with a liaison"),
        numerator=_("workers a member keeps in touch with"),
        denominator=_("workers who are not members and have not withdrawn consent"),
        unit=PERCENT,
        source=_("liaison pairs of members and workers"),
        explanation=_(
            "Members each keep in touch with a few workers near them. A worker who withdrew consent is not "
            "counted. Counted where the worker works."
        ),
        compute=counted_by_records(records_liaison_paired),
        records=records_liaison_paired,
    ),
    Indicator(
        code="liaison_contacted",
        label=_("Workers contacted in the last 90 days"),
        numerator=_("workers with a liaison who were contacted in the %(days)s days up to the day"),
        denominator=_("workers with a liaison"),
        unit=PERCENT,
        source=_("liaison pairs and the contacts members log"),
        explanation=_(
            "Whether the liaison is kept: a contact in person, by phone, by message or at a station, logged by "
            "a member, in the %(days)s days up to the day."
        ),
        compute=counted_by_records(records_liaison_contacted),
        records=records_liaison_contacted,
    ),
    Indicator(
        code="station_covered",
        label=_("Workers within reach of a station"),
        numerator=_("workers whose work area lies within %(radius_km)s km of a station in service"),
        denominator=_("workers with a work area"),
        unit=PERCENT,
        source=_("service stations and workers' work cells"),
        explanation=_(
            "A worker's work area is a cell of about 0.7 km²; its centre is measured to each station in "
            "service (great-circle distance, %(radius_km)s km, the same radius as the national batch)."
        ),
        compute=compute_station_covered,
        records=records_station_covered,
    ),
    Indicator(
        code="station_night",
        label=_("Workers within reach of a station at night"),
        numerator=_("workers within %(radius_km)s km of a station open at 2 a.m. on a working day"),
        denominator=_("workers with a work area"),
        unit=PERCENT,
        source=_("service stations, their opening hours, and workers' work cells"),
        explanation=_(
            "Riders and drivers work at night too: only stations open at 2 a.m. on an ordinary weekday (in "
            "practice those open 24 hours) count."
        ),
        compute=compute_station_night,
        records=records_station_night,
    ),
    Indicator(
        code="station_ebike",
        label=_("Workers within 15 minutes of a station by e-bike"),
        numerator=_("workers whose work area lies within 15 minutes by e-bike of a station in service"),
        denominator=_("workers with a work area"),
        unit=PERCENT,
        source=_("service stations and workers' work cells"),
        explanation=_(
            "The reach the coverage page shows by default: 15 minutes by e-bike, as a straight-line distance "
            "at the e-bike speed the finder uses. A rider on the road reaches farther than the fixed radius."
        ),
        compute=reached(EBIKE_15)[0],
        records=reached(EBIKE_15)[1],
    ),
    *(
        Indicator(
            code=f"station_{amenity}",
            label=format_lazy(_("Workers within reach of a station with {amenity}"), amenity=label),
            numerator=format_lazy(
                _("workers whose work area lies within %(radius_km)s km of a station in service with {amenity}"),
                amenity=label,
            ),
            denominator=_("workers with a work area"),
            unit=PERCENT,
            source=_("service stations, the amenities on record, and workers' work cells"),
            explanation=format_lazy(
                _(
                    "Coverage by amenity: only stations whose record lists {amenity} count, within the same "
                    "radius of %(radius_km)s km."
                ),
                amenity=label,
            ),
            compute=reached(reach)[0],
            records=reached(reach)[1],
        )
        for amenity, reach, label in ((a, r, _amenity_label(a)) for a, r in AMENITY_REACH.items())
    ),
    Indicator(
        code="union_members",
        label=_("Trade union members"),
        numerator=_("people who are trade union members"),
        denominator=_("people on record"),
        unit=PERCENT,
        source=_("people's trade union and the date they joined"),
        explanation=_("Workers and members who belong to a trade union, counted where they work."),
        compute=counted_by_records(records_union_members),
        records=records_union_members,
    ),
    Indicator(
        code="community_reported",
        label=_("Reported to their community"),
        numerator=_("people whose report to their community was confirmed"),
        denominator=_("people on record"),
        unit=PERCENT,
        source=_("reports to the community confirmed by an organizer"),
        explanation=_(
            "A worker reports to the community where they work from a phone; the report counts once an "
            "organizer has confirmed it."
        ),
        compute=counted_by_records(records_community_reported),
        records=records_community_reported,
    ),
    Indicator(
        code="demands_on_time",
        label=_("Demands resolved on time"),
        numerator=_("demands resolved by their due date"),
        denominator=_("demands that fell due in the %(days)s days up to the day"),
        unit=PERCENT,
        source=_("workers' demands and their history"),
        explanation=_(
            "Of the demands whose due date fell in the window, those resolved by then. Declined demands and "
            "demands merged into another are left out. Counted by the demand's community and the platform it "
            "concerns."
        ),
        compute=counted_by_records(records_demands_on_time),
        records=records_demands_on_time,
    ),
    Indicator(
        code="demand_rating",
        label=_("Satisfaction with demands"),
        numerator=_("the sum of the ratings"),
        denominator=_("demands rated in the %(days)s days up to the day"),
        unit=MEAN,
        source=_("the ratings workers give their demands"),
        explanation=_("The mean of the ratings (1 to 5) workers gave their resolved demands in the window."),
        compute=compute_demand_rating,
        records=records_demand_rating,
        numerator_counts=False,
    ),
    Indicator(
        code="volunteer_hours",
        label=_("Volunteer hours"),
        numerator=_("minutes of service in the %(days)s days up to the day"),
        denominator=_("active volunteers"),
        unit=HOURS,
        source=_("volunteers' check-ins and check-outs that count as service"),
        explanation=_(
            "Hours of service per volunteer who served in the window. Only attendances with both a check-in "
            "and a check-out count. Counted where the volunteer works."
        ),
        compute=compute_volunteer_hours,
        records=records_volunteer_hours,
        numerator_counts=False,
    ),
    Indicator(
        code="volunteers_active",
        label=_("Active volunteers"),
        numerator=_("people who served as volunteers in the %(days)s days up to the day"),
        denominator=_("people on record"),
        unit=PERCENT,
        source=_("volunteers' check-ins and check-outs that count as service"),
        explanation=_("People who served at least once in the window, as a share of everyone on record."),
        compute=counted_by_records(records_volunteers_active),
        records=records_volunteers_active,
    ),
    Indicator(
        code="commended",
        label=_("People commended"),
        numerator=_("people whose commendation was approved in the 365 days up to the day"),
        denominator=_("people on record"),
        unit=PERCENT,
        source=_("commendations nominated and approved by organizations"),
        explanation=_(
            "Star riders, model posts, outstanding volunteers and other commendations of a person, once the "
            "awarding organization approved them. Commendations of outstanding members are not counted here: "
            "the figure would tell who is a member."
        ),
        compute=counted_by_records(records_commended),
        records=records_commended,
    ),
)

BY_CODE = {i.code: i for i in INDICATORS}


def indicator_get(code: str) -> Indicator | None:
    return BY_CODE.get(code)


def records(indicator: Indicator, ctx: Context) -> Records:
    """The records behind the indicator's figure in `ctx` (its division, platform and occupation), as they are
    counted; who may list them is `accounts.policy.indicator_records`."""
    r = indicator.records(ctx)
    paths = PATHS[r.kind]
    return Records(r.kind, narrow(ctx, r.all, **paths), narrow(ctx, r.counted, **paths), r.membership)


def compute(indicator: Indicator, ctx: Context) -> dict[tuple[str, str, int | None], tuple[int, int]] | None:
    """The indicator's counts rolled up (see `rollup`); None when it is not counted that way (an occupation
    asked of an indicator without one)."""
    if not ctx.cross and ctx.occupation and not indicator.by_occupation:
        return None
    facts = new_facts()
    indicator.compute(ctx, facts)
    return rollup(facts)
