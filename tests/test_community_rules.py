"""Community-based branches are ordinary citizens of the tree (issue 13, "What must be true" 4): their floor,
cap, term and radius come from the rule set (a floor below the rules is refused), they are audited like any
branch, they have a parent (the street's working committee), and a plan never leaves a member with no branch.
"""

from __future__ import annotations

from datetime import date

import pytest

from xinye.algorithms import branches as algo
from xinye.algorithms.rules import get_rules
from xinye.common.errors import InputError
from xinye.common.models import Job
from xinye.organizations import community_planning
from xinye.organizations.findings import COMMUNITY_TEMPLATES, localized
from xinye.organizations.models import AnchorKind, CommunityPlan, Organization, OrgKind, ProposalStatus
from xinye.people.models import Membership
from xinye.places.models import Division

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_jobs(settings):
    settings.XINYE_JOBS_INLINE = True


def test_figures_come_from_the_rule_set_and_a_floor_below_it_is_refused(settings):
    assert community_planning.community_params() == {"floor": 3, "cap": 50, "radius_km": 3.0}
    settings.XINYE_RULES = {"cpc": {"min_formal_members": 4, "branch_cap": 40, "community_radius_km": 2.5}}
    assert community_planning.community_params() == {"floor": 4, "cap": 40, "radius_km": 2.5}
    with pytest.raises(InputError) as e:
        community_planning.community_params(floor=3, cap=45, radius_km="x")
    assert sorted(err.column for err in e.value.errors) == ["cap", "floor", "radius_km"]
    assert any("at least 4 formal members" in err.message for err in e.value.errors)


def test_the_page_and_the_api_refuse_a_floor_of_one(login):
    client = login("organizer")
    jobs = Job.objects.count()
    response = client.post("/places/4403/branches/form/", {"radius_km": "3", "floor": "1", "cap": "50"}, follow=True)
    assert Job.objects.count() == jobs
    assert any("floor" in str(m).lower() or "党员" in str(m) for m in response.context["messages"])
    api = client.post("/api/community-plans/form/", {"division": "4403", "floor": 1}, content_type="application/json")
    assert api.status_code == 400 and "floor" in api.json()
    assert Job.objects.count() == jobs
    page = client.get("/places/4403/branches/")
    assert 'name="floor" value="3" min="3"' in page.content.decode()


def test_approved_branches_have_a_parent_working_committee_and_the_rules_term(settings):
    settings.XINYE_RULES = {"cpc": {"community_term_years": 4}}
    street = Division.objects.filter(level="street", code__startswith="4403").order_by("code")
    plan = community_planning.community_plan_create(division=Division.objects.get(code="4403"))
    community_planning.community_plan_approve(plan=plan, user=None)
    orgs = list(Organization.objects.filter(anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True))
    assert orgs and street.exists()
    for org in orgs[:20]:
        parent = org.parent
        assert parent is not None and parent.kind == OrgKind.WORKING_COMMITTEE
        assert parent.division == org.community.parent and parent.name == f"中共{org.community.parent.name}工作委员会"
        assert org.term_years == 4 and org.term_ends_on.year - org.term_started_on.year == 4
    # one working committee per street
    committees = Organization.objects.filter(kind=OrgKind.WORKING_COMMITTEE)
    assert committees.count() == len({o.community.parent_id for o in orgs})


def test_a_plan_never_leaves_a_member_with_no_branch():
    city = Division.objects.get(code="4403")
    first = community_planning.community_plan_create(division=city)
    community_planning.community_plan_approve(plan=first, user=None)
    second = community_planning.community_plan_create(division=city)
    dropped = second.plan["branches"].pop(0)  # the plan could not place these members any more
    second.plan["unplaced"] += [
        {"member": m, "community": dropped["anchor"], "reason": "test", "suggestion": "test"}
        for m in dropped["members"]
    ]
    second.save()
    community_planning.community_plan_approve(plan=second, user=None)
    org = Organization.objects.get(pk=int(dropped["id"]))
    assert org.dissolved_on is None  # it still holds members: not dissolved
    held = Membership.objects.filter(person_id__in=[int(m) for m in dropped["members"]], until__isnull=True)
    assert {ms.organization_id for ms in held} == {org.pk}


def test_community_branches_are_audited_like_any_branch(login):
    city = Division.objects.get(code="4403")
    plan = community_planning.community_plan_create(division=city)
    community_planning.community_plan_approve(plan=plan, user=None)
    findings = community_planning.community_audit(division=city)
    texts = {f.text for f in findings}
    assert "community_branch_without_parent" not in texts
    unplaced = {u["member"] for u in plan.plan["unplaced"]}
    loose = [f for f in findings if f.text == "community_members_in_no_branch"]
    assert {m for f in loose for m in f.related} == unplaced
    # a branch that loses members below the floor and its parent is found
    org = Organization.objects.filter(anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True).first()
    keep = Membership.objects.filter(organization=org, until__isnull=True, status="formal").order_by("pk")
    for ms in keep[2:]:
        ms.status = "probationary"
        ms.save()
    Organization.objects.filter(pk=org.pk).update(parent=None, term_ends_on=date(2020, 1, 1))
    mine = {f.text for f in community_planning.community_audit(division=city) if f.subject_id == str(org.pk)}
    assert {"community_branch_below_floor", "community_branch_without_parent", "community_term_expired"} <= mine
    page = login("organizer").get("/places/4403/branches/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and page.context["findings"]
    assert all(f["message"] for f in page.context["findings"])


def test_audit_pure_core_and_messages_match():
    assert set(COMMUNITY_TEMPLATES) == set(algo.MESSAGES)
    cs = [algo.Community("c0", 22.5, 114.0, "s"), algo.Community("c1", 22.5, 114.1, "s")]  # about 10 km apart
    ms = [algo.Member(f"m{i}", "c0" if i < 7 else "c1", "formal") for i in range(9)] + [algo.Member("x", "c1")]
    b = algo.BranchState("b", "B", "c0", ("c0", "c1"), tuple(f"m{i}" for i in range(9)), "p", False, None)
    found = {f.text: f for f in algo.audit(cs, ms, [b], get_rules(), today=date(2026, 12, 1))}
    assert set(found) == {
        "community_committee_due",
        "community_members_beyond_radius",
        "community_members_in_no_branch",
    }
    assert found["community_members_beyond_radius"].related == ("m7", "m8")
    assert localized(found["community_members_in_no_branch"])["message"]


def test_plans_of_a_pending_formation_still_work_with_stored_params():
    # a job queued before this change carried explicit figures: they are still checked against the rules
    plan = community_planning.community_plan_create(division=Division.objects.get(code="4403"), floor=3, cap=50)
    assert plan.params == {"radius_km": 3.0, "floor": 3, "cap": 50}
    assert CommunityPlan.objects.get(pk=plan.pk).status == ProposalStatus.PENDING
