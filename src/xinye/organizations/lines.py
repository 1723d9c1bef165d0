"""Two lines to the top: every organization tree links upward to the committee that leads it.

The policy Xinye serves leads new employment groups along two lines: by territory (a street's Party working
committee leads the community-based branches of its street, under the district) and by industry (an
industry committee leads the organizations of the platform companies of its trade). Here:

- a district (or a city with no districts) has its organization department at the top:
  "中共<district>委员会组织部";
- under it, each street with community-based branches has its working committee "中共<street>工作委员会",
  which leads them;
- under it, an industry committee per trade ("中共<district>快递物流行业委员会", ...) leads the top
  organizations of the platform companies registered in the district; a company that is not a platform is
  led by territory: the working committee of the street where it is registered (or the department).

`link_upward` sets the parent of every top organization it finds (companies' and community branches') and
sets up the committees it needs; it is idempotent, and runs after each approved plan and after the demo.
The whole area is then one tree, on the page and in the W3C ORG / Popolo exports.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from xinye.places.models import Division, Level

from .models import AnchorKind, Company, CompanyKind, Organization, OrgKind

#: the trade of each kind of company, as it appears in the industry committee's name
TRADES = {
    CompanyKind.FOOD_DELIVERY: "外卖配送",
    CompanyKind.EXPRESS: "快递物流",
    CompanyKind.RIDE_HAILING: "网约车",
    CompanyKind.CAR_RENTAL: "网约车",
    CompanyKind.FREIGHT: "货运物流",
    CompanyKind.OTHER: "新业态",
}


def area_of(division: Division | None) -> Division | None:
    """The district (county level) `division` lies in, or its city when it lies in none; None when unknown."""
    d = division
    while d is not None and d.level not in (Level.COUNTY, Level.CITY):
        d = d.parent
    return d


def _committee(*, kind: str, area: Division, name: str, parent: Organization | None, reason: str) -> Organization:
    org = (
        Organization.objects.filter(kind=kind, anchor_kind=AnchorKind.DIVISION, division=area, name=name)
        .filter(dissolved_on__isnull=True)
        .first()
    )
    if org is None:
        org = Organization(
            name=name,
            kind=kind,
            anchor_kind=AnchorKind.DIVISION,
            division=area,
            parent=parent,
            founded_on=timezone.localdate(),
        )
        org._change_reason = reason
        org.save()
    elif parent is not None and org.parent_id != parent.pk:
        org.parent = parent
        org._change_reason = reason
        org.save()
    return org


def department_for(area: Division, *, reason: str = "") -> Organization:
    """The organization department of a district (or city): the top of its tree."""
    return _committee(
        kind=OrgKind.DEPARTMENT, area=area, name=f"中共{area.name}委员会组织部", parent=None, reason=reason
    )


def street_committee_for(street: Division, *, reason: str = "") -> Organization:
    """The Party working committee of a street (or of the area given), under its district's department."""
    area = area_of(street.parent) if street.level == Level.STREET else None
    parent = department_for(area, reason=reason) if area is not None else None
    return _committee(
        kind=OrgKind.WORKING_COMMITTEE,
        area=street,
        name=f"中共{street.name}工作委员会",
        parent=parent,
        reason=reason or "set up to lead community-based branches",
    )


def leading_committee_for(company: Company, *, reason: str = "") -> Organization | None:
    """Who leads a company's organizations: for a platform, and for a car-rental company whose fleets drive for
    the platforms, the industry committee of its trade in the district where it is registered (by industry:
    the ride-hailing committee leads the platforms and the rental companies, whose fleets hold the drivers, the
    policy's "platform -> rental company -> fleet" route); otherwise the working committee of its street (by
    territory). None when the company's registration is not known."""
    area = area_of(company.division)
    if area is None:
        return None
    if company.is_platform or company.kind == CompanyKind.CAR_RENTAL:
        trade = TRADES.get(company.kind, TRADES[CompanyKind.OTHER])
        return _committee(
            kind=OrgKind.INDUSTRY_COMMITTEE,
            area=area,
            name=f"中共{area.name}{trade}行业委员会",
            parent=department_for(area, reason=reason),
            reason=reason,
        )
    if company.division.level == Level.STREET:
        return street_committee_for(company.division, reason=reason)
    return department_for(area, reason=reason)


def link_upward(*, division: Division | None = None, company: Company | None = None, reason: str = "") -> int:
    """Give every top organization (of the companies registered in `division`, or of `company`, and the
    community-based branches of `division`) the committee that leads it. Returns how many were linked."""
    reason = reason or "linked to the committee that leads it"
    linked = 0
    with transaction.atomic():
        companies = Company.objects.all()
        if company is not None:
            companies = companies.filter(pk=company.pk)
        elif division is not None:
            companies = companies.filter(division__code__startswith=division.code)
        for c in companies.select_related("division__parent__parent"):
            tops = Organization.objects.filter(company=c, parent__isnull=True, dissolved_on__isnull=True)
            if not tops.exists():
                continue
            leader = leading_committee_for(c, reason=reason)
            if leader is None:
                continue
            for org in tops:
                org.parent = leader
                org._change_reason = reason
                org.save()
                linked += 1
        if company is None:
            branches = Organization.objects.filter(
                anchor_kind=AnchorKind.COMMUNITY, parent__isnull=True, dissolved_on__isnull=True
            ).select_related("community__parent")
            if division is not None:
                branches = branches.filter(community__code__startswith=division.code)
            for org in branches:
                street = org.community.parent or org.community
                org.parent = street_committee_for(street, reason=reason)
                org._change_reason = reason
                org.save()
                linked += 1
    return linked
