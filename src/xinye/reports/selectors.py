"""Reads of indicators for a viewer: the current figures of a division and the divisions under it, their monthly
series, and the pilots compared with the rest.

Who reads which division is `accounts.policy.indicator_access` (a division nobody lets the viewer read raises
`Division.DoesNotExist`: a 404); every count and figure leaves here through `policy.indicator_figures`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms.diff_in_diff import Ratio, diff_in_diff, rest_of
from xinye.algorithms.errors import XinyeError
from xinye.places.models import Division

from .indicators import INDICATORS, LEVEL_LENGTHS, Context, Indicator, compute
from .models import IndicatorSnapshot, Pilot

#: months of snapshots a sparkline draws
SERIES_MONTHS = 12


def child_length(code: str) -> int | None:
    """The code length of the level under `code` ("" -> provinces); None under a street (not drilled further)."""
    longer = [n for n in LEVEL_LENGTHS if n > len(code)]
    return longer[0] if longer else None


def default_division(scope: Scope) -> str:
    """Where the page opens: the organizer's (first) own division, the whole country for administrators."""
    if scope.is_admin or not scope.division_prefixes:
        return ""
    return scope.division_prefixes[0]


def division_get(*, scope: Scope, code: str) -> Division | None:
    """The division the viewer asked for (None: the whole country). Raises Division.DoesNotExist for a code that
    is not a province, city, district or street, or that the viewer may not read."""
    if policy.indicator_access(scope, code) is None:
        raise Division.DoesNotExist(code)
    if code == "":
        return None
    if len(code) not in LEVEL_LENGTHS:
        raise Division.DoesNotExist(code)
    return Division.objects.select_related("parent").get(code=code)


def crumbs(scope: Scope, division: Division | None) -> list[tuple[str, str]]:
    """(code, name) of the readable divisions above `division`, the country first."""
    chain: list[Division] = []
    d = division.parent if division is not None else None
    while d is not None:
        chain.append(d)
        d = d.parent
    out = [(c.code, c.name) for c in reversed(chain) if policy.indicator_access(scope, c.code) is not None]
    if division is not None and policy.indicator_access(scope, "") is not None:
        out.insert(0, ("", ""))
    return out


def current_counts(
    *, code: str, platform: int | None, occupation: str, as_of: dt.date, fresh: bool = False
) -> dict[str, dict[str, tuple[int, int]] | None]:
    """Every indicator's counts today for the division `code` and the divisions one level under it: indicator
    code -> {division code: (numerator, denominator)} (None: not counted by occupation). Counted at most once
    in XINYE_INDICATOR_CACHE_SECONDS for the same division and filters; the same for every viewer, whose own
    figures come from `policy.indicator_figures`. `fresh`: counted again and kept whatever is kept (the
    worker's warm-up of the home pages, `services.indicators_warm`)."""
    seconds = settings.XINYE_INDICATOR_CACHE_SECONDS
    wanted = repr((code, platform, occupation, as_of.isoformat()))
    key = "xinye:indicators:" + hashlib.sha256(wanted.encode()).hexdigest()
    got = cache.get(key) if seconds and not fresh else None
    if got is not None:
        return got
    below = child_length(code)
    got = {}
    for indicator in INDICATORS:
        rolled = compute(indicator, Context(as_of=as_of, prefix=code, platform=platform, occupation=occupation))
        if rolled is None:
            got[indicator.code] = None
            continue
        got[indicator.code] = {
            div: counts
            for (div, _occ, _plat), counts in rolled.items()
            if div == code or (below is not None and len(div) == below and div.startswith(code))
        }
    if seconds:
        cache.set(key, got, seconds)
    return got


#: an indicator's counts of one division by platform and occupation: (platform id or None for every platform,
#: occupation or "" for every occupation) -> (numerator, denominator); a key missing counts nothing
Grid = dict[tuple[int | None, str], tuple[int, int]]
#: the cell of a grid that counts everything
ALL = (None, "")


def current_grids(*, code: str, as_of: dt.date) -> dict[str, dict[str, Grid]]:
    """Every indicator's counts today for the division `code` and every division under it, by platform and
    occupation at once (as a snapshot counts them): indicator code -> {division code: Grid}. Cached as
    `current_counts`. What `policy.indicator_table` reads a division seen from outside from, by platform or
    occupation."""
    seconds = settings.XINYE_INDICATOR_CACHE_SECONDS
    key = "xinye:indicator-grids:" + hashlib.sha256(repr((code, as_of.isoformat())).encode()).hexdigest()
    got = cache.get(key) if seconds else None
    if got is not None:
        return got
    got = {}
    for indicator in INDICATORS:
        grids: dict[str, Grid] = {}
        for (div, occ, plat), counts in (
            compute(indicator, Context(as_of=as_of, prefix=code, cross=True)) or {}
        ).items():
            grids.setdefault(div, {})[(plat, occ)] = counts
        got[indicator.code] = grids
    if seconds:
        cache.set(key, got, seconds)
    return got


def snapshot_grids(
    *, indicators: list[str], divisions: list[str], months: int = SERIES_MONTHS
) -> tuple[list[dt.date], dict[tuple[str, str], dict[dt.date, Grid]]]:
    """As `snapshot_series`, every platform and occupation at once: (indicator, division) -> {month: Grid}."""
    periods = sorted(set(IndicatorSnapshot.objects.values_list("period", flat=True).distinct()))[-months:]
    out: dict[tuple[str, str], dict[dt.date, Grid]] = {}
    if not periods:
        return [], out
    rows = IndicatorSnapshot.objects.filter(indicator__in=indicators, division__in=divisions, period__gte=periods[0])
    for ind, div, period, occ, plat, num, den in rows.values_list(
        "indicator", "division", "period", "occupation", "platform_id", "numerator", "denominator"
    ):
        out.setdefault((ind, div), {}).setdefault(period, {})[(plat, occ)] = (num, den)
    return periods, out


def add_grids(grids, sign: int = 1, base: Grid | None = None) -> Grid:
    """`base` plus (or, `sign` -1, less) each of `grids`, cell by cell."""
    out = dict(base or {})
    for grid in grids:
        for k, (n, d) in grid.items():
            n0, d0 = out.get(k, (0, 0))
            out[k] = (n0 + sign * n, d0 + sign * d)
    return out


def table_figures(scope: Scope, indicator: Indicator, division: str, grids: dict[str, Grid], key) -> tuple:
    """`policy.indicator_figures` of the cell `key` of a division's grid (`grids`: division code -> Grid, for the
    division and the viewer's own divisions inside it), read with every other cell (`policy.indicator_table`)."""
    cuts = policy.known_cuts(scope, division)
    own = [add_grids(grids.get(p, {}) for p in cut) for cut in cuts] if cuts else None
    grid = {key: (0, 0), **grids.get(division, {})}
    return policy.indicator_table(scope, division, grid, own=own, numerator_counts=indicator.numerator_counts)[key]


@dataclass
class Figure:
    """One indicator of one division as the viewer sees it."""

    indicator: Indicator
    division: str
    numerator: object = None
    denominator: object = None
    value: float | None = None
    counted: bool = True  # False: not counted this way (by occupation)
    suppressed: bool = False
    series: list = field(default_factory=list)  # [(period, value or None)]

    @property
    def hours(self) -> float | None:
        """The numerator in hours (volunteer hours count minutes)."""
        return round(self.numerator / 60, 1) if isinstance(self.numerator, int) else None


def own_sum(scope: Scope, division: str, lookup) -> list[tuple[int, int]] | None:
    """What the viewer sees exactly inside `division` when they see it from outside (None otherwise): for each
    set of divisions of `policy.known_cuts` (their own divisions, or those between), the sum of its counts, each
    read by `lookup(code)` -> (numerator, denominator) or None."""
    out = []
    for cut in policy.known_cuts(scope, division):
        got = [lookup(p) or (0, 0) for p in cut]
        out.append((sum(n for n, _d in got), sum(d for _n, d in got)))
    return out or None


def known_codes(scope: Scope, divisions) -> list[str]:
    """Every division of `policy.known_cuts` of each of `divisions`: the counts `own_sum` reads."""
    return sorted({c for d in divisions for cut in policy.known_cuts(scope, d) for c in cut})


def figure(
    scope: Scope,
    indicator: Indicator,
    division: str,
    counts: tuple[int, int] | None,
    own: tuple | None = None,
    *,
    grids: dict[str, Grid] | None = None,
    key=ALL,
) -> Figure:
    """The viewer's figure from raw counts (None: nothing counted); `own`: see `policy.indicator_figures`.
    `grids` (division code -> Grid, see `table_figures`): the figure is the cell `key` of the division's table,
    whose counts are then taken from there."""
    if grids is not None:
        num, den = grids.get(division, {}).get(key, (0, 0))
        shown_num, shown_den, visible = table_figures(scope, indicator, division, grids, key)
    else:
        num, den = counts or (0, 0)
        shown_num, shown_den, visible = policy.indicator_figures(
            scope, division, num, den, numerator_counts=indicator.numerator_counts, own=own
        )
    return Figure(
        indicator=indicator,
        division=division,
        numerator=shown_num,
        denominator=shown_den,
        value=indicator.value(num, den) if visible else None,
        suppressed=not visible,
    )


def snapshot_series(
    *, indicators: list[str], divisions: list[str], platform: int | None, occupation: str, months: int = SERIES_MONTHS
) -> tuple[list[dt.date], dict[tuple[str, str], dict[dt.date, tuple[int, int]]]]:
    """The last `months` months with a snapshot, and (indicator, division) -> {month: (numerator, denominator)}."""
    rows = IndicatorSnapshot.objects.filter(indicator__in=indicators, division__in=divisions, occupation=occupation)
    rows = rows.filter(platform_id=platform) if platform is not None else rows.filter(platform__isnull=True)
    periods = sorted(set(IndicatorSnapshot.objects.values_list("period", flat=True).distinct()))[-months:]
    out: dict[tuple[str, str], dict[dt.date, tuple[int, int]]] = {}
    if not periods:
        return [], out
    for ind, div, period, num, den in rows.filter(period__gte=periods[0]).values_list(
        "indicator", "division", "period", "numerator", "denominator"
    ):
        out.setdefault((ind, div), {})[period] = (num, den)
    return periods, out


def visible_series(
    scope: Scope,
    indicator: Indicator,
    division: str,
    periods,
    by_period: dict,
    own_series: dict | None = None,
    *,
    grids: dict[str, dict[dt.date, Grid]] | None = None,
    key=ALL,
) -> list:
    """[(month, value or None)]: a month the viewer may not see (or with nothing counted) is a gap.
    `own_series`: {division code: {month: counts}} of the snapshots, for the viewer's own divisions inside.
    `grids`: {division code: {month: Grid}} for the division and those own divisions: each month's figure is
    then the cell `key` of its table (`table_figures`), `by_period` and `own_series` unused."""
    out = []
    for p in periods:
        if grids is not None:
            at = {d: by_month.get(p, {}) for d, by_month in grids.items()}
            num, den = at.get(division, {}).get(key, (0, 0))
            _n, _d, visible = table_figures(scope, indicator, division, at, key)
        else:
            num, den = by_period.get(p, (0, 0))
            own = own_sum(scope, division, lambda c, p=p: (own_series or {}).get(c, {}).get(p))
            _n, _d, visible = policy.indicator_figures(
                scope, division, num, den, numerator_counts=indicator.numerator_counts, own=own
            )
        out.append((p, indicator.value(num, den) if visible else None))
    return out


def board(
    *,
    scope: Scope,
    code: str,
    platform: int | None = None,
    occupation: str = "",
    chosen: Indicator | None = None,
    as_of: dt.date | None = None,
) -> dict:
    """The indicators page of a division for the viewer: its figures with their series, and the chosen
    indicator for each readable division one level under it. Raises Division.DoesNotExist (see `division_get`)."""
    as_of = as_of or timezone.localdate()
    division = division_get(scope=scope, code=code)
    chosen = chosen or INDICATORS[0]
    below = child_length(code)
    children = []
    if below is not None:
        qs = (
            Division.objects.filter(parent=division)
            if division is not None
            else Division.objects.filter(parent__isnull=True)
        )
        children = [d for d in qs.order_by("code") if policy.indicator_access(scope, d.code) is not None]
    child_codes = [c.code for c in children]
    own_codes = known_codes(scope, [code, *child_codes])
    key = (platform, occupation)
    # a division seen from outside by platform or occupation: each figure is a cell of its table, read with the
    # others (policy.indicator_table), from the counts of every platform and occupation at once
    tabled = key != ALL and policy.indicator_access(scope, code) == policy.OUTSIDE
    if tabled:
        grids_now = current_grids(code=code, as_of=as_of)
        periods, grids_then = snapshot_grids(
            indicators=[i.code for i in INDICATORS], divisions=[code, *child_codes, *own_codes]
        )
    else:
        periods, series = snapshot_series(
            indicators=[i.code for i in INDICATORS],
            divisions=[code, *child_codes, *own_codes],
            platform=platform,
            occupation=occupation,
        )
        # the viewer's own divisions counted once for every indicator (with the cache off, current_counts counts)
        own_counts = {
            p: current_counts(code=p, platform=platform, occupation=occupation, as_of=as_of) for p in own_codes
        }

    def own_now(indicator: Indicator, division: str):
        def lookup(p: str):
            by_div = own_counts[p][indicator.code] if p in own_counts else None
            return by_div.get(p) if by_div else None

        return own_sum(scope, division, lookup)

    def own_then(indicator: Indicator) -> dict:
        return {p: series.get((indicator.code, p), {}) for p in own_codes}

    def counted(indicator: Indicator) -> bool:
        return not occupation or indicator.by_occupation

    def one(indicator: Indicator, division: str) -> Figure:
        if not counted(indicator):
            return Figure(indicator=indicator, division=division, counted=False)
        if tabled:
            f = figure(scope, indicator, division, None, grids=grids_now[indicator.code], key=key)
            then = {d: grids_then.get((indicator.code, d), {}) for d in [division, *own_codes]}
            f.series = visible_series(scope, indicator, division, periods, {}, grids=then, key=key)
            return f
        by_div = counts[indicator.code] or {}
        f = figure(scope, indicator, division, by_div.get(division), own_now(indicator, division))
        f.series = visible_series(
            scope, indicator, division, periods, series.get((indicator.code, division), {}), own_then(indicator)
        )
        return f

    counts = {} if tabled else current_counts(code=code, platform=platform, occupation=occupation, as_of=as_of)
    figures = [one(indicator, code) for indicator in INDICATORS]
    rows = [
        {
            "division": child,
            "figure": one(chosen, child.code),
            "drill": child_length(child.code) is not None,
            "listable": policy.indicator_access(scope, child.code) == policy.INSIDE,
        }
        for child in children
    ]
    return {
        "division": division,
        "code": code,
        "access": policy.indicator_access(scope, code),
        "crumbs": crumbs(scope, division),
        "figures": figures,
        "rows": rows,
        "chosen": chosen,
        "periods": periods,
        "as_of": as_of,
    }


def home_divisions() -> list[str]:
    """The divisions whose indicators open someone's home page (`default_division`): every organizer's
    divisions, and the whole country ("") when there is an administrator."""
    from django.contrib.auth import get_user_model

    from xinye.accounts.models import Role, RoleKind

    codes = set(
        Role.objects.filter(kind=RoleKind.ORGANIZER, division__isnull=False, user__is_active=True).values_list(
            "division__code", flat=True
        )
    )
    admins = Role.objects.filter(kind=RoleKind.ADMIN, user__is_active=True).exists()
    if admins or get_user_model().objects.filter(is_superuser=True, is_active=True).exists():
        codes.add("")
    return sorted(codes)


def platform_choices(code: str) -> list[tuple[int, str]]:
    """Platform companies with workers in the division (public names: a filter, not a count)."""
    from xinye.organizations.models import Company

    qs = Company.objects.filter(is_platform=True)
    if code:
        qs = qs.filter(workers__work_community__code__startswith=code)
    return [(c.pk, str(c)) for c in qs.distinct().order_by("name")]


# ------------------------------------------------------------------------------------------------- pilots


def pilot_list(*, scope: Scope):
    """The pilots the viewer may read: in or above their own divisions (administrators: all)."""
    pilots = Pilot.objects.select_related("division__parent").order_by("start_on", "division__code")
    if scope.is_admin:
        return list(pilots)
    return [p for p in pilots if policy.indicator_access(scope, p.division.code) is not None]


def comparison_area(pilot: Pilot) -> str:
    """The division a pilot is compared within: the one above it (a province within the country)."""
    code = pilot.division.code
    shorter = [n for n in LEVEL_LENGTHS if n < len(code)]
    return code[: shorter[-1]] if shorter else ""


def _outermost(codes: list[str]) -> list[str]:
    """The codes not inside another of them (nested pilots are subtracted once)."""
    return [c for c in codes if not any(o != c and c.startswith(o) for o in codes)]


def pilot_comparison(
    *, scope: Scope, pilot: Pilot, indicator: Indicator, platform: int | None = None, occupation: str = ""
) -> dict:
    """The pilot against the rest of its comparison area for one indicator, from the monthly snapshots: before
    (the last month before the pilot started) and after (the latest month), each with its counts, the changes
    and their difference (algorithms.diff_in_diff), every figure as the viewer may see it; and both series."""
    area = comparison_area(pilot)
    code = pilot.division.code
    others = [p.division.code for p in Pilot.objects.filter(division__code__startswith=area).select_related("division")]
    # the area is the level just above the pilot, so the pilot is one of the outermost pilots inside it
    inside = _outermost([c for c in others if c != area and c.startswith(area)])
    # what the viewer sees exactly of a pilot or an area they read from outside (their own divisions in it),
    # and of the pilots taken out of the area (policy.hidden_part): neither may give a small count away
    own_codes = known_codes(scope, [code, area, *inside])
    # every platform and occupation at once: a figure by platform or occupation is a cell of its division's table,
    # read with the others (policy.indicator_table)
    periods, grids = snapshot_grids(indicators=[indicator.code], divisions=[area, *inside, *own_codes], months=10_000)
    key = (platform, occupation)
    start = pilot.start_on.replace(day=1)
    before = max((p for p in periods if p < start), default=None)
    after = max((p for p in periods if p >= start), default=None)

    def grid(div: str, period) -> Grid:
        return grids.get((indicator.code, div), {}).get(period, {})

    def ratio(div: str, period) -> Ratio:
        return Ratio(*grid(div, period).get(key, (0, 0)))

    def rest(period) -> Ratio:
        return rest_of(ratio(area, period), [ratio(c, period) for c in inside])

    def own(div: str, period, *, outside_pilots: bool = False) -> list[Grid] | None:
        cuts = policy.known_cuts(scope, div)
        if not cuts:
            return None
        if outside_pilots:
            cuts = [[c for c in cut if not any(c.startswith(p) for p in inside)] for cut in cuts]
        return [add_grids(grid(c, period) for c in cut) for cut in cuts]

    def pilot_figures(div: str, period):
        return policy.indicator_table(
            scope, div, {key: (0, 0), **grid(div, period)}, own=own(div, period),
            numerator_counts=indicator.numerator_counts,
        )[key]  # fmt: skip

    def rest_figures(period):
        table = add_grids((grid(c, period) for c in inside), -1, base=grid(area, period))
        mine = {c: own(c, period) for c in inside}
        taken_out = {
            k: [
                policy.hidden_part(scope, c, grid(c, period).get(k, (0, 0)), [g.get(k, (0, 0)) for g in mine[c] or []])
                for c in inside
            ]
            for k in {key, *table}
        }
        return policy.indicator_table(
            scope, area, {key: (0, 0), **table}, own=own(area, period, outside_pilots=True), taken_out=taken_out,
            numerator_counts=indicator.numerator_counts,
        )[key]  # fmt: skip

    own_series = {p: grids.get((indicator.code, p), {}) for p in own_codes}

    recent = periods[-SERIES_MONTHS:]
    out = {
        "pilot": pilot,
        "area": area,
        "area_name": _name(area),
        "indicator": indicator,
        "before": before,
        "after": after,
        "series": {
            "pilot": visible_series(
                scope,
                indicator,
                code,
                recent,
                {},
                grids={code: grids.get((indicator.code, code), {}), **own_series},
                key=key,
            ),
            "rest": _rest_series(indicator, recent, rest, rest_figures),
        },
        "table": None,
    }
    if before is None or after is None:
        return out
    did = diff_in_diff(ratio(code, before), ratio(code, after), rest(before), rest(after), scale=indicator.scale)
    cells = {
        "pilot_before": (code, before, did.pilot_before_value),
        "pilot_after": (code, after, did.pilot_after_value),
        "rest_before": (area, before, did.rest_before_value),
        "rest_after": (area, after, did.rest_after_value),
    }
    shown = {}
    for name, (div, period, value) in cells.items():
        num, den, visible = rest_figures(period) if div == area else pilot_figures(div, period)
        shown[name] = {"numerator": num, "denominator": den, "value": value if visible else None, "visible": visible}
    pilot_ok = shown["pilot_before"]["visible"] and shown["pilot_after"]["visible"]
    rest_ok = shown["rest_before"]["visible"] and shown["rest_after"]["visible"]
    out["table"] = {
        **shown,
        "pilot_change": did.pilot_change if pilot_ok else None,
        "rest_change": did.rest_change if rest_ok else None,
        "difference": did.difference if pilot_ok and rest_ok else None,
    }
    return out


def _rest_series(indicator: Indicator, periods, rest, rest_figures) -> list:
    out = []
    for p in periods:
        r = rest(p)
        _n, _d, visible = rest_figures(p)
        out.append((p, indicator.value(r.numerator, r.denominator) if visible else None))
    return out


def _name(code: str) -> str:
    if not code:
        return ""
    return Division.objects.filter(code=code).values_list("name", flat=True).first() or code


def pilot_get(*, scope: Scope, pk: int) -> Pilot:
    """A pilot the viewer may read (Pilot.DoesNotExist otherwise)."""
    pilot = Pilot.objects.select_related("division__parent").get(pk=pk)
    if policy.indicator_access(scope, pilot.division.code) is None:
        raise Pilot.DoesNotExist(pk)
    return pilot


#: which records of a figure a list shows: those counted, those not (the gap), or all of them
PARTS = ("counted", "missing", "all")


def figure_records(
    *,
    scope: Scope,
    code: str,
    indicator: Indicator,
    platform: int | None = None,
    occupation: str = "",
    part: str = "counted",
    as_of: dt.date | None = None,
):
    """The people, business units or demands behind one figure of the indicators page, as the viewer may list
    them (`policy.indicator_records`): (kind, queryset of `part`, {part: count, "records": the Records they come
    from}); a page of them shown is told to `policy.indicator_records_shown` (the audit). Raises Division.DoesNotExist
    for a division the viewer may not read, outside their own area (counts only there), or not counted that
    way (an occupation asked of an indicator without one)."""
    from .indicators import records

    division_get(scope=scope, code=code)
    if part not in PARTS or (occupation and not indicator.by_occupation):
        raise Division.DoesNotExist(code)
    ctx = Context(as_of=as_of or timezone.localdate(), prefix=code, platform=platform, occupation=occupation)
    r = records(indicator, ctx)
    listed = policy.indicator_records(scope, code, r)
    if listed is None:
        raise Division.DoesNotExist(code)
    every, counted = listed
    missing = every.exclude(pk__in=counted.values("pk"))
    chosen = {"counted": counted, "missing": missing, "all": every}[part]
    return r.kind, chosen.distinct().order_by("pk"), {"counted": counted.count(), "all": every.count(), "records": r}


# ------------------------------------------------------------------------------------------ monthly reports


class NoSnapshot(XinyeError):
    """A month with no snapshot to report from."""


@dataclass
class MonthlyData:
    """What a division's monthly report says, as one viewer may see it (every count through the policy)."""

    division: Division
    period: dt.date
    as_of: dt.date
    #: the months of the trend: the last SERIES_MONTHS months with a snapshot, up to and including `period`
    periods: list[dt.date]
    #: the month's figure of every indicator for the division, with its series over `periods`
    figures: list[Figure]
    #: the divisions one level below that the viewer may read (none under a street)
    children: list[Division]
    #: indicator code -> the month's figure of each child, in the order of `children`
    by_child: dict[str, list[Figure]]
    #: the viewer reads the division from outside: small counts suppressed
    outside: bool

    def previous(self, f: Figure) -> float | None:
        """The figure's value in the snapshot before the month (None: none, or not shown)."""
        return f.series[-2][1] if len(f.series) > 1 else None


def report_periods(period: dt.date, months: int = SERIES_MONTHS) -> list[dt.date]:
    """The last `months` months with a snapshot, up to and including `period`."""
    got = IndicatorSnapshot.objects.filter(period__lte=period).values_list("period", flat=True).distinct()
    return sorted(set(got))[-months:]


def children_of(scope: Scope, division: Division | None) -> list[Division]:
    """The divisions one level below `division` (None: the provinces; none under a street) that the viewer may
    read."""
    if division is None:
        qs = Division.objects.filter(parent__isnull=True).order_by("code")
    elif child_length(division.code) is None:
        return []
    else:
        qs = Division.objects.filter(parent=division).order_by("code")
    return [d for d in qs if policy.indicator_access(scope, d.code) is not None]


def monthly_report_data(*, scope: Scope, code: str, period: dt.date) -> MonthlyData:
    """The report of the division `code` for the month `period` (its first day), from the month's snapshot and
    the ones before it. Raises Division.DoesNotExist for a division the viewer may not read (or the whole
    country, which has no report), NoSnapshot when the month has no snapshot."""
    division = division_get(scope=scope, code=code)
    if division is None:
        raise Division.DoesNotExist(code)
    periods = report_periods(period)
    if not periods or periods[-1] != period:
        raise NoSnapshot(f"no indicator snapshot of {period:%Y-%m}: take it first (xinye indicators snapshot)")
    children = children_of(scope, division)
    codes = [code, *[c.code for c in children]]
    own_codes = known_codes(scope, codes)
    codes += own_codes
    rows = IndicatorSnapshot.objects.filter(
        division__in=codes, occupation="", platform__isnull=True, period__in=periods
    ).values_list("indicator", "division", "period", "numerator", "denominator")
    counts: dict[tuple[str, str], dict[dt.date, tuple[int, int]]] = {}
    for ind, div, p, num, den in rows:
        counts.setdefault((ind, div), {})[p] = (num, den)
    as_of = IndicatorSnapshot.objects.filter(period=period).values_list("as_of", flat=True).first()
    figures = []
    by_child: dict[str, list[Figure]] = {}
    for indicator in INDICATORS:
        series = counts.get((indicator.code, code), {})
        own_series = {p: counts.get((indicator.code, p), {}) for p in own_codes}

        def own(division: str, own_series=own_series):
            return own_sum(scope, division, lambda d: own_series.get(d, {}).get(period))

        f = figure(scope, indicator, code, series.get(period), own(code))
        f.series = visible_series(scope, indicator, code, periods, series, own_series)
        figures.append(f)
        by_child[indicator.code] = [
            figure(scope, indicator, c.code, counts.get((indicator.code, c.code), {}).get(period), own(c.code))
            for c in children
        ]
    return MonthlyData(
        division=division,
        period=period,
        as_of=as_of or period,
        periods=periods,
        figures=figures,
        children=children,
        by_child=by_child,
        outside=policy.indicator_access(scope, code) == policy.OUTSIDE,
    )


def monthly_report_list(*, scope: Scope, code: str = ""):
    """The kept reports of the division `code` and the divisions under it that the viewer may read, newest month
    first (the files deferred: a list reads their sizes only)."""
    from .models import MonthlyReport

    qs = MonthlyReport.objects.select_related("division", "created_by").defer("xlsx", "pdf")
    if code:
        qs = qs.filter(division__code__startswith=code)
    if scope.is_admin:
        return list(qs)
    return [r for r in qs if policy.report_copy(scope, r.division.code) is not None]


def monthly_report_get(*, scope: Scope, pk: int):
    """A kept report the viewer may read (MonthlyReport.DoesNotExist otherwise), its files deferred."""
    from .models import MonthlyReport

    report = MonthlyReport.objects.select_related("division").defer("xlsx", "pdf").get(pk=pk)
    if policy.report_copy(scope, report.division.code) is None:
        raise MonthlyReport.DoesNotExist(pk)
    return report


def monthly_report_file(*, scope: Scope, pk: int, fmt: str) -> tuple[bytes, str]:
    """A kept report's file (`fmt` "xlsx" or "pdf") as the viewer may read it, and its name: the stored file
    for a reader inside the division; for a reader outside, the same report built for them from the same
    snapshots (policy.report_copy). MonthlyReport.DoesNotExist for a report the viewer may not read."""
    from . import report_files
    from .models import MonthlyReport

    if fmt not in ("xlsx", "pdf"):
        raise MonthlyReport.DoesNotExist(fmt)
    report = monthly_report_get(scope=scope, pk=pk)
    name = f"report-{report.division.code}-{report.period:%Y-%m}.{fmt}"
    if policy.report_copy(scope, report.division.code) == "kept":
        data = MonthlyReport.objects.filter(pk=pk).values_list(fmt, flat=True).get()
        return bytes(data), name
    mine = monthly_report_data(scope=scope, code=report.division.code, period=report.period)
    built = report_files.report_xlsx(mine) if fmt == "xlsx" else report_files.report_pdf(mine)
    return built, name
