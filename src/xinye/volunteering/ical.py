"""iCalendar (RFC 5545) feeds, written with the `icalendar` package: a volunteer's shifts and a team's
activities, read by any calendar app from a private address (`CalendarFeed`).

One VEVENT per shift, its UID stable (`shift-<id>@<host>`) so that a calendar updates an event in place when a
time changes; times in UTC; a cancelled shift or activity is STATUS:CANCELLED, a place on the waiting list
TENTATIVE. Texts are in the deployment's language (a calendar app sends no page language).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vGeo

from .models import OPEN_SIGNUP_STATUSES, Shift, Signup, SignupStatus, Team

#: how far back a feed reaches (calendar apps keep what they already read)
PAST = dt.timedelta(days=90)


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Xinye//Volunteering//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    # how often a calendar app should read the feed again (RFC 7986 REFRESH-INTERVAL; X-PUBLISHED-TTL for others)
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def _event(shift: Shift, *, base_url: str, host: str, now: dt.datetime, waiting: bool = False) -> Event:
    a = shift.activity
    ev = Event()
    ev.add("uid", f"shift-{shift.pk}@{host}")
    ev.add("dtstamp", now)
    ev.add("dtstart", shift.starts_at.astimezone(dt.UTC))
    ev.add("dtend", shift.ends_at.astimezone(dt.UTC))
    ev.add("last-modified", max(shift.updated_at, a.updated_at).astimezone(dt.UTC))
    summary = a.title if not waiting else _("%(title)s (waiting list)") % {"title": a.title}
    ev.add("summary", summary)
    place = a.place
    where = ", ".join(x for x in (str(getattr(place, "name", place) or ""), a.address) if x)
    if where:
        ev.add("location", where)
    if a.location is not None:
        ev.add("geo", vGeo(a.location))
    lines = [a.get_kind_display()]
    if a.organizer is not None:
        lines.append(_("Organized by %(organizer)s") % {"organizer": a.organizer})
    if a.description:
        lines.append(a.description)
    ev.add("description", "\n".join(lines))
    ev.add("categories", [a.get_kind_display()])
    url = base_url + reverse("shift_detail", args=[shift.pk])
    ev.add("url", url)
    if shift.cancelled_at or a.cancelled_at:
        ev.add("status", "CANCELLED")
    else:
        ev.add("status", "TENTATIVE" if waiting else "CONFIRMED")
    return ev


def person_calendar(person, *, base_url: str, host: str, now: dt.datetime | None = None) -> bytes:
    """The shifts the person signed up for (with a place or waiting), from PAST ago on."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        cal = _calendar(_("My volunteer shifts"))
        signups = (
            Signup.objects.filter(person=person, status__in=OPEN_SIGNUP_STATUSES, shift__ends_at__gte=now - PAST)
            .select_related(
                "shift__activity__station",
                "shift__activity__community",
                "shift__activity__team",
                "shift__activity__organization",
            )  # fmt: skip
            .order_by("shift__starts_at", "pk")
        )
        for s in signups:
            waiting = s.status == SignupStatus.WAITLISTED
            cal.add_component(_event(s.shift, base_url=base_url, host=host, now=now, waiting=waiting))
        return cal.to_ical()


def team_calendar(team: Team, *, base_url: str, host: str, now: dt.datetime | None = None) -> bytes:
    """Every shift of the team's activities, from PAST ago on (cancelled ones marked so)."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        cal = _calendar(team.name)
        shifts = (
            Shift.objects.filter(Q(activity__team=team), ends_at__gte=now - PAST)
            .select_related("activity__station", "activity__community", "activity__team", "activity__organization")
            .order_by("starts_at", "pk")
        )
        for shift in shifts:
            cal.add_component(_event(shift, base_url=base_url, host=host, now=now))
        return cal.to_ical()
