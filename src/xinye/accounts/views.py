from django.contrib.auth import views as auth_views

from .forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
