from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from . import second_factor
from .forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """The right password: signed in at once, or asked for a code first if the user has a second factor."""
        user = form.get_user()
        if second_factor.has_device(user):
            second_factor.pending_start(self.request, user, self.get_success_url())
            return redirect("login_code")
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """Signing out also tells the browser to drop what it cached and stored for this site (ASVS 5.0 V14.3.1)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every signed-in user changes their own password with the current one (ASVS 5.0 V6.2.2, V6.2.3); the
    session stays, every other session of the user ends (Django's session hash changes with the password)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed; your other sessions are signed out."))
        return response


def audit_log(request):
    """The audit log, for administrators only (a 404 for everyone else): filter by user, kind and dates."""
    import datetime as dt

    from django.http import Http404
    from django.shortcuts import render
    from django.utils import timezone

    from xinye.common.views import paginate

    from .models import AuditEvent
    from .scope import request_scope

    if not request.user.is_authenticated or not request_scope(request).is_admin:
        raise Http404
    qs = AuditEvent.objects.all()
    user = request.GET.get("user", "").strip()[:150]
    kind = request.GET.get("kind", "")
    errors = []
    if user:
        qs = qs.filter(username=user)
    if kind in AuditEvent.Kind.values:
        qs = qs.filter(kind=kind)
    elif kind in AuditEvent.Field.values:
        qs = qs.filter(kind=AuditEvent.Kind.READ, field=kind)
    for name, op in (("since", "gte"), ("until", "lt")):
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(name)
            continue
        if not 1900 <= day.year <= 9998:  # "since 0001-01-01", "until 9999-12-31": no bound at all
            continue
        start = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=op == "lt"), dt.time.min))
        qs = qs.filter(**{f"at__{op}": start})
    return render(
        request,
        "accounts/audit.html",
        {
            "page": paginate(request, qs.order_by("-at", "-pk")),
            "f": request.GET,
            "kinds": AuditEvent.Kind.choices,
            "fields": AuditEvent.Field.choices,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
