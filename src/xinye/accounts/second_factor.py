"""The second factor (TOTP, with one-time backup codes) for signing in: who needs it, enrolment, the second
step of signing in, and the places that enforce it (every page, the API, the admin site). Issue 10.

- Anyone may turn it on from "My second factor"; from then on signing in asks for a code after the password.
- When ``XINYE_REQUIRE_2FA`` is on (the default in production), administrators, organizers, staff and
  superusers must have one: until their session is verified, every page but signing in and out and the
  set-up itself sends them to set it up (or to enter a code), the API refuses them, and so does the admin.
- Codes are checked by django-otp, which refuses a code used before and slows down repeated wrong codes;
  the second step also gives up after ``MAX_TRIES`` wrong codes and counts each as a failed sign-in (so
  django-axes locks the account out as for wrong passwords).
"""

from __future__ import annotations

import re
from base64 import b32encode
from urllib.parse import quote

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.permissions import BasePermission

from xinye.algorithms.errors import XinyeError

from .scope import request_scope, scope_for

PENDING = "xinye_2fa_pending"  # session key: the user who gave the right password and still owes a code
PENDING_SECONDS = 300
MAX_TRIES = 5
BACKUP_CODES = 10
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup codes"


class SecondFactorError(XinyeError):
    pass


# ---------------------------------------------------------------- policy


def required_for(user, scope=None) -> bool:
    """Whether this user must sign in with a second factor (only when XINYE_REQUIRE_2FA is on)."""
    if not getattr(settings, "XINYE_REQUIRE_2FA", False) or user is None or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    if scope is None or scope.active_role_id is not None:
        scope = scope_for(user)  # every role of the user: switching to a lesser one does not lift the need
    return scope.is_admin or any(r in settings.XINYE_2FA_ROLES for r in scope.roles)


def is_verified(user) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an authenticator app: base32 in groups of four."""
    raw = b32encode(device.bin_key).decode()
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _clean(token: str) -> str:
    return re.sub(r"[\s-]", "", str(token or "")).lower()[:16]


# ---------------------------------------------------------------- services


@transaction.atomic
def enrol_start(*, user) -> TOTPDevice:
    """The user's unconfirmed authenticator (made once; the same secret until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


@transaction.atomic
def enrol_confirm(*, user, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code it shows; returns it and a fresh set of backup codes."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        raise SecondFactorError(_("Start the set-up again: there is no authenticator waiting to be confirmed."))
    if not device.verify_token(_clean(token)):
        raise SecondFactorError(_("That code is not right. Check the time on your phone and enter the newest code."))
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, _new_backup_codes(user)


def _new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=backup, token=c) for c in codes])
    return codes


def verify(*, user, token: str):
    """The device that accepts this code (an authenticator's six digits, or an unused backup code), or None.
    Each device throttles its own wrong codes; a backup code works once."""
    token = _clean(token)
    if not token:
        return None
    model = TOTPDevice if token.isascii() and token.isdigit() and len(token) <= 8 else StaticDevice
    with transaction.atomic():
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(token):
                return device
    return None


@transaction.atomic
def backup_codes_renew(*, user, token: str) -> list[str]:
    if verify(user=user, token=token) is None:
        raise SecondFactorError(_("That code is not right."))
    return _new_backup_codes(user)


@transaction.atomic
def turn_off(*, user, token: str) -> None:
    if verify(user=user, token=token) is None:
        raise SecondFactorError(_("That code is not right."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# ---------------------------------------------------------------- the second step of signing in


def pending_start(request, user, next_url: str) -> None:
    """After the right password: remember who is signing in, not yet signed in."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", None),
        "at": timezone.now().timestamp(),
        "next": next_url,
        "tries": 0,
    }


def pending_user(request):
    """The user who owes a code, or None (none, or the password was given too long ago)."""
    from django.contrib.auth import get_user_model

    data = request.session.get(PENDING)
    if not isinstance(data, dict) or timezone.now().timestamp() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return get_user_model().objects.filter(pk=data.get("user"), is_active=True).first()


def pending_finish(request, token: str):
    """Check the code; on success sign the user in with a verified session and return where to go next.
    Returns None for a wrong code; raises SecondFactorError once the tries are used up."""
    data = request.session[PENDING]
    user = pending_user(request)
    if user is None:
        raise SecondFactorError(_("Please sign in again."))
    device = verify(user=user, token=token)
    if device is None:
        data["tries"] = data.get("tries", 0) + 1
        request.session[PENDING] = data
        # a wrong code counts as a failed sign-in, as a wrong password does (django-axes, the audit log)
        user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
        if data["tries"] >= MAX_TRIES:
            request.session.pop(PENDING, None)
            raise SecondFactorError(_("Too many wrong codes. Please sign in again."))
        return None
    request.session.pop(PENDING, None)
    auth_login(request, user, backend=data.get("backend"))
    django_otp.login(request, device)
    return data.get("next") or settings.LOGIN_REDIRECT_URL


# ---------------------------------------------------------------- enforcement


#: pages a user who still needs a second factor may reach: signing in and out, the set-up, languages, files
OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/favicon.ico")


class SecondFactorRequiredMiddleware:
    """Users who must have a second factor reach nothing else before their session is verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            getattr(settings, "XINYE_REQUIRE_2FA", False)
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and not is_verified(user)
            and required_for(user, request_scope(request))
        ):
            if request.path.startswith(("/api/", "/open311/")):
                return JsonResponse({"detail": str(NEEDS_SECOND_FACTOR)}, status=403)
            messages.info(request, NEEDS_SECOND_FACTOR)
            return redirect(f"{reverse('second_factor')}?next={quote(request.get_full_path())}")
        return self.get_response(request)


NEEDS_SECOND_FACTOR = gettext_lazy(
    "Your role needs a second factor: set up an authenticator app (or enter its code) to continue."
)


class SecondFactorSatisfied(BasePermission):
    """API: those who need a second factor need a verified web session (a password alone, as with Basic
    authentication, is not enough)."""

    message = NEEDS_SECOND_FACTOR

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return True  # the view's own permissions answer anonymous callers
        # whoever must have a second factor, or has turned one on, reaches the API only from a verified session
        return is_verified(user) or not (required_for(user) or has_device(user))


class XinyeAdminSite(OTPAdminSite):
    """The admin: it signs in through Xinye's own sign-in (password, then code), and it needs a verified
    session from those who must have a second factor (django-otp's OTPAdminSite, when required)."""

    def has_permission(self, request) -> bool:
        user = request.user
        allowed = user.is_active and user.is_staff
        return allowed and (not required_for(user) or is_verified(user))

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:  # signed in, but not staff: no sign-in page would change that
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("login"))
