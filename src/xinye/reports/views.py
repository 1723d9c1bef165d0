from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from xinye.accounts.scope import request_scope
from xinye.organizations.selectors import company_list, organization_counts
from xinye.people.models import Occupation
from xinye.people.selectors import person_counts_by_occupation
from xinye.stations.selectors import station_counts

from .todos import role_todos


@login_required
def dashboard(request):
    from xinye.organizations.reminders import reminders_for

    scope = request_scope(request)
    labels = dict(Occupation.choices)
    people, by_occupation = person_counts_by_occupation(scope=scope)
    occupations = [{"name": str(labels.get(k, k)), "value": n} for k, n in by_occupation]
    return render(
        request,
        "reports/dashboard.html",
        {
            "people": people,
            "orgs": organization_counts(scope=scope),
            "stations": station_counts(scope=scope),
            "companies": company_list(scope=scope).count(),
            "occupations": occupations,
            "reminders": reminders_for(scope=scope),
            "todos": role_todos(scope=scope),
        },
    )
