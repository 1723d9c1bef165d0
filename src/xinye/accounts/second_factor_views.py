"""Pages of the second factor: the code after the password, and "My second factor" (set-up, backup codes,
turning it off). No inline script or style: they work under a strict Content-Security-Policy."""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import second_factor as sf


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    """The second step of signing in: the code of the authenticator app, or a backup code."""
    user = sf.pending_user(request)
    if user is None:
        messages.info(request, _("Please sign in again."))
        return redirect("login")
    error = ""
    if request.method == "POST":
        try:
            to = sf.pending_finish(request, request.POST.get("code", ""))
        except sf.SecondFactorError as exc:
            messages.error(request, str(exc))
            return redirect("login")
        if to is not None:
            return redirect(to)
        error = _("That code is not right. Enter the newest code of your authenticator app, or a backup code.")
    return render(request, "accounts/login_code.html", {"error": error}, status=400 if error else 200)


def _next(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return wanted if ok and wanted.startswith("/") else ""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def second_factor(request):
    """My second factor: set up an authenticator app (scan the code or type the secret, then confirm a code),
    get backup codes, renew them, or turn the second factor off (where it is not required)."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    required = sf.required_for(user)
    context = {"next": _next(request), "required": required, "error": ""}
    if request.method == "POST":
        action, code = request.POST.get("action", ""), request.POST.get("code", "")
        try:
            if action == "confirm" and confirmed is None:
                device, codes = sf.enrol_confirm(user=user, token=code)
                sf.django_otp.login(request, device)
                return render(request, "accounts/backup_codes.html", {**context, "codes": codes, "new": True})
            if action == "verify" and confirmed is not None:
                device = sf.verify(user=user, token=code)
                if device is None:
                    raise sf.SecondFactorError(_("That code is not right."))
                sf.django_otp.login(request, device)
                return redirect(context["next"] or "dashboard")
            if action == "codes" and confirmed is not None:
                codes = sf.backup_codes_renew(user=user, token=code)
                return render(request, "accounts/backup_codes.html", {**context, "codes": codes, "new": False})
            if action == "off" and confirmed is not None and not required:
                sf.turn_off(user=user, token=code)
                messages.success(request, _("The second factor is off."))
                return redirect("second_factor")
            raise Http404
        except sf.SecondFactorError as exc:
            context["error"] = str(exc)
    if confirmed is not None:
        context.update(device=confirmed, left=sf.backup_codes_left(user), verified=sf.is_verified(user))
    else:
        pending = sf.enrol_start(user=user)
        context.update(secret=sf.secret_text(pending), config_url=pending.config_url)
    return render(request, "accounts/second_factor.html", context, status=400 if context["error"] else 200)


@never_cache
@login_required
def second_factor_qr(request):
    """The QR code of the authenticator waiting to be confirmed, as an SVG image (served from here, so the
    page needs neither a data: address nor script)."""
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if pending is None:
        raise Http404
    out = io.BytesIO()
    segno.make(pending.config_url, error="m").save(out, kind="svg", scale=6, border=2, dark="#111")
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")
