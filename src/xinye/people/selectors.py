"""Reads of people, scoped to the acting user.

Who sees whom:
- administrators: everyone;
- organizers: people whose work community lies in their division subtree;
- organization staff: members of organizations in their subtree, and workers of the companies those
  organizations are anchored to (by business unit or employer);
- branch secretaries: members of their branch (and its sub-organizations);
- members: themselves;
- station operators: nobody.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.places.selectors import division_q

from .models import Membership, Person


def person_q(scope: Scope) -> Q:
    if scope.is_admin:
        return Q()
    q = division_q(scope, "work_community")
    if scope.org_ids:
        q |= Q(
            pk__in=Membership.objects.filter(organization_id__in=scope.org_ids, until__isnull=True).values("person_id")
        )
    if scope.staff_company_ids:
        q |= Q(business_unit__company_id__in=scope.staff_company_ids) | Q(employer_id__in=scope.staff_company_ids)
    if scope.person_id:
        q |= Q(pk=scope.person_id)
    return q


def person_list(
    *,
    scope: Scope,
    search: str = "",
    occupation: str = "",
    members_only: bool = False,
    organization_id: int | None = None,
) -> QuerySet[Person]:
    qs = Person.objects.filter(person_q(scope))
    if search:
        qs = qs.filter(name__contains=search)
    if occupation:
        qs = qs.filter(occupation=occupation)
    if members_only:  # only memberships the viewer may see (party status: accounts.policy)
        qs = qs.filter(policy.party_status_q(scope, "memberships__"), memberships__until__isnull=True).distinct()
    if organization_id:
        qs = qs.filter(memberships__organization_id=organization_id, memberships__until__isnull=True)
    return qs.select_related("work_community", "business_unit").order_by("id")


def person_get(*, scope: Scope, pk: int) -> Person:
    """Raises Person.DoesNotExist (a 404) when the person is out of scope."""
    return (
        Person.objects.filter(person_q(scope))
        .select_related("work_community__parent__parent", "business_unit__company", "employer")
        .get(pk=pk)
    )


def membership_list(*, scope: Scope) -> QuerySet[Membership]:
    """Current memberships of people in scope that the viewer may see (party status: accounts.policy)."""
    return Membership.objects.filter(
        policy.party_status_q(scope), until__isnull=True, person__in=Person.objects.filter(person_q(scope))
    )


def person_counts_by_occupation(*, scope: Scope) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """`person_counts` and `occupation_counts` with one pass over the people in scope (the dashboard)."""
    from django.db.models import Count

    rows = list(
        Person.objects.filter(person_q(scope))
        .values("occupation")
        .annotate(n=Count("pk"), union=Count("pk", filter=~Q(union_name="")))
        .order_by("-n")
    )
    members = membership_list(scope=scope).aggregate(
        members=Count("pk"),
        formal_members=Count("pk", filter=Q(status="formal")),
        probationary_members=Count("pk", filter=Q(status="probationary")),
        floating_members=Count("pk", filter=Q(floating=True)),
        members_without_branch=Count("pk", filter=Q(organization__isnull=True)),
    )
    counts = {"workers": sum(r["n"] for r in rows), "union_members": sum(r["union"] for r in rows), **members}
    return counts, [(r["occupation"], r["n"]) for r in rows]


def community_report_list(*, scope: Scope, status: str = "", search: str = ""):
    """Reports to communities in the organizer's divisions (administrators: all); `search` matches the
    reported name, the confirmed person's name or the community's name."""
    from .models import CommunityReport

    if scope.is_admin:
        qs = CommunityReport.objects.all()
    else:
        qs = CommunityReport.objects.filter(division_q(scope, "community"))
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(
            Q(reported__name__icontains=search) | Q(person__name__contains=search) | Q(community__name__contains=search)
        )
    return qs.select_related("person", "community__parent__parent").order_by("status", "-created_at")


def phones_on_record(phones: list[str]) -> set[str]:
    """Which of these reported phone numbers a person on record already has (confirming such a report
    updates that person). Says only yes or no: the record itself may be outside the organizer's scope."""
    phones = [p for p in phones if p]
    return set(Person.objects.filter(phone__in=phones).values_list("phone", flat=True)) if phones else set()


def member_flag_list(
    *, scope: Scope, today=None, search: str = "", flag: str = "", floating: bool | None = None
) -> list[tuple]:
    """(membership id, flags) for current members in scope that have a flag: floating members due to transfer,
    members out of contact, certificates ending. `search` narrows by the member's name, `flag` to one flag
    code, `floating` to floating (True) or local (False) members."""
    from django.utils import timezone

    from xinye.algorithms.membership import MemberDates, membership_flags

    today = today or timezone.localdate()
    qs = membership_list(scope=scope)
    if search:
        qs = qs.filter(person__name__contains=search)
    if floating is not None:
        qs = qs.filter(floating=floating)
    out = []
    # only members who may have a flag (a superset, by date in SQL: a few days' margin for month ends); each is
    # then decided exactly by `membership_flags`
    from datetime import timedelta

    from xinye.algorithms.membership import add_months

    margin = timedelta(days=4)
    qs = qs.filter(
        Q(floating=True, since__lte=add_months(today, -6) + margin)
        | Q(last_contact_on__lte=add_months(today, -6) + margin)
        | Q(floating=True, certificate_until__lte=today + timedelta(days=31))
    )
    # the dates only (a flag needs nothing else); a page's memberships are loaded by `with_memberships`
    dates = qs.order_by("person__name", "pk").values_list(
        "pk", "floating", "since", "last_contact_on", "certificate_until"
    )
    for pk, is_floating, since, last_contact_on, certificate_until in dates:
        flags = membership_flags(
            MemberDates(str(pk), is_floating, since, last_contact_on, certificate_until), today=today
        )
        if flag:
            flags = [f for f in flags if f.code == flag]
        if flags:
            out.append((pk, flags))
    return out


def with_memberships(rows: list[tuple]) -> list[tuple]:
    """(membership id, flags) rows (one page of `member_flag_list`) as (membership, flags), each membership
    loaded with its person and organization."""
    found = Membership.objects.select_related("person", "organization").in_bulk([pk for pk, _f in rows])
    return [(found[pk], flags) for pk, flags in rows if pk in found]


def transfer_list(*, scope: Scope, status: str = ""):
    from xinye.organizations.selectors import organization_q

    from .models import MembershipTransfer

    qs = MembershipTransfer.objects.filter(membership__in=membership_list(scope=scope))
    if not scope.is_admin:
        from xinye.organizations.models import Organization

        qs = qs | MembershipTransfer.objects.filter(
            to_organization__in=Organization.objects.filter(organization_q(scope))
        )
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("membership__person", "from_organization", "to_organization").order_by("-created_at")
