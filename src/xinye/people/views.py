from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.views import get_or_404, paginate

from . import selectors
from .models import Occupation


@login_required
def person_index(request):
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()
    occupation = request.GET.get("occupation", "")
    members_only = request.GET.get("members") == "1"
    page = paginate(
        request, selectors.person_list(scope=scope, search=q, occupation=occupation, members_only=members_only)
    )
    return render(
        request,
        "people/person_list.html",
        {
            "page": page,
            "q": q,
            "occupation": occupation,
            "members_only": members_only,
            "occupations": Occupation.choices,
        },
    )


@login_required
def person_detail(request, pk: int):
    scope = request_scope(request)
    person = get_or_404(selectors.person_get, scope=scope, pk=pk)
    from .recruitment import recruit_list
    from .recruitment_views import branches_for
    from .timeline import person_timeline

    memberships = policy.party_status_for(scope, person)
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            # None: the viewer may not see this person's party status (accounts.policy)
            "memberships": memberships,
            "timeline": person_timeline(scope, person, memberships),
            "recruitments": recruit_list(scope=scope).filter(person=person),
            "recruit_branches": branches_for(scope) if memberships == [] else [],
            "platforms": person.platforms.all(),
            "consents": [c for c in person.consents.all() if policy.consent_visible(scope, c, memberships)],
            "may_nominate": _may_nominate_any(scope),
        },
    )


def _may_nominate_any(scope) -> bool:
    """Whether the viewer may nominate people for commendations (the rule of accounts.policy.may_nominate, for
    some organization: the form lists which)."""
    return bool(scope.is_admin or scope.division_prefixes or scope.org_ids)
