"""Public pages where a worker (no account) gets a copy of their data, has it erased or withdraws consent,
after proving with a one-time code that the phone is theirs. Thin: everything is in `rights`.

The proof lives in the session for `VERIFIED_FOR` and only for the phone it was given for; erasure ends it.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from xinye.algorithms.errors import InputError

from . import rights

PENDING = "xinye_my_data_phone"  # the phone a code was asked for
VERIFIED = "xinye_my_data"  # {"phone": ..., "at": epoch seconds}
VERIFIED_FOR = 15 * 60  # seconds


def client_address(request) -> str:
    """The client's address for the code-request limit: the project's trusted-proxy rule."""
    from xinye.common.ratelimit import client_key

    return client_key(request)


def _verified_phone(request) -> str | None:
    v = request.session.get(VERIFIED)
    if not v or timezone.now().timestamp() - v.get("at", 0) > VERIFIED_FOR:
        return None
    return v.get("phone")


@never_cache
def my_data_start(request):
    """Enter the phone; a code is sent to it (if Xinye knows it; the answer is the same either way)."""
    context = {"error": "", "phone": ""}
    if request.method == "POST":
        raw = request.POST.get("phone", "")
        context["phone"] = raw[:20]
        try:
            phone = rights.normalize_phone(raw)
        except InputError:
            context["error"] = _("A mobile number has 11 digits.")
            return render(request, "people/my_data_start.html", context, status=400)
        if not rights.code_request_allowed(phone=phone, address=client_address(request)):
            context["error"] = _("Too many codes were asked for; try again in an hour.")
            return render(request, "people/my_data_start.html", context, status=429)
        rights.phone_code_issue(phone=phone)
        request.session[PENDING] = phone
        request.session.pop(VERIFIED, None)
        return redirect("my_data_verify")
    return render(request, "people/my_data_start.html", context)


@never_cache
def code_form(request, phone: str, *, start_url: str, on_ok):
    """The one-time-code form for a phone (My data here, a volunteer's phone session in volunteering): on a
    right code, `on_ok()` gives the response, or a text to show on the form instead; a wrong, expired or
    locked code is said on the form (400)."""
    context = {"masked": phone[:3] + "****" + phone[-4:], "error": "", "start_url": start_url}
    if request.method != "POST":
        return render(request, "people/phone_code.html", context)
    result = rights.phone_code_verify(phone=phone, code=request.POST.get("code", ""))
    if result == rights.OK:
        got = on_ok()
        if not isinstance(got, str):
            return got
        context["error"] = got
    else:
        context["error"] = {
            rights.WRONG: _("The code is not right. Check the message and try again."),
            rights.EXPIRED: _("The code has expired or was already used. Ask for a new code."),
            rights.LOCKED: _("Too many wrong codes. Ask for a new code."),
        }[result]
    return render(request, "people/phone_code.html", context, status=400)


def my_data_verify(request):
    phone = request.session.get(PENDING)
    if not phone:
        return redirect("my_data_start")

    def proven():
        request.session.cycle_key()  # a new session id once the phone is proven
        request.session.pop(PENDING, None)
        request.session[VERIFIED] = {"phone": phone, "at": timezone.now().timestamp()}
        return redirect("my_data_view")

    return code_form(request, phone, start_url=reverse("my_data_start"), on_ok=proven)


def _need_proof(view):
    def wrapped(request, *args, **kwargs):
        phone = _verified_phone(request)
        if phone is None:
            request.session.pop(VERIFIED, None)
            return redirect("my_data_start")
        return view(request, phone, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return never_cache(wrapped)


@_need_proof
def my_data_view(request, phone: str):
    """Everything held about the phone, readable; with the JSON download and the two requests."""
    return render(request, "people/my_data_view.html", {"data": rights.person_data(phone=phone)})


@_need_proof
def my_data_json(request, phone: str):
    body = json.dumps(rights.person_data(phone=phone), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="xinye-my-data.json"'
    return response


@_need_proof
def my_data_erase(request, phone: str):
    """Confirm, then erase: the person's identity goes, counts and demands stay without it."""
    if request.method == "POST" and request.POST.get("confirm") == "1":
        rights.person_erase(phone=phone, channel="web")
        request.session.flush()
        return render(request, "people/my_data_done.html", {"erased": True})
    return render(request, "people/my_data_confirm.html", {"action": "erase"})


@_need_proof
def my_data_withdraw(request, phone: str):
    """Confirm, then withdraw consent: Xinye stops processing the person's data."""
    if request.method == "POST" and request.POST.get("confirm") == "1":
        rights.consent_withdraw(phone=phone, channel="web")
        return render(request, "people/my_data_done.html", {"withdrawn": True})
    return render(request, "people/my_data_confirm.html", {"action": "withdraw"})
