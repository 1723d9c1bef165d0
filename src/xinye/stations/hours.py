"""Opening hours in words: the OSM `opening_hours` value a station stores, read out in Chinese or English.

opening-hours-py parses and evaluates the syntax but has no describer, so this reads the library's
*normalized* form (``Mo-Fr 09:00-18:00; PH closed``) for the subset the registry accepts in practice:
rules of weekday ranges/lists and ``PH``, followed by time spans or ``off``/``closed``, or ``24/7``.
Anything outside that subset is returned unchanged rather than guessed at.

Example::

    >>> humanize("Mo-Fr 09:00-18:00; PH off", "zh-hans")
    '周一至周五 09:00-18:00，法定节假日休息'
    >>> humanize("Mo-Fr 09:00-18:00; PH off", "en")
    'Mon–Fri 09:00–18:00; closed on public holidays'
"""

from __future__ import annotations

import re

import opening_hours

from .services import _parsed

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
ZH_DAYS = dict(zip(DAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
EN_DAYS = dict(zip(DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))

_DAY = "(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_SEL = re.compile(rf"^(?:{_DAY}(?:-{_DAY})?|PH)(?:,(?:{_DAY}(?:-{_DAY})?|PH))*$")
_SPAN = re.compile(r"^\d\d:\d\d-\d\d:\d\d$")


class _Unsupported(ValueError):
    pass


def _selector(sel: str, zh: bool) -> str:
    names = ZH_DAYS if zh else EN_DAYS
    parts = []
    for item in sel.split(","):
        if item == "PH":
            parts.append("法定节假日" if zh else "public holidays")
        elif "-" in item:
            a, b = item.split("-")
            parts.append(f"{names[a]}至{names[b]}" if zh else f"{names[a]}–{names[b]}")
        else:
            parts.append(names[item])
    return ("、" if zh else ", ").join(parts)


def _rule(rule: str, zh: bool) -> str:
    words = rule.split()
    if rule == "24/7":
        return "全天开放" if zh else "open 24/7"
    sel = ""
    if words and _SEL.match(words[0]):
        sel = words.pop(0)
    if not words:
        raise _Unsupported(rule)
    if not sel and words in (["off"], ["closed"]):
        return "休息" if zh else "closed"
    if words == ["off"] or words == ["closed"]:
        if not sel:
            raise _Unsupported(rule)
        if sel == "PH":
            return "法定节假日休息" if zh else "closed on public holidays"
        where = _selector(sel, zh)
        return f"{where}休息" if zh else f"closed {where}"
    if len(words) != 1:
        raise _Unsupported(rule)
    spans = words[0].split(",")
    if not all(_SPAN.match(s) for s in spans):
        raise _Unsupported(rule)
    times = ("、" if zh else ", ").join(s if zh else s.replace("-", "–") for s in spans)
    if not sel:
        return f"每天 {times}" if zh else f"daily {times}"
    return f"{_selector(sel, zh)} {times}"


def humanize(expression: str, language: str) -> str:
    """The opening hours `expression` in words, in `language` ("zh-hans" or "en"); unchanged when the
    value is invalid or outside the described subset."""
    expression = (expression or "").strip()
    try:
        normal = str(_parsed(expression).normalize())
    except opening_hours.ParserError:
        return expression
    zh = (language or "").lower().startswith("zh")
    try:
        rules = [_rule(r.strip(), zh) for r in normal.split(";") if r.strip()]
    except _Unsupported:
        return expression
    return ("，" if zh else "; ").join(rules)
