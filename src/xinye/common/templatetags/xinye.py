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
