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


@register.filter
def hours(value) -> str:
    """OSM opening_hours in words, in the active language (stations.hours.humanize)."""
    from django.utils.translation import get_language

    from xinye.stations.hours import humanize

    return humanize(str(value or ""), get_language() or "en")


@register.filter
def change_reason(value) -> str:
    """A history change reason in the active language (common.labels.change_reason_label)."""
    from xinye.common.labels import change_reason_label

    return change_reason_label(str(value or ""))


@register.filter
def job_stage(value) -> str:
    """A job's stage in the active language (common.labels.job_stage_label)."""
    from xinye.common.labels import job_stage_label

    return job_stage_label(str(value or ""))


@register.filter
def consent_purpose(value) -> str:
    """A consent's purpose code in the active language (common.labels.consent_purpose_label)."""
    from xinye.common.labels import consent_purpose_label

    return consent_purpose_label(str(value or ""))


@register.filter
def consent_channel(value) -> str:
    """A consent's channel code in the active language (common.labels.consent_channel_label)."""
    from xinye.common.labels import consent_channel_label

    return consent_channel_label(str(value or ""))


@register.filter(name="model_label")
def model_label_filter(value) -> str:
    """An "app_label.model" code as the model's verbose name in the active language."""
    from xinye.common.labels import model_label

    return model_label(str(value or ""))
