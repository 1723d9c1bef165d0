"""Small text helpers shared by every app."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D")


def mask_phone(phone: str | None) -> str:
    """Show a phone number as 138****1234: enough to recognise, not enough to call.

    >>> mask_phone("13812341234")
    '138****1234'
    """
    if not phone:
        return ""
    digits = _DIGITS.sub("", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def short_place(name: str) -> str:
    """A community's name without its committee suffix: 布心社区居民委员会 -> 布心.

    >>> short_place("布心社区居民委员会")
    '布心'
    """
    for suffix in ("社区居民委员会", "社区居委会", "居民委员会", "村民委员会", "居委会", "村委会", "社区"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name
