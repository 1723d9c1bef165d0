"""The posts and elections page of an organization (issue 12, item 3)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.views import get_or_404

from . import posts as svc
from . import selectors
from .models import Post, PostRole

#: a committee's page offers at most this many people to choose from (the rest: narrow by name)
CHOICES_MAX = 300


def _day(raw: str, field: str, errors: list[str]) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(_("%(field)s: %(value)s is not a date (YYYY-MM-DD).") % {"field": field, "value": raw[:20]})
        return None


@login_required
def organization_posts(request, pk: int):
    scope = request_scope(request)
    org = get_or_404(selectors.organization_get, scope=scope, pk=pk)
    may = policy.may_manage_posts(scope, org)
    if request.method == "POST":
        if not may:
            raise Http404
        errors: list[str] = []
        action = request.POST.get("action", "")
        today = timezone.localdate()
        try:
            if action == "appoint":
                raw = request.POST.get("person", "")
                person = svc.eligible_people(org).filter(pk=int(raw)).first() if raw.isdigit() else None
                start = _day(request.POST.get("start", ""), _("Start"), errors) or today
                if person is None:
                    errors.append(_("Choose a formal member of this organization."))
                if not errors:
                    svc.appoint(scope, request.user, org, person=person, role=request.POST.get("role", ""), start=start)
                    messages.success(request, _("%(name)s was appointed.") % {"name": person.name})
            elif action == "end":
                raw = request.POST.get("post", "")
                post = Post.objects.filter(organization=org, pk=int(raw)).first() if raw.isdigit() else None
                if post is None:
                    raise Http404
                end = _day(request.POST.get("end", ""), _("End"), errors) or today
                if not errors:
                    svc.end_post(scope, request.user, post, end=end)
                    messages.success(request, _("The post ended."))
            elif action == "election":
                held = _day(request.POST.get("held_on", ""), _("Held on"), errors)
                approved_on = _day(request.POST.get("approved_on", ""), _("Approved on"), errors)
                raw = request.POST.get("approved_by", "")
                approver = org.ancestors().filter(pk=int(raw)).first() if raw.isdigit() else None
                if held is None and not errors:
                    errors.append(_("Held on: give the date of the election."))
                if not errors:
                    e = svc.record_election(
                        scope,
                        request.user,
                        org,
                        held_on=held,
                        approved_by=approver,
                        approved_on=approved_on,
                        note=request.POST.get("note", ""),
                    )
                    messages.success(
                        request, _("Election recorded; the term ends on %(date)s.") % {"date": e.term_ends_on}
                    )
            else:
                raise Http404
        except svc.PostError as exc:
            errors.append(str(exc))
        for e in errors:
            messages.error(request, e)
        return redirect("organization_posts", pk=org.pk)
    people = svc.eligible_people(org).order_by("name")
    rules = svc.rules_for()
    return render(
        request,
        "organizations/organization_posts.html",
        {
            "org": org,
            "may": may,
            "current": svc.current_posts(org).order_by("role", "start_date"),
            "past": org.posts.filter(end_date__isnull=False).select_related("person").order_by("-end_date")[:50],
            "elections": org.elections.select_related("approved_by")[:20],
            "people": people[:CHOICES_MAX],
            "people_total": people.count(),
            "roles": PostRole.choices,
            "has_committee": svc.has_committee(org, rules),
            "max_posts": svc.max_posts(org, rules),
            "size": rules.committee_size(org.kind),
            "term_years": svc.term_years_for(org, rules),
            "approvers": list(org.ancestors())[::-1],  # the nearest first
            "today": timezone.localdate(),
            "no_secretary": org.kind in svc.OFFICE_KINDS
            and not svc.current_posts(org).filter(role=PostRole.SECRETARY).exists(),
        },
    )
