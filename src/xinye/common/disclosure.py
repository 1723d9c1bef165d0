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
