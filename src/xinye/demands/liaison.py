"""Liaisons on the database: which member keeps in touch with which worker, the assignment run, contacts and
contact rates. Services and selectors; every read for a page takes a `Scope`.

An assignment run covers an *area*: the members of some organizations (the branches located in a division,
or an organization's subtree) and the workers of some divisions. It snapshots them into the inputs of
`xinye.algorithms.liaison.assign` and applies the result in one transaction: pairs that changed end
(`until` = today), new ones start (`since` = today), unchanged ones are not touched, so a re-run with nothing
changed changes nothing. simple-history records every change with the run as the reason.

Who takes part in a run
-----------------------
- members: people with a current (formal or probationary) membership of one of the area's organizations;
  located at the centre of their own work cell, else at their branch's anchor (its community; else the
  division of its business units; else the division it is located in). Members without any location stay
  out (and keep their pairs as they are).
- workers: people without a current membership who have a work cell, working (work community) in the area's
  divisions, and also the workers of the run's members working elsewhere (their pair is kept while near).
  A worker whose liaison is a member outside the run stays with that member and out of the run.
- pairs the run manages: the open pairs of its members or of its workers, and open pairs of the area's
  workers that are no longer valid (the member's membership ended, the worker became a member or lost the
  work cell); a managed pair that is not in the result ends.

Quotas: each organization's `LiaisonQuota` (default 5 to 10) gives its members' capacity (the maximum). The
algorithm takes one minimum for all members (capped by each member's capacity): the run passes the largest
minimum of the organizations taking part, and reports the members below their own organization's minimum.

Who sees what (`liaison_q`): administrators all pairs; organizers the pairs of workers working in their
divisions and of members of organizations located there; secretaries and organization staff the pairs of
members of their organizations; a member their own pairs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Avg, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms import liaison as algorithm
from xinye.algorithms.geo import h3_center
from xinye.common.errors import InputError, RowError, XinyeError
from xinye.common.progress import ProgressCallback, no_progress
from xinye.organizations.models import Organization
from xinye.people.models import Membership, MembershipStatus, Person
from xinye.people.rights import processable_q
from xinye.places.models import Division, Level
from xinye.places.selectors import division_q

from .models import Contact, ContactChannel, LiaisonPair, LiaisonQuota

DEFAULT_MIN_LOAD = 5
DEFAULT_MAX_LOAD = 10
MAX_QUOTA = 50
DEFAULT_MAX_KM = 5.0
#: reasons a worker is left without a liaison (codes stored in a run's result; the pages translate them)
REASON_FAR = "far"  # no member within max_km
REASON_FULL = "full"  # every member within max_km is at capacity
REASON_NO_CELL = "no_cell"  # no work cell recorded
LISTED = 1000  # ids of new and ended pairs kept in a run's result (the counts are always complete)
_CHUNK = 500


class LiaisonError(XinyeError):
    """The run cannot be applied (the pairs changed while it ran); nothing was written."""


def _chunks(ids: Iterable[int], size: int = _CHUNK) -> Iterator[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _prefix_q(prefixes: Iterable[str], path: str) -> Q:
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(**{f"{path}__code__startswith": p})
    return q


def _minimal_prefixes(codes: Iterable[str]) -> tuple[str, ...]:
    """Division codes without those already covered by a shorter one: {"4403", "440305"} -> ("4403",)."""
    out: list[str] = []
    for c in sorted({c for c in codes if c}, key=lambda c: (len(c), c)):
        if not any(c.startswith(p) for p in out):
            out.append(c)
    return tuple(sorted(out))


# ----------------------------------------------------------------------------------------------- scope


def liaison_q(scope: Scope) -> Q:
    """Open or ended pairs the scope may see (see the module docstring)."""
    if scope.is_admin:
        return Q()
    q = division_q(scope, "worker__work_community")
    if scope.division_prefixes:
        located = Organization.objects.filter(
            _prefix_q(scope.division_prefixes, "division") | _prefix_q(scope.division_prefixes, "community")
        )
        q |= Q(member__in=Membership.objects.filter(until__isnull=True, organization__in=located).values("person_id"))
    if scope.org_ids:
        q |= Q(
            member__in=Membership.objects.filter(until__isnull=True, organization_id__in=scope.org_ids).values(
                "person_id"
            )
        )
    if scope.person_id:
        q |= Q(member_id=scope.person_id)
    return q


def liaison_division_get(*, scope: Scope, code: str) -> Division:
    """A division (above community level) the organizer oversees; else Division.DoesNotExist (a 404)."""
    division = Division.objects.select_related("parent").get(code=code)
    if division.level == Level.COMMUNITY or not (
        scope.is_admin or any(division.code.startswith(p) for p in scope.division_prefixes)
    ):
        raise Division.DoesNotExist
    return division


def overseen_organizations(scope: Scope) -> QuerySet[Organization]:
    """Organizations whose liaisons the scope runs and reads: administrators all; secretaries and
    organization staff their subtrees; organizers those located (or anchored) in their divisions."""
    qs = Organization.objects.filter(dissolved_on__isnull=True)
    if scope.is_admin:
        return qs
    return qs.filter(
        Q(pk__in=scope.org_ids)
        | _prefix_q(scope.division_prefixes, "division")
        | _prefix_q(scope.division_prefixes, "community")
    )


def liaison_organization_get(*, scope: Scope, pk: int) -> Organization:
    return overseen_organizations(scope).select_related("division", "community", "parent").get(pk=pk)


def liaison_areas(*, scope: Scope) -> dict:
    """Where the scope may run assignments: {"divisions": [...], "organizations": [...]} (the tops only)."""
    if scope.is_admin:
        codes = {c[:4] for c in Organization.objects.exclude(division=None).values_list("division__code", flat=True)}
        divisions = list(Division.objects.filter(code__in=codes).order_by("code"))
        organizations = list(
            Organization.objects.filter(dissolved_on__isnull=True, parent__isnull=True).order_by("name")
        )
    else:
        divisions = list(Division.objects.filter(code__in=scope.division_prefixes).order_by("code"))
        organizations = list(
            Organization.objects.filter(pk__in=scope.org_ids, dissolved_on__isnull=True)
            .exclude(parent_id__in=scope.org_ids)
            .order_by("name")
        )
    return {"divisions": divisions, "organizations": organizations}


# ----------------------------------------------------------------------------------------------- areas


@dataclass(frozen=True)
class Area:
    """What a run covers: the members of `organizations` and the workers of the divisions `prefixes`."""

    kind: str  # "division" or "organization"
    key: str  # division code or organization id
    label: str
    organizations: tuple[int, ...]
    prefixes: tuple[str, ...]

    @property
    def params(self) -> dict:
        return {"division_code": self.key} if self.kind == "division" else {"organization_id": int(self.key)}


def area_for_division(division: Division) -> Area:
    """The organizations located (or anchored) in the division, and its workers."""
    orgs = Organization.objects.filter(dissolved_on__isnull=True).filter(
        Q(division__code__startswith=division.code) | Q(community__code__startswith=division.code)
    )
    return Area(
        "division", division.code, division.name, tuple(sorted(orgs.values_list("pk", flat=True))), (division.code,)
    )


def area_for_organization(organization: Organization) -> Area:
    """The organization's subtree, and the workers of the divisions where its organizations are located and
    of the streets where its members work."""
    orgs = organization.descendants(include_self=True).filter(dissolved_on__isnull=True)
    ids = tuple(sorted(orgs.values_list("pk", flat=True)))
    codes = set(orgs.exclude(division=None).values_list("division__code", flat=True))
    codes |= set(orgs.exclude(community=None).values_list("community__code", flat=True))
    worked = Membership.objects.filter(
        until__isnull=True, organization_id__in=ids, person__work_community__isnull=False
    ).values_list("person__work_community__code", flat=True)
    codes |= {c[:9] for c in worked}
    return Area("organization", str(organization.pk), organization.name, ids, _minimal_prefixes(codes))


def area_from_params(*, scope: Scope | None, division_code: str = "", organization_id: int | None = None) -> Area:
    """The area of a job's parameters; with a scope, only one the scope oversees (else DoesNotExist)."""
    if division_code:
        if scope is None:
            return area_for_division(Division.objects.get(code=division_code))
        return area_for_division(liaison_division_get(scope=scope, code=division_code))
    if scope is None:
        return area_for_organization(Organization.objects.get(pk=organization_id))
    return area_for_organization(liaison_organization_get(scope=scope, pk=int(organization_id or 0)))


# ----------------------------------------------------------------------------------------------- snapshot


@dataclass
class Snapshot:
    """The inputs of a run, read from the database."""

    members: list[algorithm.Member] = field(default_factory=list)
    member_org: dict[int, int] = field(default_factory=dict)  # person id -> organization id
    members_without_location: list[int] = field(default_factory=list)
    workers: list[algorithm.Worker] = field(default_factory=list)
    workers_without_cell: list[int] = field(default_factory=list)
    paired_elsewhere: int = 0  # workers of the area whose liaison is a member outside the run
    managed: dict[int, tuple[int, int]] = field(default_factory=dict)  # open pair id -> (member, worker)
    quotas: dict[int, tuple[int, int]] = field(default_factory=dict)  # organization id -> (min, max)

    @property
    def existing(self) -> list[tuple[int, int]]:
        """Managed pairs between a member and a worker of the run (the algorithm's existing pairs)."""
        m = {int(x.id) for x in self.members}
        w = {int(x.id) for x in self.workers}
        return sorted((a, b) for a, b in self.managed.values() if a in m and b in w)

    def quota_of(self, person_id: int) -> tuple[int, int]:
        return self.quotas.get(self.member_org[person_id], (DEFAULT_MIN_LOAD, DEFAULT_MAX_LOAD))


def quotas_for(org_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    ids = list(org_ids)
    found = {q.organization_id: (q.min_load, q.max_load) for q in LiaisonQuota.objects.filter(organization_id__in=ids)}
    return {i: found.get(i, (DEFAULT_MIN_LOAD, DEFAULT_MAX_LOAD)) for i in ids}


class _Anchors:
    """Where a branch is, for members without a work cell: its community, else the division of one of its
    business units, else the division it is located in. A division without coordinates of its own is placed
    at the mean of its communities."""

    def __init__(self) -> None:
        self._division: dict[str, tuple[float, float] | None] = {}
        self._org: dict[int, tuple[float, float] | None] = {}

    def division(self, d: Division | None) -> tuple[float, float] | None:
        if d is None:
            return None
        if d.code not in self._division:
            if d.lat is not None and d.lon is not None:
                point = (d.lat, d.lon)
            else:
                avg = Division.objects.filter(
                    level=Level.COMMUNITY, code__startswith=d.code, lat__isnull=False, lon__isnull=False
                ).aggregate(lat=Avg("lat"), lon=Avg("lon"))
                point = (avg["lat"], avg["lon"]) if avg["lat"] is not None else None
            self._division[d.code] = point
        return self._division[d.code]

    def organization(self, org: Organization) -> tuple[float, float] | None:
        if org.pk not in self._org:
            point = self.division(org.community)
            if point is None:
                for unit in org.business_units.exclude(division=None).select_related("division").order_by("pk"):
                    point = self.division(unit.division)
                    if point is not None:
                        break
            if point is None:
                point = self.division(org.division)
            self._org[org.pk] = point
        return self._org[org.pk]


def _platforms(people: QuerySet | Iterable[int]) -> dict[int, tuple[str, ...]]:
    through = Person.platforms.through
    out: dict[int, list[str]] = defaultdict(list)
    if isinstance(people, QuerySet):
        rows = through.objects.filter(person__in=people).values_list("person_id", "company_id")
    else:
        rows = [
            r
            for ids in _chunks(people)
            for r in through.objects.filter(person_id__in=ids).values_list("person_id", "company_id")
        ]
    for pid, cid in rows:
        out[pid].append(str(cid))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _current_members() -> QuerySet:
    """Person ids of everyone with a current membership (they are not workers to keep in touch with)."""
    return Membership.objects.filter(until__isnull=True).values("person_id")


def _liaison_capable() -> QuerySet:
    """Person ids of current members of an organization (who may keep in touch with workers)."""
    return Membership.objects.filter(
        until__isnull=True,
        organization__isnull=False,
        status__in=[MembershipStatus.FORMAL, MembershipStatus.PROBATIONARY],
    ).values("person_id")


def liaison_snapshot(area: Area) -> Snapshot:
    snap = Snapshot()
    snap.quotas = quotas_for(area.organizations)
    anchors = _Anchors()
    memberships = (
        Membership.objects.filter(
            until__isnull=True,
            organization_id__in=area.organizations,
            status__in=[MembershipStatus.FORMAL, MembershipStatus.PROBATIONARY],
        )
        .select_related("person", "organization__community", "organization__division")
        .order_by("person_id", "-since", "-pk")
    )
    chosen: dict[int, Membership] = {}
    for m in memberships:
        chosen.setdefault(m.person_id, m)
    member_platforms = _platforms(chosen.keys())
    for pid, m in chosen.items():
        p = m.person
        point = h3_center(p.work_cell) if p.work_cell is not None else anchors.organization(m.organization)
        if point is None:
            snap.members_without_location.append(pid)
            continue
        _low, high = snap.quotas[m.organization_id]
        snap.members.append(
            algorithm.Member(str(pid), point[0], point[1], p.occupation, member_platforms.get(pid, ()), capacity=high)
        )
        snap.member_org[pid] = m.organization_id
    located = {int(x.id) for x in snap.members}
    in_run = set(chosen)

    area_people = Person.objects.filter(_prefix_q(area.prefixes, "work_community"))
    # the open pairs that concern the run: of its members, or of the area's people
    pairs = (
        LiaisonPair.objects.filter(until__isnull=True)
        .filter(Q(worker__in=area_people) | Q(member__in=memberships.values("person_id")))
        .annotate(
            member_ok=Exists(_liaison_capable().filter(person_id=OuterRef("member_id"))),
            worker_is_member=Exists(_current_members().filter(person_id=OuterRef("worker_id"))),
        )
        .values_list("pk", "member_id", "worker_id", "member_ok", "worker_is_member", "worker__work_cell")
    )
    pair_rows = list(pairs)
    # people who withdrew consent or were erased are not processed (xinye.people.rights)
    area_workers = (
        area_people.filter(work_cell__isnull=False).filter(processable_q()).exclude(pk__in=_current_members())
    )
    workers = {pid: (cell, occ) for pid, cell, occ in area_workers.values_list("pk", "work_cell", "occupation")}
    in_area = set(workers)
    elsewhere: set[int] = set()
    for _pk, member, worker, member_ok, worker_is_member, cell in pair_rows:
        if worker_is_member or cell is None:
            continue
        if member in located:
            if worker not in workers:
                workers[worker] = None  # a worker of the run's member, working outside the area: fetched below
        elif member_ok and worker in in_area:
            elsewhere.add(worker)  # another member's (outside the run, or without a location): left alone
    outside = [w for w, v in workers.items() if v is None]
    for ids in _chunks(outside):
        for pid, cell, occ in (
            Person.objects.filter(pk__in=ids).filter(processable_q()).values_list("pk", "work_cell", "occupation")
        ):
            workers[pid] = (cell, occ)
    for w in [w for w, v in workers.items() if v is None]:
        workers.pop(w)  # withdrew consent: left out (their pair ends as not in the result)
    outside = [w for w in outside if w in workers]
    for w in elsewhere:
        workers.pop(w, None)
    snap.paired_elsewhere = len(elsewhere)
    worker_platforms = _platforms(area_workers)
    worker_platforms.update(_platforms(outside))
    for pid in sorted(workers):
        cell, occ = workers[pid]
        lat, lon = h3_center(cell)
        snap.workers.append(algorithm.Worker(str(pid), lat, lon, occ, worker_platforms.get(pid, ())))
    snap.workers_without_cell = sorted(
        area_people.filter(work_cell__isnull=True)
        .filter(processable_q())
        .exclude(pk__in=_current_members())
        .values_list("pk", flat=True)
    )

    run_workers = set(workers)
    for pk, member, worker, member_ok, worker_is_member, cell in pair_rows:
        if member in located or worker in run_workers:
            snap.managed[pk] = (member, worker)
        elif member not in in_run and (not member_ok or worker_is_member or cell is None):
            # a pair of the area's worker (selected by the worker) that is no longer valid: the member's
            # membership ended, or the worker became a member or has no work cell any more
            snap.managed[pk] = (member, worker)
    return snap


def area_in_scope(scope: Scope, area: Area) -> bool:
    """Whether the scope may see the area's workers one by one: administrators, and organizers whose divisions
    contain the whole area. Anyone else (secretaries and staff of an organization area) sees the members and
    their pairs but not the other workers, so counts of those are suppressed below 5 (common.disclosure)."""
    if scope.is_admin:
        return True
    return bool(scope.division_prefixes) and all(
        any(code.startswith(p) for p in scope.division_prefixes) for code in area.prefixes
    )


#: counts of an area's workers (not members, not pairs): suppressed below 5 outside the scope
WORKER_COUNTS = ("without_liaison", "paired_elsewhere", "workers_without_cell")


def area_counts_shown(counts: dict, *, in_scope: bool) -> dict:
    """`area_counts` as the page may show them (see `area_in_scope`)."""
    from xinye.common.disclosure import round_total, suppress_small

    out = dict(counts)
    for key in WORKER_COUNTS:
        out[key] = suppress_small(counts[key], in_scope=in_scope)
    # workers = pairs (seen) + workers without a liaison: exact, it would give the hidden part away
    out["workers"] = round_total(
        counts["workers"], in_scope=in_scope, part_hidden=out["without_liaison"] != counts["without_liaison"]
    )
    return out


def area_counts(area: Area) -> dict:
    """Numbers for the area's page: members, workers, pairs, workers without a liaison."""
    snap = liaison_snapshot(area)
    existing = snap.existing
    return {
        "members": len(snap.members) + len(snap.members_without_location),
        "members_without_location": len(snap.members_without_location),
        "workers": len(snap.workers),
        "pairs": len(existing),
        "without_liaison": len(snap.workers) - len(existing),
        "paired_elsewhere": snap.paired_elsewhere,
        "workers_without_cell": len(snap.workers_without_cell),
    }


# ----------------------------------------------------------------------------------------------- run


def _reason_code(reason: str) -> str:
    if reason.startswith("no member"):
        return REASON_FAR
    if reason.startswith("all members"):
        return REASON_FULL
    return reason


def liaison_assign_run(
    *,
    area: Area,
    user=None,
    max_km: float = DEFAULT_MAX_KM,
    progress: ProgressCallback = no_progress,
    today: date | None = None,
    reason: str = "liaison assignment",
) -> dict:
    """Assign the area's workers to its members and apply the result in one transaction. Returns the result
    (JSON-ready): counts of kept, new and ended pairs (and the ids of the first `LISTED` new and ended ones),
    the workers left without a liaison by reason ({"far": [ids], "full": [...], "no_cell": [...]}), the
    members' load histogram. Raises LiaisonError when the pairs changed while it ran (nothing is written)."""
    today = today or timezone.localdate()
    progress("snapshot", 0, 1)
    snap = liaison_snapshot(area)
    progress("snapshot", 1, 1)
    mins = [snap.quota_of(int(m.id))[0] for m in snap.members]
    maxes = [snap.quota_of(int(m.id))[1] for m in snap.members]
    result = algorithm.assign(
        snap.members,
        snap.workers,
        min_load=max(mins, default=DEFAULT_MIN_LOAD),
        max_load=max(maxes, default=DEFAULT_MAX_LOAD),
        max_km=max_km,
        existing=[(str(m), str(w)) for m, w in snap.existing],
        progress=progress,
    )
    wanted = {(int(p.member), int(p.worker)) for p in result.pairs}
    managed = snap.managed
    have = {mw: pk for pk, mw in managed.items()}
    to_end = sorted(pk for pk, mw in managed.items() if mw not in wanted)
    to_create = sorted(wanted - set(have))
    kept = len(wanted) - len(to_create)
    progress("saving", 0, 1)
    with transaction.atomic():
        # refuse when the pairs changed while the run was computing (another run, a manual change)
        still = set()
        for ids in _chunks(managed):
            still.update(LiaisonPair.objects.filter(pk__in=ids, until__isnull=True).values_list("pk", flat=True))
        taken: set[int] = set()  # open pairs of workers about to be paired that the run does not end
        for ids in _chunks({w for _m, w in to_create}):
            taken.update(LiaisonPair.objects.filter(worker_id__in=ids, until__isnull=True).values_list("pk", flat=True))
        taken -= set(to_end)
        if still != set(managed) or taken:
            raise LiaisonError("the liaison pairs changed while the assignment ran; nothing was changed, run it again")
        now = timezone.now()
        ended = []
        for ids in _chunks(to_end):
            for pair in LiaisonPair.objects.filter(pk__in=ids):
                pair.until, pair.updated_at = today, now
                ended.append(pair)
        from simple_history.utils import bulk_create_with_history, bulk_update_with_history

        if ended:
            bulk_update_with_history(
                ended,
                LiaisonPair,
                ["until", "updated_at"],
                batch_size=500,
                default_user=user,
                default_change_reason=reason,
            )
        created = bulk_create_with_history(
            [LiaisonPair(member_id=m, worker_id=w, since=today) for m, w in to_create],
            LiaisonPair,
            batch_size=500,
            default_user=user,
            default_change_reason=reason,
        )
    progress("saving", 1, 1)

    load = Counter(int(p.member) for p in result.pairs)
    below_min = sum(
        1 for m in snap.members if load[int(m.id)] < min(snap.quota_of(int(m.id))[0], snap.quota_of(int(m.id))[1])
    )
    unassigned: dict[str, list[int]] = defaultdict(list)
    for u in result.unassigned:
        unassigned[_reason_code(u.reason)].append(int(u.worker))
    if snap.workers_without_cell:
        unassigned[REASON_NO_CELL] = list(snap.workers_without_cell)
    created_ids = sorted(p.pk for p in created if p.pk) if created else []
    stats = result.stats
    return {
        "area": area.params,
        "label": area.label,
        "on": today.isoformat(),
        "max_km": max_km,
        "members": len(snap.members),
        "members_without_location": len(snap.members_without_location),
        "workers": len(snap.workers),
        "paired_elsewhere": snap.paired_elsewhere,
        "pairs": len(wanted),
        "kept": kept,
        "new": len(to_create),
        "ended": len(to_end),
        "new_ids": created_ids[:LISTED],
        "ended_ids": to_end[:LISTED],
        "unassigned": {reason: sorted(ids) for reason, ids in sorted(unassigned.items())},  # reason -> worker ids
        "unassigned_count": sum(len(ids) for ids in unassigned.values()),
        "load_histogram": {str(k): v for k, v in sorted(Counter(load[int(m.id)] for m in snap.members).items())},
        "members_below_min": below_min,
        "mean_distance_m": stats.get("mean_distance_m", 0.0),
        "same_occupation": stats.get("same_occupation", 0),
    }


# ----------------------------------------------------------------------------------------------- quotas


def quota_set(*, organization: Organization, min_load: int, max_load: int, user=None) -> LiaisonQuota:
    """Set how many workers each member of the organization keeps in touch with (0 <= min <= max <= 50)."""
    errors = []
    if not 0 <= min_load <= MAX_QUOTA:
        errors.append(RowError("quota", None, "min_load", min_load, f"must be between 0 and {MAX_QUOTA}"))
    if not 0 <= max_load <= MAX_QUOTA:
        errors.append(RowError("quota", None, "max_load", max_load, f"must be between 0 and {MAX_QUOTA}"))
    if not errors and min_load > max_load:
        errors.append(RowError("quota", None, "max_load", max_load, "must not be below the minimum"))
    if errors:
        raise InputError(errors, summary="bad quota; nothing was changed")
    quota = LiaisonQuota.objects.filter(organization=organization).first() or LiaisonQuota(organization=organization)
    if quota.pk and (quota.min_load, quota.max_load) == (min_load, max_load):
        return quota
    quota.min_load, quota.max_load = min_load, max_load
    quota._history_user = user
    quota.save()
    return quota


def quota_rows(area: Area) -> list[dict]:
    """The area's organizations that have current members, with their quota and member count."""
    counts = Counter(
        Membership.objects.filter(until__isnull=True, organization_id__in=area.organizations).values_list(
            "organization_id", flat=True
        )
    )
    quotas = quotas_for(counts)
    orgs = Organization.objects.filter(pk__in=list(counts)).order_by("name")
    return [
        {"organization": o, "members": counts[o.pk], "min_load": quotas[o.pk][0], "max_load": quotas[o.pk][1]}
        for o in orgs
    ]


# ----------------------------------------------------------------------------------------------- contacts


def _latest_contact() -> QuerySet:
    return Contact.objects.filter(member_id=OuterRef("member_id"), worker_id=OuterRef("worker_id")).order_by(
        "-on", "-pk"
    )


def open_pairs(member_ids: QuerySet | Iterable[int]) -> QuerySet[LiaisonPair]:
    """Open pairs of these members, with the member's last contact with the worker and its follow-up date."""
    latest = _latest_contact()
    return (
        LiaisonPair.objects.filter(until__isnull=True, member_id__in=member_ids)
        .filter(processable_q("worker__"))
        .annotate(
            last_on=Subquery(latest.values("on")[:1]),
            last_channel=Subquery(latest.values("channel")[:1]),
            next_on=Subquery(latest.values("follow_up_on")[:1]),
        )
        .select_related("worker__work_community")
    )


def _needs_contact_key(pair, today: date) -> tuple:
    """Overdue follow-ups first (the oldest first), then follow-ups by date, then workers never contacted,
    then the longest without contact."""
    if pair.next_on is not None and pair.next_on < today:
        return (0, pair.next_on.toordinal(), pair.worker.name, pair.worker_id)
    if pair.next_on is not None:
        return (1, pair.next_on.toordinal(), pair.worker.name, pair.worker_id)
    if pair.last_on is None:
        return (2, 0, pair.worker.name, pair.worker_id)
    return (3, pair.last_on.toordinal(), pair.worker.name, pair.worker_id)


def my_workers(*, scope: Scope, today: date | None = None) -> list[dict]:
    """The scope's own workers (as a member), overdue follow-ups first; phones masked unless the scope sees
    full phones."""
    if not scope.person_id:
        return []
    today = today or timezone.localdate()
    pairs = sorted(open_pairs([scope.person_id]), key=lambda p: _needs_contact_key(p, today))
    return [
        {
            "pair": p,
            "worker": p.worker,
            "phone": policy.phone_for(scope, p.worker),
            "phone_full": policy.sees_full_phone(scope),
            "last_on": p.last_on,
            "last_channel": ContactChannel(p.last_channel).label if p.last_channel else "",
            "next_on": p.next_on,
            "overdue": p.next_on is not None and p.next_on < today,
        }
        for p in pairs
    ]


def my_worker_get(*, scope: Scope, worker_id: int) -> LiaisonPair:
    """The scope's open pair with this worker; LiaisonPair.DoesNotExist (a 404) for anyone else's worker."""
    if not scope.person_id:
        raise LiaisonPair.DoesNotExist
    return (
        LiaisonPair.objects.filter(until__isnull=True, member_id=scope.person_id, worker_id=worker_id)
        .filter(processable_q("worker__"))
        .select_related("worker__work_community", "member")
        .get()
    )


def my_contacts(*, scope: Scope, worker_id: int) -> QuerySet[Contact]:
    return Contact.objects.filter(member_id=scope.person_id or 0, worker_id=worker_id).order_by("-on", "-pk")


def contact_record(
    *,
    scope: Scope,
    worker_id: int,
    on: date,
    channel: str,
    note: str = "",
    follow_up_on: date | None = None,
    user=None,
    today: date | None = None,
) -> Contact:
    """Record the member's contact with one of their workers. Raises LiaisonPair.DoesNotExist for a worker
    who is not theirs, InputError for bad values (nothing is written)."""
    pair = my_worker_get(scope=scope, worker_id=worker_id)
    today = today or timezone.localdate()
    note = (note or "").strip()
    errors = []
    if on > today:
        errors.append(RowError("contact", None, "on", on, "a contact cannot be in the future"))
    if channel not in ContactChannel.values:
        errors.append(RowError("contact", None, "channel", channel, "unknown channel"))
    if len(note) > 500:
        errors.append(RowError("contact", None, "note", len(note), "at most 500 characters"))
    if follow_up_on is not None and follow_up_on < on:
        errors.append(
            RowError("contact", None, "follow_up_on", follow_up_on, "the follow-up cannot be before the contact")
        )
    if errors:
        raise InputError(errors, summary="the contact was not recorded")
    from xinye.people.services import member_heard_from

    member_heard_from(pair.member_id, on)  # the member is in touch: "lost contact" clears
    return Contact.objects.create(
        member_id=pair.member_id,
        worker_id=pair.worker_id,
        on=on,
        channel=channel,
        note=note,
        follow_up_on=follow_up_on,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )


def branch_contact_rates(*, organization: Organization, today: date | None = None) -> dict:
    """Per current member of the organization's subtree: workers, contacts in the last 30 and 90 days, the
    contact rate (share of their workers contacted in the last 30 days) and overdue follow-ups; and totals.
    The caller checks the scope (`liaison_organization_get`)."""
    today = today or timezone.localdate()
    since30, since90 = today - timedelta(days=30), today - timedelta(days=90)
    org_ids = organization.descendants(include_self=True).values("pk")
    memberships = (
        Membership.objects.filter(until__isnull=True, organization_id__in=org_ids)
        .select_related("person", "organization")
        .order_by("person__name", "person_id", "-since")
    )
    members: dict[int, Membership] = {}
    for m in memberships:
        members.setdefault(m.person_id, m)
    stats = {pid: {"workers": 0, "contacted": 0, "overdue": 0, "c30": 0, "c90": 0} for pid in members}
    member_ids = memberships.values("person_id")
    pairs = list(open_pairs(member_ids))
    recent: set[tuple[int, int]] = set()
    for member, worker, on in Contact.objects.filter(
        member_id__in=member_ids, on__gte=since90, on__lte=today
    ).values_list("member_id", "worker_id", "on"):
        s = stats[member]
        s["c90"] += 1
        if on >= since30:
            s["c30"] += 1
            recent.add((member, worker))
    for p in pairs:
        s = stats[p.member_id]
        s["workers"] += 1
        s["contacted"] += (p.member_id, p.worker_id) in recent
        s["overdue"] += p.next_on is not None and p.next_on < today
    rows = []
    for pid, m in members.items():
        s = stats[pid]
        rows.append(
            {
                "member": m.person,
                "organization": m.organization,
                **s,
                "rate": s["contacted"] / s["workers"] if s["workers"] else None,
            }
        )
    total = {k: sum(r[k] for r in rows) for k in ("workers", "contacted", "overdue", "c30", "c90")}
    total["rate"] = total["contacted"] / total["workers"] if total["workers"] else None
    total["members"] = len(rows)
    return {"rows": rows, "total": total}
