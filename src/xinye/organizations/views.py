from datetime import date

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from xinye.accounts.scope import request_scope
from xinye.common.views import get_or_404, paginate
from xinye.people.selectors import person_list

from . import selectors
from .models import CompanyKind, OrgKind
from .posts import without_secretary_q

TREE_OPEN_ALL = 40  # trees of at most this many nodes start fully open


def _tree_size(nodes) -> int:
    return sum(1 + _tree_size(n["children"]) for n in nodes)


@login_required
def organization_index(request):
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    no_secretary = request.GET.get("no_secretary") == "1"
    as_of = None
    error = ""
    if request.GET.get("as_of"):
        try:
            as_of = date.fromisoformat(request.GET["as_of"])
        except ValueError:
            error = request.GET["as_of"]
    page = None
    if q or kind or no_secretary:
        # a search is a flat list: paged like every other list
        found = selectors.organization_list(scope=scope, search=q, kind=kind).order_by("name", "pk")
        if no_secretary:  # the to-do list's "to be appointed"
            found = found.filter(without_secretary_q())
        page = paginate(request, found)
        tree = [{"org": o, "children": []} for o in page]
    else:
        tree = selectors.organization_tree(scope=scope, as_of=as_of)
    return render(
        request,
        "organizations/organization_list.html",
        {
            "tree": tree,
            "page": page,
            # a large tree opens two levels deep; the rest folds (each node is a <details>)
            "open_depth": 99 if _tree_size(tree) <= TREE_OPEN_ALL else 2,
            "q": q,
            "kind": kind,
            "no_secretary": no_secretary,
            "kinds": OrgKind.choices,
            "as_of": as_of,
            "as_of_error": error,
        },
    )


@login_required
def organization_detail(request, pk: int):
    scope = request_scope(request)
    org = get_or_404(selectors.organization_get, scope=scope, pk=pk)
    members = person_list(scope=scope, organization_id=org.pk)
    return render(
        request,
        "organizations/organization_detail.html",
        {
            "org": org,
            "children": selectors.organization_list(scope=scope).filter(parent=org).order_by("name"),
            "units": org.business_units.all(),
            "posts": org.posts.select_related("person").filter(end_date__isnull=True),
            "no_secretary": selectors.Organization.objects.filter(without_secretary_q(), pk=org.pk).exists(),
            "members": members[:200],
            "member_total": members.count(),
            "history": org.history.all()[:20],
            "today": timezone.localdate(),
        },
    )


@login_required
def company_index(request):
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    page = paginate(request, selectors.company_list(scope=scope, search=q, kind=kind))
    return render(
        request,
        "organizations/company_list.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "kinds": CompanyKind.choices,
        },
    )


@login_required
def company_detail(request, pk: int):
    scope = request_scope(request)
    company = get_or_404(selectors.company_get, scope=scope, pk=pk)
    units = list(company.units.with_tree_fields().select_related("division"))
    return render(
        request,
        "organizations/company_detail.html",
        {
            "company": company,
            "units": units,
            "versions": company.versions.all(),
            "organizations": selectors.organization_list(scope=scope).filter(company=company).order_by("name"),
        },
    )


@login_required
def organization_export(request, pk: int, fmt: str):
    """The tree under an organization as W3C ORG (Turtle or JSON-LD) or Popolo JSON."""
    import json

    from django.http import HttpResponse

    from . import exports

    org = get_or_404(selectors.organization_get, scope=request_scope(request), pk=pk)
    if fmt == "popolo.json":
        body = json.dumps(exports.popolo(org, request_scope(request)), ensure_ascii=False, indent=1)
        content_type = "application/json"
    else:
        graph = exports.org_graph(org, request_scope(request))
        body = graph.serialize(format="turtle" if fmt == "ttl" else "json-ld", indent=1)
        content_type = "text/turtle" if fmt == "ttl" else "application/ld+json"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="organization-{org.pk}.{fmt}"'
    return response
