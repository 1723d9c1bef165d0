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
