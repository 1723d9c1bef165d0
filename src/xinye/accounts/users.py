"""Users and their roles (issue 12, item 2): invite, give, change and revoke roles, deactivate and reactivate,
always within the acting user's own reach (`accounts.policy.may_assign`, `may_manage_user`), every change in
`AccountChange` with who and when. A new user sets their password at their first sign-in, through a one-time
link (Django's password-reset token: it stops working once a password is set, and after
PASSWORD_RESET_TIMEOUT); the inviter passes the link on.

Sessions: every sign-in is recorded (`UserSession`), so "my account" lists the user's live sessions and
can end the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from . import policy
from .models import AccountChange, Role, RoleKind, UserSession
from .scope import Scope


@dataclass(frozen=True)
class RoleSpec:
    """A role as asked for: its kind and the place it is scoped to."""

    kind: str
    division: object | None = None
    organization: object | None = None
    operator_name: str = ""

    def fields(self) -> dict:
        """The `Role` fields, with what the kind does not use left empty."""
        return {
            "kind": self.kind,
            "division": self.division if self.kind == RoleKind.ORGANIZER else None,
            "organization": self.organization if self.kind in ("org_staff", "secretary", "member") else None,
            "operator_name": self.operator_name.strip() if self.kind == RoleKind.STATION_OPERATOR else "",
        }


def role_place(role) -> str:
    """Where a role applies, as a person reads it ("深圳市", "XX党支部", "an operator's name"; "" for admins)."""
    if role.kind == RoleKind.ORGANIZER and role.division_id:
        return role.division.name
    if role.organization_id:
        return role.organization.name
    return role.operator_name


def _check(scope: Scope, spec: RoleSpec) -> None:
    f = spec.fields()
    if not policy.may_assign(
        scope, spec.kind, division=f["division"], organization=f["organization"], operator_name=f["operator_name"]
    ):
        raise PermissionDenied(_("You may not give this role there."))


def _log(actor, user, action: str, role=None, before: str = "") -> AccountChange:
    return AccountChange.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=getattr(actor, "username", "") or "",
        user=user,
        action=action,
        role_kind=role.kind if role is not None else "",
        role_scope=role_place(role)[:300] if role is not None else "",
        before=before[:300],
    )


def sign_in_link(user) -> str:
    """The path of the one-time link that sets `user`'s password (valid until a password is set)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("account_welcome", args=[uid, default_token_generator.make_token(user)])


@transaction.atomic
def invite(scope: Scope, actor, *, username: str, full_name: str, email: str, spec: RoleSpec):
    """A new user with one role and no password yet; returns (user, the path of their first sign-in link)."""
    _check(scope, spec)
    User = get_user_model()
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This user name is taken.")})
    user = User(username=username, first_name=full_name.strip()[:150], email=email.strip())
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    role = Role.objects.create(user=user, **spec.fields())
    _log(actor, user, AccountChange.Action.INVITED, role)
    return user, sign_in_link(user)


def _not_self(scope: Scope, user) -> None:
    if user.pk == scope.user_id and not scope.is_admin:
        raise PermissionDenied(_("You cannot change your own roles."))


@transaction.atomic
def grant(scope: Scope, actor, user, spec: RoleSpec) -> Role:
    _not_self(scope, user)
    _check(scope, spec)
    fields = spec.fields()
    existing = Role.objects.filter(user=user, **fields).first()
    if existing is not None:
        return existing
    role = Role.objects.create(user=user, **fields)
    _log(actor, user, AccountChange.Action.GRANTED, role)
    return role


def _may_touch(scope: Scope, role: Role) -> bool:
    return policy.may_assign(
        scope, role.kind, division=role.division, organization=role.organization, operator_name=role.operator_name
    )


@transaction.atomic
def change(scope: Scope, actor, role: Role, spec: RoleSpec) -> Role:
    """The role becomes `spec` (another place, or another kind): both the old and the new must be in reach."""
    role = (
        Role.objects.select_for_update(of=("self",)).select_related("division", "organization", "user").get(pk=role.pk)
    )
    _not_self(scope, role.user)
    if not _may_touch(scope, role):
        raise PermissionDenied(_("You may not change this role."))
    _check(scope, spec)
    before = f"{role.get_kind_display()} {role_place(role)}".strip()
    for name, value in spec.fields().items():
        setattr(role, name, value)
    role.save()
    _log(actor, role.user, AccountChange.Action.CHANGED, role, before=before)
    return role


@transaction.atomic
def revoke(scope: Scope, actor, role: Role) -> None:
    role = (
        Role.objects.select_for_update(of=("self",)).select_related("division", "organization", "user").get(pk=role.pk)
    )
    _not_self(scope, role.user)
    if not _may_touch(scope, role):
        raise PermissionDenied(_("You may not revoke this role."))
    _log(actor, role.user, AccountChange.Action.REVOKED, role)
    role.delete()


@transaction.atomic
def set_active(scope: Scope, actor, user, active: bool) -> None:
    """Deactivate (signed out everywhere, cannot sign in) or reactivate an account."""
    if not policy.may_manage_user(scope, user):
        raise PermissionDenied(_("You may not change this account."))
    if user.is_active == active:
        return
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        end_sessions(user)
    _log(actor, user, AccountChange.Action.REACTIVATED if active else AccountChange.Action.DEACTIVATED)


def new_link(scope: Scope, actor, user) -> str:
    """A new first-sign-in link for a user who has not set a password yet."""
    if not policy.may_manage_user(scope, user):
        raise PermissionDenied(_("You may not change this account."))
    if user.has_usable_password():
        raise ValidationError(_("This user has set a password already; they can change it after signing in."))
    _log(actor, user, AccountChange.Action.NEW_LINK)
    return sign_in_link(user)


# ---------------------------------------------------------------- sessions


def record_session(request, user) -> None:
    """Remember a new sign-in's session (called on Django's `user_logged_in`)."""
    from .audit import client_address

    session = getattr(request, "session", None)
    if session is None:
        return
    if not session.session_key:
        session.save()
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
            "address": client_address(request)[:45],
        },
    )


def live_sessions(user) -> list[UserSession]:
    """The user's sessions that are still signed in (newest first); rows of ended sessions are dropped."""
    rows = list(UserSession.objects.filter(user=user))
    alive = set(
        Session.objects.filter(
            session_key__in=[r.session_key for r in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    gone = [r.pk for r in rows if r.session_key not in alive]
    if gone:
        UserSession.objects.filter(pk__in=gone).delete()
    return [r for r in rows if r.session_key in alive]


def end_session(user, pk: int) -> bool:
    """Sign out one session of the user (by the row's id, never by its key from a form)."""
    row = UserSession.objects.filter(user=user, pk=pk).first()
    if row is None:
        return False
    Session.objects.filter(session_key=row.session_key).delete()
    row.delete()
    return True


def end_sessions(user, keep: str | None = None) -> int:
    """Sign out every session of the user but `keep` (a session key)."""
    rows = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    keys = list(rows.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    rows.delete()
    return len(keys)


from django.contrib.auth.signals import user_logged_in, user_logged_out  # noqa: E402
from django.dispatch import receiver  # noqa: E402


@receiver(user_logged_in, dispatch_uid="xinye_user_session_start")
def _session_started(sender, request, user, **kwargs):
    if request is not None:
        record_session(request, user)


@receiver(user_logged_out, dispatch_uid="xinye_user_session_end")
def _session_ended(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()
