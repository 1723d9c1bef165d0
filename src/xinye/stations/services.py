"""Opening hours of stations (OpenStreetMap `opening_hours` syntax, parsed by opening-hours-py)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import opening_hours

from xinye.algorithms.errors import InputError, RowError

#: holidays in `PH` rules are China's
COUNTRY = "CN"


@lru_cache(maxsize=4096)
def _parsed(expression: str):
    return opening_hours.OpeningHours(expression, country=COUNTRY)


def opening_hours_check(expression: str) -> None:
    """Raise InputError naming the value when `expression` is not valid opening_hours syntax."""
    try:
        _parsed(expression.strip())
    except opening_hours.ParserError as exc:
        first = str(exc).splitlines()[0]
        raise InputError([RowError("opening_hours", None, "opening_hours", expression, first)]) from exc


def is_open(expression: str, at: datetime) -> bool:
    """Whether a station with these opening hours is open at `at` (local time, naive or aware)."""
    try:
        oh = _parsed(expression.strip())
    except opening_hours.ParserError:
        return False
    return bool(oh.is_open(at.replace(tzinfo=None)))
