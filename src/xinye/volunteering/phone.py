"""The volunteer session of a worker without an account (issue 14): after the one-time code that proves a phone
is theirs (the code of "My data", `people.rights`: the same codes, limits and text message), the session holds
the person's number and a keyed hash of the phone, and volunteering pages marked `volunteer_required` act with
`accounts.policy.phone_volunteer_scope(person)`: their own shifts, teams, hours and points, nothing else.

Nothing new is collected: the person is the one on record with that phone (a worker, or a member). The session
ends `XINYE_SESSION_MAX_HOURS` after the code (the longest a signed-in session lasts), when the person
withdraws consent or is erased, when their phone on record changes, or when they end it. There is no idle
limit: a volunteer checks in, puts the phone away and checks out hours later.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from xinye.accounts import policy
from xinye.people import rights
from xinye.people.models import Person

SESSION_KEY = "xinye_volunteer"  # {"person": id, "phone": keyed hash of the phone, "at": epoch seconds}
#: the history change reason of what a volunteer does in such a session (common.labels translates it)
REASON = "volunteer's phone"


def lifetime_seconds() -> float:
    return float(settings.XINYE_SESSION_MAX_HOURS) * 3600


def people_with_phone(phone: str) -> list[Person]:
    """The people on record with this phone whom Xinye may still process (at most two are read: more than one
    is a question for the community, not for the volunteer)."""
    return list(Person.objects.filter(rights.processable_q(), phone=phone).order_by("pk")[:2])


def session_open(request, person: Person) -> None:
    """After the code: bind the session to the person (a new session id, as after any proof)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "person": person.pk,
        "phone": rights.phone_hash(person.phone),
        "at": timezone.now().timestamp(),
    }


def session_end(request) -> None:
    request.session.pop(SESSION_KEY, None)


def session_person(request) -> Person | None:
    """The person of the request's volunteer session, or None (none, over, or no longer theirs)."""
    session = getattr(request, "session", None)
    held = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(held, dict):
        return None
    at = held.get("at")
    if not isinstance(at, int | float) or timezone.now().timestamp() - at > lifetime_seconds():
        return None
    person = Person.objects.filter(pk=held.get("person") or 0).first()
    if person is None or not person.phone or rights.phone_hash(person.phone) != held.get("phone"):
        return None
    return person if policy.phone_volunteer_scope(person) is not None else None


def start_url(next_path: str = "") -> str:
    url = reverse("volunteer_phone_start")
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def volunteer_required(view):
    """A volunteering page open to signed-in users and to volunteer sessions. A session acts with
    `policy.phone_volunteer_scope`; anyone else is sent to prove their phone (or to sign in from there)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return view(request, *args, **kwargs)
        person = session_person(request)
        if person is None:
            if SESSION_KEY in request.session:
                session_end(request)
            return redirect(start_url(request.get_full_path() if request.method == "GET" else ""))
        request._xinye_scope = policy.phone_volunteer_scope(person)
        request.xinye_phone_person = person
        return view(request, *args, **kwargs)

    wrapped.xinye_phone_session = True
    return never_cache(wrapped)


def via(request) -> str:
    """The history change reason of a write made in the request: the volunteer's phone, or "" (signed in)."""
    return REASON if getattr(request, "xinye_phone_person", None) is not None else ""


def actor(request):
    """The user who acts, for `created_by` fields: None in a volunteer session."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
