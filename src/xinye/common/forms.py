"""Form fields shared by every app.

Dates travel as ISO 8601 (YYYY-MM-DD) between the server and the browser's date picker whatever the page's
language: an <input type="date"> only accepts an ISO value, and a localized one ("2026/09/07" in zh-Hans)
makes the browser show an empty field, which the next save then stores as "no date" (issue 16, item 1).
"""

from __future__ import annotations

import re
from datetime import date

from django import forms

#: the one format of an HTML date input's value (WHATWG "valid date string")
ISO_DATE = "%Y-%m-%d"
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDateInput(forms.DateInput):
    """A browser date picker whose value is always ISO, never the active language's short date format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=ISO_DATE)


class IsoDateField(forms.DateField):
    """A date field rendered as a date picker; it accepts ISO first, then the active language's formats (so a
    value typed by hand in a browser without a picker still reads)."""

    widget = IsoDateInput

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", IsoDateInput)
        super().__init__(**kwargs)

    def to_python(self, value):
        # ISO first, whatever the language's DATE_INPUT_FORMATS say (Django adds ISO to them today; this
        # does not depend on it)
        if isinstance(value, str) and _ISO.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass  # 2026-02-30: the language's formats below refuse it with the field's message
        return super().to_python(value)
