"""Structure planning on the database: snapshot a company, audit it, plan it, approve and apply a plan.

The algorithm lives in `xinye.algorithms.structure` and sees only plain data; this module turns rows into
that data (`company_snapshot`) and writes an approved plan back (`proposal_approve`), in one transaction
with history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from simple_history.utils import update_change_reason

from xinye.algorithms import structure
from xinye.algorithms.errors import XinyeError
from xinye.algorithms.rules import RuleSet, get_rules
from xinye.common.progress import ProgressCallback

from .models import (
    AnchorKind,
    BusinessUnit,
    Company,
    Organization,
    OrgKind,
    PostRole,
    Proposal,
    ProposalStatus,
)

CPC_KINDS = {k for k, _ in OrgKind.choices}


class PlanningError(XinyeError):
    pass


def rules_for(name: str = "cpc") -> RuleSet:
    """A rule set with the deployment's overrides (settings.XINYE_RULES) applied."""
    return get_rules(name, overrides=(getattr(settings, "XINYE_RULES", {}) or {}).get(name))


@dataclass
class Snapshot:
    business: structure.Business
    orgs: list[structure.Org]
    names: dict[str, str]  # member id -> person name, for pages


def company_snapshot(*, company: Company, rules: RuleSet | None = None) -> Snapshot:
    """The company's business units, its members (people with a current membership working in one of its
    units) and its organizations, as the planner's plain data. Ids are database primary keys as strings."""
    from xinye.people.models import Membership

    units = []
    for u in BusinessUnit.objects.filter(company=company).order_by("pk"):
        status = "active" if u.valid_until is None else ("merged" if u.merged_into_id else "dissolved")
        units.append(
            structure.Unit(
                str(u.pk),
                str(u.parent_id) if u.parent_id else None,
                u.name,
                u.kind,
                u.division.code if u.division_id and u.division else "",
                status,
                str(u.merged_into_id) if u.merged_into_id else None,
            )
        )
    memberships = (
        Membership.objects.filter(until__isnull=True, person__business_unit__company=company)
        .select_related("person")
        .order_by("person_id")
    )
    members = []
    org_members: dict[int, list[str]] = {}
    names = {}
    seen_people: set[int] = set()
    for m in memberships:
        if m.person_id in seen_people:
            continue  # one current membership a person; a second one is a data error the audit cannot express
        seen_people.add(m.person_id)
        members.append(structure.Member(str(m.person_id), str(m.person.business_unit_id), m.status))
        names[str(m.person_id)] = m.person.name
        if m.organization_id:
            org_members.setdefault(m.organization_id, []).append(str(m.person_id))
    business = structure.Business.build(units, members, file=f"company {company.pk}")
    orgs = []
    org_rows = list(
        Organization.objects.filter(company=company, dissolved_on__isnull=True)
        .prefetch_related("business_units", "posts")
        .order_by("pk")
    )
    ids = {o.pk for o in org_rows}
    kind_of = rule_kind_map(rules) if rules is not None else {}
    for o in org_rows:
        current = [p for p in o.posts.all() if p.end_date is None]
        has_committee = any(p.role == PostRole.COMMITTEE_MEMBER for p in current)
        holders = {p.person_id for p in current}
        orgs.append(
            structure.Org(
                str(o.pk),
                str(o.parent_id) if o.parent_id in ids else None,
                kind_of.get(o.kind, o.kind),
                tuple(str(u.pk) for u in o.business_units.all()),
                tuple(m for m in org_members.get(o.pk, []) if m in business.members),
                o.name,
                o.term_ends_on,
                has_committee if o.kind in (OrgKind.BRANCH, OrgKind.JOINT_BRANCH) else None,
                any(p.role == PostRole.SECRETARY for p in current),
                len(holders) or None,
            )
        )
    return Snapshot(business, orgs, names)


def rule_kind_map(rules: RuleSet) -> dict[str, str]:
    """Stored kinds (the party's) -> the rule set's names for the same levels."""
    return {
        OrgKind.BRANCH: rules.branch_kind,
        OrgKind.JOINT_BRANCH: rules.joint_kind,
        OrgKind.GENERAL_BRANCH: rules.general_kind,
        OrgKind.SECONDARY_COMMITTEE: rules.secondary_kind,
        OrgKind.COMMITTEE: rules.committee_kind,
    }


def fingerprint(snap: Snapshot) -> str:
    """A digest of the units and members a plan was made from, to refuse approving it after they change."""
    import hashlib
    import json

    b = snap.business
    data = [
        [(u.id, u.parent, u.status) for u in sorted(b.units.values(), key=lambda u: u.id)],
        sorted((m.id, m.unit, m.status) for m in b.members.values()),
    ]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def company_audit(*, company: Company, rules: str = "cpc") -> list[structure.Finding]:
    ruleset = rules_for(rules)
    snap = company_snapshot(company=company, rules=ruleset)
    return structure.audit(snap.business, snap.orgs, ruleset, today=timezone.localdate())


def proposal_create(
    *, company: Company, user=None, rules: str = "cpc", progress: ProgressCallback | None = None
) -> Proposal:
    """Plan the company's tree and store the plan as a proposal waiting for review. The planning itself
    runs outside any transaction (so a job's progress is visible and no lock is held); only storing the
    proposal is one."""
    ruleset = rules_for(rules)
    snap = company_snapshot(company=company, rules=ruleset)
    result = structure.plan(
        snap.business, snap.orgs, ruleset, today=timezone.localdate(), progress=progress or (lambda *a: None)
    )
    with transaction.atomic():
        Proposal.objects.filter(company=company, status=ProposalStatus.PENDING).update(status=ProposalStatus.STALE)
        return Proposal.objects.create(
            company=company,
            rules=rules,
            before={"organizations": [o.to_json() for o in snap.orgs], "fingerprint": fingerprint(snap)},
            plan=result.to_json(),
            created_by=user if user and user.is_authenticated else None,
        )


@transaction.atomic
def proposal_reject(*, proposal: Proposal, user, note: str = "") -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.PENDING:
        raise PlanningError(f"plan #{proposal.pk} is {proposal.get_status_display()}, not waiting for review")
    proposal.decide(status=ProposalStatus.REJECTED, user=user, note=note)
    proposal.save()
    return proposal


def proposal_approve(*, proposal: Proposal, user, note: str = "") -> Proposal:
    """Apply a plan in one transaction: organizations updated, created or dissolved and members moved, each
    change recorded in history with the plan's number as the reason. Refuses a plan whose starting tree has
    changed since it was made (and marks it out of date)."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status != ProposalStatus.PENDING:
            raise PlanningError(f"plan #{proposal.pk} is {proposal.get_status_display()}, not waiting for review")
        if proposal.rules != "cpc":
            raise PlanningError(
                f"plan #{proposal.pk} uses the {proposal.rules!r} rule set: it can be reviewed and "
                "exported, but only plans under the party rules (cpc) are applied to organizations"
            )
        ruleset = rules_for(proposal.rules)
        current = company_snapshot(company=proposal.company, rules=ruleset)
        same_orgs = [o.to_json() for o in current.orgs] == proposal.before["organizations"]
        same_business = fingerprint(current) == proposal.before.get("fingerprint")
        if same_orgs and same_business:
            from .lines import link_upward

            applied = _apply(proposal, user, note)
            # the plan's top organization stays led by its industry or street committee
            link_upward(company=proposal.company, reason=f"plan #{proposal.pk} approved")
            return applied
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.STALE)
    raise PlanningError(
        f"the organizations of {proposal.company} changed after plan #{proposal.pk} was made; make a new plan"
    )


def _apply(proposal: Proposal, user, note: str) -> Proposal:
    from xinye.people.models import Membership

    company = proposal.company
    reason = f"plan #{proposal.pk} approved by {user}"
    today = timezone.localdate()
    planned = proposal.plan["organizations"]
    existing = {str(o.pk): o for o in Organization.objects.filter(company=company, dissolved_on__isnull=True)}
    units = {str(u.pk): u for u in BusinessUnit.objects.filter(company=company)}
    rules = rules_for(proposal.rules)
    by_id: dict[str, Organization] = {}
    for p in planned:
        kind = p["kind"] if p["kind"] in CPC_KINDS else stored_kind(p["kind"], rules)
        anchor_units = [units[u] for u in p["units"] if u in units]
        org = existing.get(p["id"])
        if org is None:
            first = anchor_units[0] if anchor_units else None
            org = Organization(
                name=org_name_for(company, p, anchor_units, kind),
                kind=kind,
                anchor_kind=AnchorKind.BUSINESS_UNITS,
                company=company,
                division=first.division if first else company.division,
                founded_on=today,
                term_years=rules.term_years.get(p["kind"], 3),
                term_started_on=today,
            )
            org.term_ends_on = add_years(today, org.term_years)
        elif org.kind != kind:
            # a new kind: the name by the naming rule and a new term (issue 13, item 3)
            org.name = org_name_for(company, p, anchor_units, kind)
            org.kind = kind
            org.term_years = rules.term_years.get(p["kind"], 3)
            org.term_started_on = today
            org.term_ends_on = add_years(today, org.term_years)
        org._change_reason = reason
        org.save()
        if sorted(str(u.pk) for u in org.business_units.all()) != sorted(str(u.pk) for u in anchor_units):
            org.business_units.set(anchor_units)
            update_change_reason(org, reason)
        by_id[p["id"]] = org
    for p in planned:
        org = by_id[p["id"]]
        parent = by_id.get(p["parent"]) if p["parent"] else None
        if parent is None and org.parent_id is not None and org.parent.company_id != company.pk:
            continue  # a top organization stays under the committee (or platform) that leads it
        if org.parent_id != (parent.pk if parent else None):
            org.parent = parent
            org._change_reason = reason
            org.save(update_fields=["parent", "updated_at"])
    # members: each to their planned branch; unplaced ones to none
    target: dict[str, Organization | None] = {}
    for p in planned:
        for m in p["members"]:
            target[m] = by_id[p["id"]]
    for u in proposal.plan.get("unplaced", []):
        for m in u["members"]:
            target.setdefault(m, None)
    for ms in Membership.objects.filter(until__isnull=True, person__business_unit__company=company):
        new = target.get(str(ms.person_id), ms.organization)
        if (new.pk if new else None) != ms.organization_id:
            ms.organization = new
            ms._change_reason = reason
            ms.save()
    for oid, org in existing.items():
        if oid not in by_id:
            org.dissolved_on = today
            org._change_reason = reason
            org.save()
    proposal.decide(status=ProposalStatus.APPROVED, user=user, note=note)
    proposal.save()
    return proposal


def stored_kind(kind: str, rules: RuleSet) -> str:
    """Map a rule set's kind names onto the stored kinds (the union rule set has its own names)."""
    mapping = {
        rules.branch_kind: OrgKind.BRANCH,
        rules.joint_kind: OrgKind.JOINT_BRANCH,
        rules.general_kind: OrgKind.GENERAL_BRANCH,
        rules.secondary_kind: OrgKind.SECONDARY_COMMITTEE,
        rules.committee_kind: OrgKind.COMMITTEE,
    }
    return mapping.get(kind, OrgKind.BRANCH)


def org_name_for(company: Company, p: dict, units: list[BusinessUnit], kind: str) -> str:
    """A name in the usual form: 中共<unit>支部, 中共<unit>等N个单位联合支部, 中共<unit>总支部, 中共<unit>委员会."""
    base = units[0].name if units else str(company)
    suffix = {
        OrgKind.BRANCH: "支部",
        OrgKind.JOINT_BRANCH: "联合支部",
        OrgKind.GENERAL_BRANCH: "总支部",
        OrgKind.SECONDARY_COMMITTEE: "委员会",
        OrgKind.COMMITTEE: "委员会",
    }[kind]
    if kind == OrgKind.JOINT_BRANCH and len(units) > 1:
        base = f"{base}等{len(units)}个单位"
    part = p["id"].rsplit("-", 1)[-1] if p["id"].startswith("new:") and p["id"].rsplit("-", 1)[-1].isdigit() else ""
    return f"中共{base}{'第' + part if part else ''}{suffix}"


@dataclass
class VersionImport:
    diff: structure.BusinessDiff
    version: int | None  # None for a dry run
    people_moved: int


def business_by_key(company: Company) -> structure.Business:
    """The company's business as the planner sees it, with units named by their `key` and members by person id."""
    from xinye.people.models import Membership, Person

    rows = list(BusinessUnit.objects.filter(company=company).select_related("parent", "division", "merged_into"))
    units = [
        structure.Unit(
            u.key,
            u.parent.key if u.parent_id else None,
            u.name,
            u.kind,
            u.division.code if u.division_id else "",
            "active" if u.valid_until is None else ("merged" if u.merged_into_id else "dissolved"),
            u.merged_into.key if u.merged_into_id else None,
        )
        for u in rows
    ]
    status = dict(
        Membership.objects.filter(until__isnull=True, person__business_unit__company=company).values_list(
            "person_id", "status"
        )
    )
    members = [
        structure.Member(str(p.pk), p.business_unit.key, status.get(p.pk, "formal"))
        for p in Person.objects.filter(business_unit__company=company, pk__in=list(status)).select_related(
            "business_unit"
        )
    ]
    return structure.Business.build(units, members, file=str(company))


def may_plan(scope, company: Company) -> bool:
    """Administrators; organizers whose divisions hold the company; staff of the company's organizations."""
    if scope.is_admin:
        return True
    code = company.division.code if company.division_id else ""
    if "organizer" in scope.roles and code and any(code.startswith(p) for p in scope.division_prefixes):
        return True
    return "org_staff" in scope.roles and company.pk in scope.staff_company_ids


def business_version_import(
    *, company: Company, path, effective_on=None, dry_run: bool = False, user=None, scope=None
) -> VersionImport:
    """Import a new version of a company's business architecture from a file (the BUSINESS format of
    `xinye structure`: units by the company's own keys; members, if given, are person ids and move those
    people to their new unit). Shows what changed; unless `dry_run`, applies it in one transaction with
    history: units added, renamed, moved, dissolved or merged (kept as rows, marked with `valid_until`).

    The file can only touch people the importer already sees (`scope`, else the scope of `user`; neither:
    the command line's operator, who sees everyone): a person it moves or adds to the company must be in
    that scope, and a person of another company is never taken. Any other id is a row error naming the
    file, row, column and value, and nothing is written."""
    from xinye.algorithms import structure_io
    from xinye.people.models import Person
    from xinye.places.models import Division

    effective_on = effective_on or timezone.localdate()
    member_rows: dict = {}
    new = structure_io.load_business(path, member_rows=member_rows)
    based_on = _last_version_number(company)  # the diff below is against this version (no lost updates)
    _check_unit_kinds(new, path)
    old = business_by_key(company)
    if not new.members:
        # no roster in the file: people stay in their units where those still exist
        carried = [m for m in old.members.values() if m.unit in new.units]
        new = structure.Business.build(new.units.values(), carried, file=str(path))
    if scope is None and user is not None:
        from xinye.accounts.scope import scope_for

        scope = scope_for(user)
    moved, joined = _claimed_people(company=company, new=new, scope=scope, member_rows=member_rows, path=path)
    diff = structure.diff_business(old, new)
    # people of a unit merged now who are not in the roster follow their unit (below)
    merging = {u for m in diff.merged for u in m["units"]} | {
        k for k, u in new.units.items() if u.status != "active" and u.merged_into and old.is_active(k)
    }
    if merging:
        moved += (
            Person.objects.filter(business_unit__company=company, business_unit__key__in=merging)
            .exclude(pk__in=[int(m) for m in new.members])
            .count()
        )
    # the counts say what happens to people in the database (the planner's roster holds members only)
    diff.members_moved, diff.members_joined = moved, joined
    if dry_run:
        return VersionImport(diff, None, moved + joined)
    with transaction.atomic():
        Company.objects.select_for_update().filter(pk=company.pk).first()  # one import per company at a time
        last = company.versions.order_by("-number").first()
        if (last.number if last else 0) != based_on:
            from xinye.algorithms.errors import InputError, RowError

            raise InputError(
                [
                    RowError(
                        str(path),
                        None,
                        "version",
                        last.number if last else 0,
                        f"another business version of {company} was imported while this file was being read "
                        f"(version {based_on} became {last.number if last else 0}); import the file again",
                    )
                ]
            )
        number = (last.number if last else 0) + 1
        reason = f"business version {number}"
        from .models import BusinessVersion

        BusinessVersion.objects.create(
            company=company,
            number=number,
            effective_on=effective_on,
            note=f"imported from {getattr(path, 'name', path)}",
            summary=diff.to_json(),
        )
        by_key = {u.key: u for u in BusinessUnit.objects.filter(company=company)}
        divisions = {
            d.code: d for d in Division.objects.filter(code__in=[u.division for u in new.units.values() if u.division])
        }
        for key in new.order:  # parents first
            src = new.units[key]
            unit = by_key.get(key)
            parent = by_key.get(src.parent) if src.parent else None
            if unit is None:
                unit = BusinessUnit(company=company, key=key, since_version=number, valid_from=effective_on)
            before = _unit_state(unit)
            unit.name, unit.kind = src.name or key, src.kind or unit.kind or "team"
            unit.parent = parent
            if src.division:
                unit.division = divisions.get(src.division, unit.division)
            if src.status == "active":
                unit.valid_until, unit.until_version, unit.merged_into = None, None, None
            elif unit.valid_until is None:
                unit.valid_until, unit.until_version = effective_on, number - 1
            if unit.pk is None or _unit_state(unit) != before:
                unit._change_reason = reason
                unit.save()
            by_key[key] = unit
        merged_into = {u: m["into"] for m in diff.merged for u in m["units"]}
        for key, unit in by_key.items():
            before = _unit_state(unit)
            if key not in new.units and unit.valid_until is None:
                unit.valid_until, unit.until_version = effective_on, number - 1
            target = merged_into.get(key) or (new.units[key].merged_into if key in new.units else None)
            if target and unit.valid_until is not None:
                unit.merged_into = by_key.get(target)
            if _unit_state(unit) != before:
                unit._change_reason = reason
                unit.save()
        moved = 0
        # people of a merged unit who are not in the file's roster follow their unit
        for unit in by_key.values():
            if unit.merged_into_id and unit.valid_until == effective_on:
                for p in Person.objects.filter(business_unit=unit).exclude(pk__in=[int(m) for m in new.members]):
                    p.business_unit = unit.merged_into
                    p._change_reason = reason
                    p.save()
                    moved += 1
        people = Person.objects.in_bulk([int(m) for m in new.members])
        for m in new.members.values():
            p = people.get(int(m.id))
            if p is not None and (p.business_unit_id != by_key[m.unit].pk):
                p.business_unit = by_key[m.unit]
                p._change_reason = reason
                p.save()
                moved += 1
    return VersionImport(diff, number, moved)


def _last_version_number(company: Company) -> int:
    last = company.versions.order_by("-number").values_list("number", flat=True).first()
    return last or 0


def _claimed_people(*, company: Company, new: structure.Business, scope, member_rows: dict, path) -> tuple[int, int]:
    """(moved within the company, added to it) for the people in the file's roster; raises InputError naming
    the row of every id that is not a person of this company or one without a business unit, or that the
    import would change while it is outside the importer's scope (a scope grab, issue 10)."""
    from xinye.algorithms.errors import InputError, RowError
    from xinye.people.models import Person
    from xinye.people.selectors import person_q

    ids = {int(m) for m in new.members if re.fullmatch(r"[0-9]{1,18}", m)}
    people = {
        str(pk): (unit_company, unit_key)
        for pk, unit_company, unit_key in Person.objects.filter(pk__in=ids).values_list(
            "pk", "business_unit__company_id", "business_unit__key"
        )
    }
    changing = {
        m
        for m, (unit_company, unit_key) in people.items()
        if unit_company in (None, company.pk) and (unit_company is None or unit_key != new.members[m].unit)
    }
    visible = changing
    if scope is not None and not scope.is_admin and changing:
        visible = {
            str(pk)
            for pk in Person.objects.filter(person_q(scope), pk__in=[int(m) for m in changing]).values_list(
                "pk", flat=True
            )
        }
    errors = []
    for m in new.members:
        known = people.get(m)
        if known is not None and known[0] in (None, company.pk) and (m not in changing or m in visible):
            continue
        file, where = member_rows.get(m, (str(path), f"member {m!r}"))
        errors.append(
            RowError(
                file,
                where,
                "id",
                m,
                "not a person of this company that you may see; an import only moves people already in your "
                "scope (member ids are the person ids of the downloaded file)",
                "members" if isinstance(where, int) and str(file).lower().endswith((".xlsx", ".xlsm")) else None,
            )
        )
    if errors:
        raise InputError(errors, summary=f"{len(errors)} member id(s) refused; nothing was written")
    joined = sum(1 for m in changing if people[m][0] is None)
    return len(changing) - joined, joined


def _unit_state(u: BusinessUnit) -> tuple:
    return (u.name, u.kind, u.parent_id, u.division_id, u.valid_until, u.until_version, u.merged_into_id)


def add_years(d, years: int):
    """The same day `years` later; 29 February becomes 28 February in a year that has none."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _check_unit_kinds(business, path) -> None:
    """Row errors for unit kinds that are not one of UnitKind (a business unit stores only those)."""
    from xinye.algorithms.errors import InputError, RowError

    from .models import UnitKind

    bad = [u for u in business.units.values() if u.kind and u.kind not in UnitKind.values]
    if bad:
        raise InputError(
            [
                RowError(str(path), f"unit {u.id!r}", "kind", u.kind, f"use one of {', '.join(UnitKind.values)}")
                for u in bad[:50]
            ],
            summary=f"{len(bad)} unknown unit kind(s); nothing was written",
        )
