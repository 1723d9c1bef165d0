"""The certificate of a volunteer's approved service hours (issue 14, item 5), a printable page and a PDF.

It follows the Ministry of Civil Affairs' Measures for volunteer service records and certificates (trial, in
force 2021-02-01): the service is certified by whoever recorded it ("谁记录、谁证明"), so the certificate lists
the hours under each recording organization (the organizing team, or the organization), with a place for that
organization's seal; hours are the time actually served, as reviewed and approved. It is written in Chinese
whatever the interface's language (an official document); the volunteer is named with a masked phone number
(Xinye keeps no ID-card number).

The PDF is made by WeasyPrint from the same template, with the project's stylesheet read from disk and no other
resource fetched (user text could otherwise make it fetch an address); Chinese text needs a CJK font on the
machine (Debian: fonts-wqy-microhei, which CI installs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone, translation

from .hours import recording_organization
from .models import HoursKind, HoursRecord, HoursStatus

#: the certificate's language: an official document in Chinese
LANGUAGE = "zh-hans"
STYLESHEET = "xinye/certificate.css"


@dataclass
class Line:
    date: dt.date
    start: str
    end: str
    activity: str
    hours: float
    awarded: bool


@dataclass
class Group:
    organization: str
    lines: list[Line] = field(default_factory=list)
    minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


def certificate_data(person, *, today: dt.date | None = None) -> dict:
    """What the certificate says: the person, their approved hours by recording organization (oldest first),
    the total and the day it is issued."""
    records = (
        HoursRecord.objects.filter(person=person, status=HoursStatus.APPROVED)
        .select_related("activity__team__organization", "activity__organization")
        .order_by("starts_at", "pk")
    )
    groups: dict[str, Group] = {}
    total = 0
    for r in records:
        org = recording_organization(r.activity)
        g = groups.setdefault(org, Group(org))
        start, end = timezone.localtime(r.starts_at), timezone.localtime(r.ends_at)
        g.lines.append(
            Line(
                date=start.date(),
                start=f"{start:%H:%M}",
                end=f"{end:%H:%M}" if end.date() == start.date() else f"{end:%m-%d %H:%M}",
                activity=r.activity.title,
                hours=round(r.minutes / 60, 2),
                awarded=r.kind == HoursKind.AWARDED,
            )
        )
        g.minutes += r.minutes
        total += r.minutes
    return {
        "person": person,
        "phone": person.masked_phone,
        "groups": list(groups.values()),
        "total_hours": round(total / 60, 2),
        "issued_on": today or timezone.localdate(),
    }


def certificate_html(data: dict, *, request=None, standalone: bool = False) -> str:
    """The certificate in Chinese: the page (inside the site's layout) or, `standalone`, the document the PDF
    is made from."""
    template = "volunteering/certificate_pdf.html" if standalone else "volunteering/certificate.html"
    with translation.override(LANGUAGE):
        return render_to_string(template, data, request=request)


def _no_fetch(url, *args, **kwargs):
    raise ValueError(f"the certificate loads nothing from outside: {url}")


def certificate_pdf(data: dict) -> bytes:
    """The certificate as a PDF (WeasyPrint), A4."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    css = finders.find(STYLESHEET)
    if not css:
        raise FileNotFoundError(STYLESHEET)
    html = certificate_html(data, standalone=True)
    return HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf(stylesheets=[CSS(filename=css)])
