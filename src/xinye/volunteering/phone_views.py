"""Pages that open and end a worker's volunteer session with the one-time code of "My data" (see `phone`).

Thin: the codes, their limits and the text message are `people.rights`; the session is `phone`.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinye.algorithms.errors import InputError
from xinye.common.ratelimit import client_key
from xinye.people import rights
from xinye.people.rights_views import code_form

from . import phone as phone_session

PENDING = "xinye_volunteer_phone"  # {"phone": ..., "next": ...} while the code is on its way


def _safe_next(request, value: str) -> str:
    value = (value or "").strip()
    prefix = reverse("volunteering_index")
    if value.startswith(prefix) and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return prefix


@never_cache
def phone_start(request):
    """Enter the phone; a code is sent to it if Xinye knows it (the answer is the same either way)."""
    if request.user.is_authenticated:
        return redirect("volunteering_index")
    nxt = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    context = {"error": "", "phone": "", "next": nxt}
    if request.method == "POST":
        raw = request.POST.get("phone", "")
        context["phone"] = raw[:20]
        try:
            phone = rights.normalize_phone(raw)
        except InputError:
            context["error"] = _("A mobile number has 11 digits.")
            return render(request, "volunteering/phone_start.html", context, status=400)
        if not rights.code_request_allowed(phone=phone, address=client_key(request)):
            context["error"] = _("Too many codes were asked for; try again in an hour.")
            return render(request, "volunteering/phone_start.html", context, status=429)
        rights.phone_code_issue(phone=phone)
        request.session[PENDING] = {"phone": phone, "next": nxt}
        return redirect("volunteer_phone_verify")
    return render(request, "volunteering/phone_start.html", context)


@never_cache
def phone_verify(request):
    pending = request.session.get(PENDING)
    if request.user.is_authenticated:
        return redirect("volunteering_index")
    if not isinstance(pending, dict) or not pending.get("phone"):
        return redirect("volunteer_phone_start")
    phone = pending["phone"]

    def proven():
        request.session.pop(PENDING, None)
        people = phone_session.people_with_phone(phone)
        if len(people) == 1:
            phone_session.session_open(request, people[0])
            return redirect(_safe_next(request, pending.get("next", "")))
        if not people:
            return _("No volunteer on record has this number. Ask a team leader or your community to add you.")
        return _("More than one person on record has this number. Ask your community to correct it.")

    return code_form(request, phone, start_url=reverse("volunteer_phone_start"), on_ok=proven)


@require_POST
def phone_end(request):
    """End the volunteer session on this phone."""
    phone_session.session_end(request)
    request.session.cycle_key()
    messages.success(request, _("You left volunteering on this phone."))
    return redirect("volunteer_phone_start")
