"""Template filters shared by the pages: `{% load xinye %}`."""

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """A share (0..1) as a percentage in the current locale's number format: 0.7345 -> "73.5%"."""
    try:
        return f"{number_format(float(value) * 100, int(digits))}%"
    except (TypeError, ValueError):
        return ""


@register.filter(name="suppress_small")
def suppress_small_filter(value, in_scope=False):
    """`{{ n|suppress_small:in_scope }}`: 1 to 4 shown as "<5" unless the count is in the viewer's scope
    (xinye.common.disclosure)."""
    from xinye.common.disclosure import suppress_small

    return suppress_small(value, in_scope=bool(in_scope))
