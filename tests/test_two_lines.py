"""Two lines to the top (issue 13, "What must be true" 5): organizations of companies and communities link
upward to the committee that leads them (a platform's industry committee, a street's working committee),
and the tree from a district's (or city's) organization department down to every branch is one tree, on the
page and in the W3C ORG / Popolo exports (read back by rdflib)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rdflib import Graph

from xinye.organizations import community_planning, planning
from xinye.organizations.exports import parse_tree
from xinye.organizations.lines import link_upward
from xinye.organizations.models import AnchorKind, Company, Organization, OrgKind
from xinye.places.models import Division

pytestmark = pytest.mark.django_db


def _top(org: Organization) -> Organization:
    while org.parent_id:
        org = org.parent
    return org


def test_every_company_tree_is_led_from_its_department():
    tops = Organization.objects.filter(company__isnull=False, dissolved_on__isnull=True, parent__company__isnull=True)
    assert tops.exists()
    for org in tops.select_related("company", "parent"):
        assert org.parent is not None, org
        # platforms and the car-rental companies whose fleets drive for them are led by industry (issue 13, item 6)
        by_industry = org.company.is_platform or org.company.kind == "car_rental"
        expected = OrgKind.INDUSTRY_COMMITTEE if by_industry else OrgKind.WORKING_COMMITTEE
        assert org.parent.kind in (expected, OrgKind.DEPARTMENT)
        assert _top(org).kind == OrgKind.DEPARTMENT
    assert link_upward() == 0  # running it again changes nothing


def test_community_branches_join_the_same_tree_and_the_cli_links(settings):
    settings.XINYE_JOBS_INLINE = True
    city = Division.objects.get(code="4403")
    plan = community_planning.community_plan_create(division=city)
    community_planning.community_plan_approve(plan=plan, user=None)
    Organization.objects.filter(anchor_kind=AnchorKind.COMMUNITY).update(parent=None)  # as before this change
    out = StringIO()
    call_command("tree", "link", "--division", "4403", stdout=out)
    assert out.getvalue().startswith(f"{plan.plan['stats']['branches']} top organization(s) linked")
    for org in Organization.objects.filter(anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True)[:10]:
        assert org.parent.kind == OrgKind.WORKING_COMMITTEE
        top = _top(org)
        assert top.kind == OrgKind.DEPARTMENT and org.community.code.startswith(top.division.code)


def test_an_approved_company_plan_stays_led_by_its_committee():
    company = Company.objects.filter(organizations__isnull=False, is_platform=True).first()
    leader = Organization.objects.filter(company=company, parent__company__isnull=True).first().parent
    proposal = planning.proposal_create(company=company)
    planning.proposal_approve(proposal=proposal, user=None)
    tops = Organization.objects.filter(company=company, dissolved_on__isnull=True, parent__company__isnull=True)
    assert tops.exists() and {o.parent_id for o in tops} == {leader.pk}


def test_the_department_exports_one_tree_down_to_every_branch(login):
    client = login("organizer")
    dept = Organization.objects.filter(kind=OrgKind.DEPARTMENT).order_by("pk").first()
    response = client.get(f"/organizations/{dept.pk}/export.ttl")
    assert response.status_code == 200
    tree = parse_tree(Graph().parse(data=response.content.decode(), format="turtle"))
    below = Organization.objects.get(pk=dept.pk).descendants().filter(dissolved_on__isnull=True)
    branches = below.filter(kind__in=[OrgKind.BRANCH, OrgKind.JOINT_BRANCH])
    assert branches.exists()
    ids = {str(o.pk) for o in branches}
    assert ids <= set(tree)
    # every node's chain reaches the department
    for node in list(ids)[:50]:
        seen = node
        while tree[seen][0] is not None:
            seen = tree[seen][0]
        assert seen == str(dept.pk)
    page = client.get("/organizations/")
    roots = page.context["tree"]
    assert roots and all(r["org"].kind == OrgKind.DEPARTMENT for r in roots)
