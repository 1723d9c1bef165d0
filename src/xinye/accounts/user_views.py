"""Pages for users and roles (issue 12, item 2) and "my account". Who may do what is decided by
`accounts.policy` (`assignable_kinds`, `may_assign`, `role_q`, `may_manage_user`); these views only ask.
Pages for managing users live under /users/ (not /accounts/, which a user who still owes a second factor may
reach)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinye.common.views import paginate

from . import policy, second_factor, users
from .forms import InviteForm, RoleForm
from .models import AccountChange, Role, RoleKind
from .scope import ROLE_SESSION_KEY, request_scope


def _manager_scope(request):
    """The scope of a user who may give roles at all; everyone else gets a 404 (as for any page not theirs)."""
    scope = request_scope(request)
    if not policy.assignable_kinds(scope):
        raise Http404
    return scope


def _visible_users(scope):
    User = get_user_model()
    qs = User.objects.all()
    if not scope.is_admin:
        qs = qs.filter(roles__in=Role.objects.filter(policy.role_q(scope))).distinct()
    return qs


@login_required
def user_index(request):
    scope = _manager_scope(request)
    qs = _visible_users(scope)
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    state = request.GET.get("state", "")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(first_name__icontains=q))
    if kind in RoleKind.values:
        qs = qs.filter(roles__kind=kind).distinct()
    if state == "inactive":
        qs = qs.filter(is_active=False)
    elif state == "active":
        qs = qs.filter(is_active=True)
    roles = Role.objects.select_related("division", "organization").order_by("kind")
    qs = qs.order_by("username").prefetch_related(Prefetch("roles", queryset=roles))
    page = paginate(request, qs)
    for u in page:
        u.role_rows = [(r.get_kind_display(), users.role_place(r)) for r in u.roles.all()]
    return render(
        request,
        "accounts/user_list.html",
        {"page": page, "f": request.GET, "kinds": RoleKind.choices},
    )


@login_required
def user_invite(request):
    scope = _manager_scope(request)
    form = InviteForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user, link = users.invite(
                scope,
                request.user,
                username=d["username"],
                full_name=d["full_name"],
                email=d["email"],
                spec=form.spec(),
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            request.session["xinye_new_link"] = {"user": user.pk, "link": request.build_absolute_uri(link)}
            messages.success(request, _("The user was invited. Pass the sign-in link on to them."))
            return redirect("user_detail", pk=user.pk)
    return render(
        request,
        "accounts/user_invite.html",
        {"form": form, "operators": form.operator_names},
        status=400 if form.errors else 200,
    )


def _user_in_reach(request, pk: int):
    scope = _manager_scope(request)
    return scope, get_object_or_404(_visible_users(scope), pk=pk)


@login_required
def user_detail(request, pk: int):
    scope, target = _user_in_reach(request, pk)
    roles = []
    for r in Role.objects.filter(user=target).select_related("division", "organization").order_by("kind"):
        mine = target.pk != scope.user_id or scope.is_admin
        r.may_change = mine and policy.may_assign(
            scope, r.kind, division=r.division, organization=r.organization, operator_name=r.operator_name
        )
        r.place = users.role_place(r)
        roles.append(r)
    link = request.session.pop("xinye_new_link", None)
    form = RoleForm(scope=scope)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "roles": roles,
            "form": form,
            "operators": form.operator_names,
            "may_manage": policy.may_manage_user(scope, target),
            "may_grant": target.pk != scope.user_id or scope.is_admin,
            "link": link["link"] if link and link.get("user") == target.pk else None,
            "awaiting_password": not target.has_usable_password(),
            "changes": AccountChange.objects.filter(user=target)[:100],
        },
    )


def _done(request, pk: int, text: str):
    messages.success(request, text)
    return redirect("user_detail", pk=pk)


@login_required
@require_POST
def user_grant(request, pk: int):
    scope, target = _user_in_reach(request, pk)
    form = RoleForm(request.POST, scope=scope)
    if form.is_valid():
        try:
            users.grant(scope, request.user, target, form.spec())
        except PermissionDenied as e:
            messages.error(request, str(e))
            return redirect("user_detail", pk=pk)
        return _done(request, pk, _("The role was given."))
    for errors in form.errors.values():
        for e in errors:
            messages.error(request, e)
    return redirect("user_detail", pk=pk)


@login_required
def role_edit(request, pk: int, role_pk: int):
    scope, target = _user_in_reach(request, pk)
    role = get_object_or_404(Role.objects.filter(policy.role_q(scope)), pk=role_pk, user=target)
    initial = {
        "kind": role.kind,
        "division": role.division_id,
        "organization": role.organization_id,
        "operator_name": role.operator_name,
    }
    form = RoleForm(request.POST or None, scope=scope, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            users.change(scope, request.user, role, form.spec())
        except PermissionDenied as e:
            form.add_error(None, str(e))
        else:
            return _done(request, pk, _("The role was changed."))
    return render(
        request,
        "accounts/role_edit.html",
        {
            "target": target,
            "role": role,
            "place": users.role_place(role),
            "form": form,
            "operators": form.operator_names,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def role_revoke(request, pk: int, role_pk: int):
    scope, target = _user_in_reach(request, pk)
    role = get_object_or_404(Role.objects.filter(policy.role_q(scope)), pk=role_pk, user=target)
    try:
        users.revoke(scope, request.user, role)
    except PermissionDenied as e:
        messages.error(request, str(e))
        return redirect("user_detail", pk=pk)
    return _done(request, pk, _("The role was revoked."))


@login_required
@require_POST
def user_account(request, pk: int):
    """Deactivate, reactivate, or a new first-sign-in link."""
    scope, target = _user_in_reach(request, pk)
    action = request.POST.get("action")
    try:
        if action in ("deactivate", "reactivate"):
            users.set_active(scope, request.user, target, action == "reactivate")
            text = _("The account was deactivated.") if action == "deactivate" else _("The account was reactivated.")
            return _done(request, pk, text)
        if action == "link":
            link = users.new_link(scope, request.user, target)
            request.session["xinye_new_link"] = {"user": target.pk, "link": request.build_absolute_uri(link)}
            return _done(request, pk, _("A new sign-in link was made; the old one no longer works."))
    except (PermissionDenied, ValidationError) as e:
        messages.error(request, " ".join(getattr(e, "messages", None) or [str(e)]))
        return redirect("user_detail", pk=pk)
    raise Http404


# ---------------------------------------------------------------- first sign-in


def account_welcome(request, uidb64: str, token: str):
    """A new user's first sign-in: the one-time link from their invitation sets their password."""
    User = get_user_model()
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if (
        user is None
        or not user.is_active
        or user.has_usable_password()
        or not default_token_generator.check_token(user, token)
    ):
        return render(request, "accounts/welcome.html", {"invalid": True}, status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        AccountChange.objects.create(
            actor=user, actor_name=user.username, user=user, action=AccountChange.Action.PASSWORD_SET
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your password is set. Welcome to Xinye."))
        if second_factor.required_for(user):
            return redirect("second_factor")
        return redirect("dashboard")
    return render(
        request, "accounts/welcome.html", {"form": form, "new_user": user}, status=400 if form.errors else 200
    )


# ---------------------------------------------------------------- my account


@login_required
def my_account(request):
    scope = request_scope(request)
    key = request.session.session_key
    sessions = users.live_sessions(request.user)
    if key and not any(s.session_key == key for s in sessions):
        users.record_session(request, request.user)
        sessions = users.live_sessions(request.user)
    for s in sessions:
        s.current = s.session_key == key
    roles = list(Role.objects.filter(user=request.user).select_related("division", "organization").order_by("kind"))
    for r in roles:
        r.place = users.role_place(r)
    return render(
        request,
        "accounts/my_account.html",
        {
            "roles": roles,
            "active_role": scope.active_role_id,
            "sessions": sessions,
            "has_second_factor": second_factor.has_device(request.user),
            "needs_second_factor": second_factor.required_for(request.user),
        },
    )


@login_required
@require_POST
def switch_role(request):
    """Act in one of one's roles, or in all of them at once (the default)."""
    raw = request.POST.get("role", "")
    if raw.isdigit() and Role.objects.filter(user=request.user, pk=int(raw)).exists():
        request.session[ROLE_SESSION_KEY] = int(raw)
    else:
        request.session.pop(ROLE_SESSION_KEY, None)
    request._xinye_scope = None
    messages.success(request, _("You switched roles."))
    return redirect("dashboard")


@login_required
@require_POST
def end_session(request, pk: int):
    if users.end_session(request.user, pk):
        messages.success(request, _("That session was signed out."))
    return redirect("my_account")


@login_required
@require_POST
def end_other_sessions(request):
    n = users.end_sessions(request.user, keep=request.session.session_key)
    messages.success(request, _("%(n)d other sessions were signed out.") % {"n": n})
    return redirect("my_account")
