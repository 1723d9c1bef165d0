"""Community-based branches on the database: snapshot a division, form branches, review, approve.

Members concerned: current members who are couriers or delivery riders, work in the division, and are in
no branch or in a community-based one (members of company-based branches stay there). Existing
community-based branches are kept where valid.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from simple_history.utils import update_change_reason

from xinye.algorithms import branches as algo
from xinye.algorithms.errors import InputError, RowError, XinyeError
from xinye.algorithms.rules import RuleSet
from xinye.common.progress import ProgressCallback
from xinye.common.text import short_place
from xinye.places.models import Division, Level

from .models import AnchorKind, CommunityPlan, Organization, OrgKind, ProposalStatus
from .planning import add_years, rules_for

COMMUNITY_OCCUPATIONS = ("courier", "delivery_rider")
FORM = "community branch formation"


class CommunityPlanError(XinyeError):
    pass


@dataclass
class CommunitySnapshot:
    communities: list[algo.Community]
    members: list[algo.Member]
    existing: list[algo.Branch]

    def fingerprint(self) -> str:
        data = [
            sorted((m.id, m.community, m.status) for m in self.members),
            sorted((b.id, b.anchor, b.communities, b.members) for b in self.existing),
        ]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def community_snapshot(*, division: Division) -> CommunitySnapshot:
    from xinye.people.models import Membership

    communities = [
        algo.Community(d.code, d.lat, d.lon, d.parent.code if d.parent_id else "")
        for d in Division.objects.filter(level=Level.COMMUNITY, code__startswith=division.code, lat__isnull=False)
        .select_related("parent")
        .order_by("code")
    ]
    located = {c.code for c in communities}
    memberships = Membership.objects.filter(
        until__isnull=True,
        person__occupation__in=COMMUNITY_OCCUPATIONS,
        person__work_community__code__startswith=division.code,
    ).filter(organization__isnull=True) | Membership.objects.filter(
        until__isnull=True,
        person__occupation__in=COMMUNITY_OCCUPATIONS,
        person__work_community__code__startswith=division.code,
        organization__anchor_kind=AnchorKind.COMMUNITY,
        organization__dissolved_on__isnull=True,
    )
    members = []
    by_org: dict[int, list[str]] = {}
    seen = set()
    for m in memberships.select_related("person__work_community").order_by("person_id"):
        if m.person_id in seen or m.person.work_community.code not in located:
            continue
        seen.add(m.person_id)
        members.append(algo.Member(str(m.person_id), m.person.work_community.code, m.status, m.person.occupation))
        if m.organization_id:
            by_org.setdefault(m.organization_id, []).append(str(m.person_id))
    existing = [
        algo.Branch(
            str(o.pk), o.community.code, tuple(sorted(c.code for c in o.communities.all())), tuple(by_org.get(o.pk, []))
        )
        for o in Organization.objects.filter(
            anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True, community__code__startswith=division.code
        )
        .select_related("community")
        .prefetch_related("communities")
        .order_by("pk")
    ]
    return CommunitySnapshot(communities, members, existing)


def community_rules() -> RuleSet:
    """The rule set community-based branches follow (the deployment's `cpc`, with its XINYE_RULES overrides)."""
    return rules_for("cpc")


def community_params(
    *, floor=None, cap=None, radius_km=None, rules: RuleSet | None = None, field_names=("floor", "cap", "radius_km")
) -> dict:
    """The floor, cap and work radius of a formation: the rule set's figures by default; a floor below the rules,
    a cap above them or a radius that is not a positive number is refused (InputError naming the field)."""
    rules = rules or community_rules()
    errors = []

    def number(value, default, cast, name):
        if value in (None, ""):
            return default
        try:
            return cast(value)
        except (TypeError, ValueError):
            errors.append(RowError(FORM, None, name, value, "not a number"))
            return default

    floor = number(floor, rules.min_formal_members, int, field_names[0])
    cap = number(cap, rules.branch_cap, int, field_names[1])
    radius_km = number(radius_km, rules.community_radius_km, float, field_names[2])
    if floor < rules.min_formal_members:
        errors.append(
            RowError(
                FORM,
                None,
                field_names[0],
                floor,
                f"a branch needs at least {rules.min_formal_members} formal members under the rules "
                f"({rules.source('min_formal_members')})",
            )
        )
    if cap > rules.branch_cap or cap < floor:
        errors.append(
            RowError(FORM, None, field_names[1], cap, f"between the floor ({floor}) and the rules' {rules.branch_cap}")
        )
    if not 0.1 <= radius_km <= 50:
        errors.append(RowError(FORM, None, field_names[2], radius_km, "a work radius between 0.1 and 50 km"))
    if errors:
        raise InputError(errors, summary="community branch formation: figures outside the rules")
    return {"floor": floor, "cap": cap, "radius_km": radius_km}


def community_plan_create(
    *,
    division: Division,
    user=None,
    radius_km: float | None = None,
    floor: int | None = None,
    cap: int | None = None,
    progress: ProgressCallback | None = None,
) -> CommunityPlan:
    p = community_params(floor=floor, cap=cap, radius_km=radius_km)
    floor, cap, radius_km = p["floor"], p["cap"], p["radius_km"]
    snap = community_snapshot(division=division)
    result = algo.form_branches(
        snap.communities,
        snap.members,
        floor=floor,
        cap=cap,
        radius_km=radius_km,
        existing=snap.existing,
        progress=progress or (lambda *a: None),
    )
    with transaction.atomic():
        CommunityPlan.objects.filter(division=division, status=ProposalStatus.PENDING).update(
            status=ProposalStatus.STALE
        )
        return CommunityPlan.objects.create(
            division=division,
            params={"radius_km": radius_km, "floor": floor, "cap": cap},
            before={"branches": [b.to_json() for b in snap.existing], "fingerprint": snap.fingerprint()},
            plan=result.to_json(),
            created_by=user if user and user.is_authenticated else None,
        )


def community_plan_reject(*, plan: CommunityPlan, user, note: str = "") -> CommunityPlan:
    with transaction.atomic():
        plan = CommunityPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != ProposalStatus.PENDING:
            raise CommunityPlanError(f"plan #{plan.pk} is not waiting for review")
        plan.decide(status=ProposalStatus.REJECTED, user=user, note=note)
        plan.save()
    return plan


def community_plan_approve(*, plan: CommunityPlan, user, note: str = "") -> CommunityPlan:
    """Create, update or dissolve community-based branches and move members, in one transaction."""
    from xinye.people.models import Membership

    with transaction.atomic():
        plan = CommunityPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != ProposalStatus.PENDING:
            raise CommunityPlanError(f"plan #{plan.pk} is not waiting for review")
        snap = community_snapshot(division=plan.division)
        if snap.fingerprint() == plan.before.get("fingerprint"):
            # a plan moves only the members it was made from (those of its division), whatever its JSON says
            known = {m.id for m in snap.members}
            named = {m for b in plan.plan["branches"] for m in b["members"]} | {
                u["member"] for u in plan.plan["unplaced"]
            }
            if named - known:
                raise CommunityPlanError(
                    f"plan #{plan.pk} names {len(named - known)} person(s) who are not members of {plan.division}"
                )
            reason = f"community plan #{plan.pk} approved by {user}"
            today = timezone.localdate()
            term_years = community_rules().community_term_years
            codes = {c for b in plan.plan["branches"] for c in b["communities"]}
            divisions = {d.code: d for d in Division.objects.filter(code__in=codes).select_related("parent")}
            existing = {
                str(o.pk): o
                for o in Organization.objects.filter(
                    anchor_kind=AnchorKind.COMMUNITY,
                    dissolved_on__isnull=True,
                    community__code__startswith=plan.division.code,
                )
            }
            target: dict[str, Organization] = {}
            for b in plan.plan["branches"]:
                anchor = divisions[b["anchor"]]
                org = existing.get(b["id"])
                if org is None:
                    org = Organization(
                        name=_branch_name(anchor),
                        kind=OrgKind.BRANCH if len(b["communities"]) == 1 else OrgKind.JOINT_BRANCH,
                        anchor_kind=AnchorKind.COMMUNITY,
                        community=anchor,
                        division=anchor.parent or anchor,
                        founded_on=today,
                        term_years=term_years,
                        term_started_on=today,
                        term_ends_on=add_years(today, term_years),
                    )
                org.community = anchor
                if org.parent_id is None:
                    org.parent = working_committee_for(anchor.parent or anchor, reason=reason)
                org._change_reason = reason
                org.save()
                if sorted(c.code for c in org.communities.all()) != sorted(b["communities"]):
                    org.communities.set([divisions[c] for c in b["communities"]])
                    update_change_reason(org, reason)
                for m in b["members"]:
                    target[m] = org
            # a member the plan could not place keeps the branch they have (a member always belongs to exactly
            # one branch); one with none stays flagged by the audit for the branch where they live or work
            for ms in Membership.objects.filter(until__isnull=True, person_id__in=[int(m) for m in target]):
                new = target[str(ms.person_id)]
                if new.pk != ms.organization_id:
                    ms.organization = new
                    ms._change_reason = reason
                    ms.save()
            kept = {b["id"] for b in plan.plan["branches"]}
            still_held = set(
                Membership.objects.filter(
                    until__isnull=True, organization_id__in=[int(oid) for oid in existing if oid not in kept]
                ).values_list("organization_id", flat=True)
            )
            for oid, org in existing.items():
                if oid not in kept and int(oid) not in still_held:
                    org.dissolved_on = today
                    org._change_reason = reason
                    org.save()
            plan.decide(status=ProposalStatus.APPROVED, user=user, note=note)
            plan.save()
            return plan
    CommunityPlan.objects.filter(pk=plan.pk).update(status=ProposalStatus.STALE)
    raise CommunityPlanError(
        f"the members or branches of {plan.division} changed after plan #{plan.pk} was made; make a new plan"
    )


def working_committee_for(area: Division, *, reason: str = "") -> Organization:
    """The Party working committee of a street (or of the area given), which leads its community-based
    branches (see `lines`); set up when first needed."""
    from .lines import street_committee_for

    return street_committee_for(area, reason=reason)


def community_audit(*, division: Division, today=None) -> list:
    """Findings about the community-based branches of `division` under the rule set (as the structure audit's
    findings: localize them with `findings.localized`)."""
    from xinye.organizations.models import PostRole

    rules = community_rules()
    snap = community_snapshot(division=division)
    orgs = (
        Organization.objects.filter(
            anchor_kind=AnchorKind.COMMUNITY, dissolved_on__isnull=True, community__code__startswith=division.code
        )
        .select_related("community")
        .prefetch_related("communities", "posts")
        .order_by("pk")
    )
    members_of = {b.id: b.members for b in snap.existing}
    states = [
        algo.BranchState(
            str(o.pk),
            o.name,
            o.community.code,
            tuple(sorted(c.code for c in o.communities.all())),
            members_of.get(str(o.pk), ()),
            str(o.parent_id) if o.parent_id else None,
            any(p.role == PostRole.COMMITTEE_MEMBER and p.end_date is None for p in o.posts.all()),
            o.term_ends_on,
        )
        for o in orgs
    ]
    loose = {m.community for m in snap.members} - {c for s in states for c in s.communities}
    names = dict(Division.objects.filter(code__in=loose).values_list("code", "name"))
    return algo.audit(
        snap.communities, snap.members, states, rules, today=today or timezone.localdate(), community_names=names
    )


def _branch_name(anchor: Division) -> str:
    street = anchor.parent.name if anchor.parent_id else ""
    return f"中共{street}{short_place(anchor.name)}新就业群体党支部"
