import hashlib

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone

from xinye.accounts.scope import request_scope
from xinye.organizations.selectors import company_list, organization_counts
from xinye.people.models import Occupation
from xinye.people.selectors import person_counts_by_occupation
from xinye.stations.selectors import station_counts

from .todos import role_todos


def dashboard_counts(scope) -> dict:
    """The dashboard's counts for `scope`, counted at most once a minute (XINYE_DASHBOARD_CACHE_SECONDS) for
    each scope, in the shared cache: counting a district's 50,000 people takes tens of milliseconds, and
    organizers open the home page often. The key is the whole scope, so a count is only ever shown to a
    user who may see exactly the same people; to-do items and reminders are never cached."""
    seconds = settings.XINYE_DASHBOARD_CACHE_SECONDS
    key = "xinye:dashboard:" + hashlib.sha256(repr(scope).encode()).hexdigest()
    got = cache.get(key) if seconds else None
    if got is None:
        people, by_occupation = person_counts_by_occupation(scope=scope)
        got = {
            "people": people,
            "by_occupation": by_occupation,
            "orgs": organization_counts(scope=scope),
            "stations": station_counts(scope=scope),
            "companies": company_list(scope=scope).count(),
            "counted_at": timezone.now(),
        }
        if seconds:
            cache.set(key, got, seconds)
    return got


@login_required
def dashboard(request):
    from xinye.organizations.reminders import reminders_for

    scope = request_scope(request)
    labels = dict(Occupation.choices)
    counts = dashboard_counts(scope)
    occupations = [{"name": str(labels.get(k, k)), "value": n} for k, n in counts["by_occupation"]]
    return render(
        request,
        "reports/dashboard.html",
        {
            **counts,
            "board": _home_indicators(request, scope),
            "occupations": occupations,
            "reminders": reminders_for(scope=scope),
            "todos": role_todos(scope=scope),
        },
    )


def _home_indicators(request, scope) -> dict | None:
    """The indicators of the viewer's own division (the whole country for administrators), after what needs
    doing: for those who may read indicators (accounts.policy), else None."""
    from xinye.accounts import policy
    from xinye.places.models import Division

    from . import selectors
    from .indicator_views import indicator_board

    if not policy.may_read_indicators(scope):
        return None
    try:
        return indicator_board(request=request, scope=scope, code=selectors.default_division(scope))
    except Division.DoesNotExist:
        return None
