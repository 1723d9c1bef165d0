"""Pilots compared with the rest: before and after, and the difference of the differences. Pure Python.

An indicator is a ratio of two counts (workers covered / workers; the sum of ratings / ratings). For a pilot
and for "the rest" (the comparison area without any pilot) it is read twice: *before* (the last monthly
snapshot before the pilot started) and *after* (the latest snapshot). Then

    pilot change  = pilot after - pilot before
    rest change   = rest after  - rest before
    difference of the differences = pilot change - rest change

in the indicator's own unit (percentage points for a share, points for a mean rating). The rest's change
stands for what would have happened in the pilot without it (the "parallel trends" assumption: judge it from
the two time series, which the page draws); what remains is attributed to the pilot. Every figure keeps the
counts behind it, so a reader sees that 60 % is 3 of 5 and not 3,000 of 5,000.

The rest is the comparison area minus the pilots inside it: `rest_of` subtracts counts (never ratios), so
the rest is exactly the workers who were not in a pilot.

References
----------
Card, D. and Krueger, A. B. (1994). Minimum wages and employment: a case study of the fast-food industry in
New Jersey and Pennsylvania. American Economic Review 84(4), 772-793 (the 2 x 2 table of means).
Angrist, J. D. and Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5.2 (differences-in-differences).

>>> r = diff_in_diff(Ratio(30, 100), Ratio(60, 100), Ratio(200, 1000), Ratio(250, 1000))
>>> round(r.pilot_change, 6), round(r.rest_change, 6), round(r.difference, 6)
(30.0, 5.0, 25.0)
>>> rest_of(Ratio(250, 1000), [Ratio(60, 100)])
Ratio(numerator=190, denominator=900)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InputError, RowError


@dataclass(frozen=True)
class Ratio:
    """Two counts (numerator, denominator >= 0); `value(scale)` is scale * numerator / denominator, or None
    when the denominator is 0 (nothing to measure, not 0 %)."""

    numerator: int | float
    denominator: int | float

    def value(self, scale: float = 100.0) -> float | None:
        return scale * self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class DiffInDiff:
    """The 2 x 2 table and its differences (None where a ratio has nothing to measure)."""

    pilot_before: Ratio
    pilot_after: Ratio
    rest_before: Ratio
    rest_after: Ratio
    scale: float
    pilot_before_value: float | None
    pilot_after_value: float | None
    rest_before_value: float | None
    rest_after_value: float | None
    pilot_change: float | None
    rest_change: float | None
    difference: float | None


def _check(name: str, r: Ratio) -> None:
    for field in ("numerator", "denominator"):
        v = getattr(r, field)
        if not isinstance(v, int | float) or isinstance(v, bool) or v != v or v < 0:
            raise InputError([RowError("diff_in_diff", name, field, v, "a count is a number >= 0")])


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def diff_in_diff(
    pilot_before: Ratio, pilot_after: Ratio, rest_before: Ratio, rest_after: Ratio, *, scale: float = 100.0
) -> DiffInDiff:
    """The difference of the differences of `scale * numerator / denominator` (100: percentage points; 1: the
    ratio itself, e.g. a mean rating). Raises InputError naming the cell whose count is negative or not a
    number."""
    cells = {
        "pilot_before": pilot_before,
        "pilot_after": pilot_after,
        "rest_before": rest_before,
        "rest_after": rest_after,
    }
    for name, r in cells.items():
        _check(name, r)
    pb, pa, rb, ra = (r.value(scale) for r in cells.values())
    pilot_change = _minus(pa, pb)
    rest_change = _minus(ra, rb)
    return DiffInDiff(
        pilot_before=pilot_before,
        pilot_after=pilot_after,
        rest_before=rest_before,
        rest_after=rest_after,
        scale=scale,
        pilot_before_value=pb,
        pilot_after_value=pa,
        rest_before_value=rb,
        rest_after_value=ra,
        pilot_change=pilot_change,
        rest_change=rest_change,
        difference=_minus(pilot_change, rest_change),
    )


def rest_of(area: Ratio, pilots: Iterable[Ratio]) -> Ratio:
    """The area without the pilots inside it (which must not overlap): counts subtracted. Raises InputError
    when a pilot holds more than the area (the counts were taken at different times or the pilot lies
    elsewhere)."""
    _check("area", area)
    num, den = area.numerator, area.denominator
    for i, p in enumerate(pilots):
        _check(f"pilot {i + 1}", p)
        num -= p.numerator
        den -= p.denominator
    if num < 0 or den < 0:
        raise InputError(
            [RowError("rest_of", "area", "numerator" if num < 0 else "denominator", area, "the pilots hold more")]
        )
    return Ratio(num, den)
