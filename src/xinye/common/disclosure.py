"""Small-count suppression: counts shown to a user about people outside their own scope.

A count is *in scope* when the viewer may see every counted record one by one (an organizer's own division,
an organization's staff and secretaries for their subtree, an administrator for everything); then it is
shown as it is. A count that reaches outside the viewer's scope (a member looking at their branch, a
secretary at the workers of the area their branch covers) could single out a few people; a value of 1 to 4
is then shown as "<5" (`threshold` 5). Zero stays zero: it says nobody, not who.

A suppressed value must not come back by subtraction. Two rules close that:
- `suppress_table`: when the cells of a table are shown with their total, and only one cell is suppressed,
  the next smallest non-zero cell is suppressed too (secondary suppression);
- `round_total`: a total whose parts are partly known (e.g. workers = pairs, which the viewer sees, +
  workers without a liaison, which they do not) is shown rounded to a multiple of `threshold` whenever a
  part is suppressed, marked "≈".

Pages call these with the `in_scope` answer of the one place that decides it for the count in question
(e.g. `demands.liaison.area_in_scope`, `organizations.selectors.member_count_in_scope`); templates use the
`suppress_small` filter (`{% load xinye %}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

THRESHOLD = 5
K = TypeVar("K")


def is_small(value, threshold: int = THRESHOLD) -> bool:
    return isinstance(value, int) and 0 < value < threshold


def suppress_small(value, *, in_scope: bool, threshold: int = THRESHOLD):
    """`value` as it may be shown: itself when in scope, zero, not a number, or at least `threshold`;
    otherwise the text "<threshold"."""
    if in_scope or not is_small(value, threshold):
        return value
    return f"<{threshold}"


def suppress_table(cells: Mapping[K, int], *, in_scope: bool, threshold: int = THRESHOLD) -> dict[K, int | str]:
    """Every cell through `suppress_small`, and a second cell when exactly one was suppressed (the total of
    the table is shown, so one hidden cell could be computed from it)."""
    out: dict[K, int | str] = {k: suppress_small(v, in_scope=in_scope, threshold=threshold) for k, v in cells.items()}
    if in_scope:
        return out
    hidden = [k for k in cells if out[k] != cells[k]]
    if len(hidden) == 1:
        rest = sorted((v, str(k), k) for k, v in cells.items() if k not in hidden and v > 0)
        if rest:
            out[rest[0][2]] = f"<{threshold}" if rest[0][0] < threshold else f"≥{threshold}"
    return out


def round_total(value: int, *, in_scope: bool, part_hidden: bool, threshold: int = THRESHOLD):
    """A total shown next to parts: exact in scope or when no part is hidden; else rounded to a multiple of
    `threshold` ("≈10"), or "<threshold" when it is small itself."""
    if in_scope or not part_hidden:
        return suppress_small(value, in_scope=in_scope, threshold=threshold)
    if is_small(value, threshold):
        return f"<{threshold}"
    return f"≈{threshold * round(value / threshold)}"


def round_to(value, threshold: int = THRESHOLD) -> str:
    """A hidden count as shown: the nearest multiple of `threshold`, "≈0", "≈5", "≈95" (0 to 2 is "≈0", 3 to 7
    "≈5"): the same band for every count, whatever hid it."""
    return f"≈{threshold * round(value / threshold)}"


Key = tuple  # a cell of a two-way table: (row, column)


def secondary_cells(
    cells: Mapping[Key, tuple],
    *,
    margin: tuple = (None, ""),
    numerator_counts: bool = True,
    threshold: int = THRESHOLD,
) -> set[Key]:
    """The cells of a two-way table of (numerator, denominator) counts to hide besides those already hidden, so
    that no hidden count comes back from a margin less the cells shown (secondary suppression).

    `cells`: (row, column) -> (parts, (numerator shown exactly, denominator shown exactly)). `parts`: the cell's
    (numerator, denominator) that the viewer does not see exactly already, i.e. the count less what they see of
    it elsewhere; or a list of them, one for each way they may take off what they see (each is checked). The row
    `margin[0]` and the column `margin[1]` are the margins: (margin row, c) counts every row of column c together,
    (r, margin column) every column of row r. Rows need not partition their margin (a worker on two platforms
    counts in each): what is left of a margin once the cells shown are taken from it is what the viewer learns.

    Each line (a row or a column) whose margin is shown exactly gives the viewer its margin less the cells shown
    exactly: the hidden cells and the rest (records in none of the cells, such as workers without an
    occupation) together. While that is small (1 to `threshold` - 1) for a count (the denominator; with
    `numerator_counts`, the numerator and the denominator less the numerator too), the line's smallest cell
    still shown that adds to it is hidden, and every line is looked at again, until none gives a small count
    away. The same table always gives the same cells (ties go by the cell's key), whichever cell is asked for."""
    hidden: set[Key] = set()
    counts = (0, 1, 2) if numerator_counts else (1,)
    parts = {k: ([p] if isinstance(p, tuple) else list(p)) for k, (p, _exact) in cells.items()}
    ways = range(max((len(p) for p in parts.values()), default=1))

    def value(key: Key, q: int, way: int) -> int:
        num, den = parts[key][min(way, len(parts[key]) - 1)]
        return (num, den, den - num)[q]

    def known(key: Key, q: int) -> bool:
        if key in hidden:
            return False
        _parts, (num_exact, den_exact) = cells[key]
        return (num_exact, den_exact, num_exact and den_exact)[q]

    rows = sorted({r for r, _c in cells}, key=str)
    columns = sorted({c for _r, c in cells}, key=str)
    lines = [((r, margin[1]), [(r, c) for c in columns if c != margin[1]]) for r in rows]
    lines += [((margin[0], c), [(r, c) for r in rows if r != margin[0]]) for c in columns]
    changed = True
    while changed:
        changed = False
        for total, members in lines:
            members = [m for m in members if m in cells]
            if total not in cells:
                continue
            for q, way in ((q, w) for q in counts for w in ways):
                if not known(total, q):
                    continue
                rest = value(total, q, way) - sum(value(m, q, way) for m in members if known(m, q))
                some_hidden = any(not known(m, q) for m in members)
                # what the hidden cells and the rest hold together: 1 to 4, or 0 when a cell is hidden (it would
                # say the hidden cells hold nobody)
                if not (is_small(rest, threshold) or (rest == 0 and some_hidden)):
                    continue
                shown = sorted((value(m, q, way), str(m), m) for m in members if known(m, q) and value(m, q, way) > 0)
                if shown:
                    hidden.add(shown[0][2])
                    changed = True
    return hidden
