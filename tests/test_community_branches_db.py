"""Community-based branches on the database: map page, formation job, review, approval with history. Issue #4."""

from __future__ import annotations

import pytest

from xinye.organizations import community_planning
from xinye.organizations.models import AnchorKind, CommunityPlan, Organization, ProposalStatus
from xinye.people.models import Membership
from xinye.places.models import Division

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_jobs(settings):
    settings.XINYE_JOBS_INLINE = True


def test_form_review_and_approve_community_branches(login):
    client = login("organizer")
    page = client.get("/places/4403/branches/")
    assert page.status_code == 200 and page.context["map"]["geo"]["features"]
    response = client.post("/places/4403/branches/form/", {"radius_km": "3", "floor": "3", "cap": "50"}, follow=True)
    plan = response.context["plan"]
    stats = plan.plan["stats"]
    assert stats["branches"] > 0 and stats["placed"] + stats["unplaced"] == stats["members"]
    assert response.context["map"]["anchors"]
    client.post(f"/community-plans/{plan.pk}/decide/", {"decision": "approve"})
    plan.refresh_from_db()
    assert plan.status == ProposalStatus.APPROVED
    orgs = Organization.objects.filter(anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True)
    assert orgs.count() == stats["branches"]
    for b in plan.plan["branches"][:5]:
        org = orgs.get(community__code=b["anchor"], communities__code=b["anchor"])
        assert sorted(
            str(p) for p in Membership.objects.filter(organization=org).values_list("person_id", flat=True)
        ) == sorted(b["members"])
        assert org.history.first().history_change_reason.startswith(f"community plan #{plan.pk} approved")
    # a second formation keeps every branch
    again = community_planning.community_plan_create(division=Division.objects.get(code="4403"))
    assert again.plan["stats"]["kept"] == stats["branches"]


def test_a_plan_is_refused_if_members_changed_meanwhile(login):
    plan = community_planning.community_plan_create(division=Division.objects.get(code="4403"))
    member_id = int(plan.plan["branches"][0]["members"][0])
    Membership.objects.filter(person_id=member_id).update(status="probationary")
    with pytest.raises(community_planning.CommunityPlanError, match="changed after plan"):
        community_planning.community_plan_approve(plan=plan, user=None)
    assert CommunityPlan.objects.get(pk=plan.pk).status == ProposalStatus.STALE


def test_only_organizers_of_the_division_see_it(login):
    from xinye.accounts.models import Role

    district = Role.objects.get(user__username="district").division
    other = Division.objects.filter(level="county", code__startswith="4403").exclude(code=district.code).first()
    client = login("district")
    assert client.get(f"/places/{district.code}/branches/").status_code == 200
    assert client.get(f"/places/{other.code}/branches/").status_code == 404
    assert login("secretary").get("/places/4403/branches/").status_code == 404


def test_the_api_forms_approves_and_is_scoped(login):
    client = login("organizer")
    started = client.post("/api/community-plans/form/", {"division": "4403", "radius_km": 3}, format="json")
    assert started.status_code == 202
    plans = client.get("/api/community-plans/").json()["results"]
    assert plans and plans[0]["division"] == "4403" and plans[0]["stats"]["branches"] > 0
    approved = client.post(f"/api/community-plans/{plans[0]['id']}/approve/", {})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(f"/api/community-plans/{plans[0]['id']}/approve/", {})
    assert again.status_code == 409
    assert login("secretary").get("/api/community-plans/").json()["count"] == 0
    assert login("district").post("/api/community-plans/form/", {"division": "4403"}).status_code == 404


def test_an_approved_plan_moves_only_members_of_its_division():
    # given a plan, edited afterwards to name a member it was not made from (a company's member)
    city = Division.objects.get(code="4403")
    plan = community_planning.community_plan_create(division=city)
    planned = {int(m.id) for m in community_planning.community_snapshot(division=city).members}
    outsider = Membership.objects.filter(until__isnull=True).exclude(person_id__in=planned).first()
    before = outsider.organization_id
    branch = next(b for b in plan.plan["branches"] if b["id"] != str(before))
    branch["members"].append(str(outsider.person_id))
    CommunityPlan.objects.filter(pk=plan.pk).update(plan=plan.plan)
    # when it is approved, it is refused and the outsider stays where they were
    with pytest.raises(community_planning.CommunityPlanError, match="not members of"):
        community_planning.community_plan_approve(plan=plan, user=None)
    outsider.refresh_from_db()
    assert outsider.organization_id == before
