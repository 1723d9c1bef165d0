"""Community-based branches for mobile workers (couriers, delivery riders). Pure Python + numpy/scipy.

Members who work around residential communities are grouped into branches, each a connected set of
neighbouring communities anchored at one of them (its community Party-mass service centre), with at
least `floor` formal members and at most `cap` members, and every member within the work radius of the
anchor where possible. Coordinates are WGS-84 (lat, lon) in degrees; distances are metres on a local
equirectangular projection (accurate to well under 1 % across a city).

Method (a max-p-regions heuristic, after Duque, Anselin and Rey 2012, made to respect a cap and a radius):

1. Neighbourhood: a Delaunay triangulation of the communities that have members, keeping edges no longer
   than `max_edge_km` (default twice the largest work radius); fewer than three or collinear points fall
   back to nearest neighbours.
2. Existing branches that are still valid (connected, floor, cap) are kept with their ids.
3. Growth: a community with `floor` formal members or more is a branch on its own (split into balanced
   parts when over the cap). Other communities seed regions, most constrained first (fewest free
   neighbours); a region grows by the nearest free neighbour (same street first, then distance to the
   seed, within the seed's work radius) until it reaches the floor without passing the cap.
4. Enclaves: communities left over join the adjacent branch with room (same street first, nearest anchor).
   What still fits nowhere is reported per member with the reason and a suggestion.
5. Anchor: the community of the region that minimises the members' total distance to it (a 1-median).

Objective, in order: as many branches as the floor allows (closer to workers), then compactness (the
total member-to-anchor distance, reported in `stats`).

References
----------
Duque, J. C., Anselin, L., & Rey, S. J. (2012). The max-p-regions problem. Journal of Regional Science,
52(3), 397-419. Regulations on the Work of Party Branches (trial, 2018), art. 4 (floor 3, cap 50).

Examples
--------
>>> cs = [Community(f"c{i}", 22.5, 114.0 + 0.005 * i, "s1") for i in range(4)]
>>> ms = [Member(f"m{i}", f"c{i % 4}", "formal") for i in range(8)]
>>> p = form_branches(cs, ms, floor=3, cap=50)
>>> [(b.anchor, b.communities, len(b.members)) for b in p.branches]
[('c0', ('c0', 'c1'), 4), ('c2', ('c2', 'c3'), 4)]
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .errors import InputError, RowError
from .geo import EARTH_RADIUS_M, haversine_m
from .tabular import read_csv_rows

Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class Community:
    code: str
    lat: float
    lon: float
    street: str = ""


@dataclass(frozen=True)
class Member:
    id: str
    community: str
    status: str = "formal"
    occupation: str = ""


@dataclass
class Branch:
    id: str
    anchor: str
    communities: tuple[str, ...]
    members: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "anchor": self.anchor,
            "communities": list(self.communities),
            "members": list(self.members),
        }


#: English texts of why members fit no branch: (reason, suggestion) templates over an entry's `params`, keyed
#: by its `text`. The web pages translate the same templates (xinye.organizations.findings.UNPLACED_TEMPLATES).
UNPLACED_MESSAGES: dict[str, tuple[str, str]] = {
    "isolated": (
        "isolated: no other community with members within {km} km",
        "join the branch of the community where the member lives, or a joint branch of the street",
    ),
    "neighbours_full": (
        "fewer than {floor} formal members within reach, and the neighbouring branches are full",
        "join a neighbouring street's branch, or set up a joint branch",
    ),
    "too_few_nearby": (
        "fewer than {floor} formal members among the neighbouring communities within the work radius",
        "join a neighbouring street's branch, or a joint branch",
    ),
}


@dataclass
class BranchPlan:
    branches: list[Branch]
    unplaced: list[dict]
    stats: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"branches": [b.to_json() for b in self.branches], "unplaced": self.unplaced, "stats": self.stats}


class _City:
    """Communities with members, projected to metres, with their neighbour graph."""

    def __init__(self, communities: dict[str, Community], members: dict[str, Member], max_edge_m: float):
        self.all = communities
        by_comm: dict[str, list[str]] = defaultdict(list)
        for m in members.values():
            by_comm[m.community].append(m.id)
        self.codes = sorted(by_comm)
        self.index = {c: i for i, c in enumerate(self.codes)}
        n = len(self.codes)
        lat = np.array([communities[c].lat for c in self.codes], dtype=float)
        lon = np.array([communities[c].lon for c in self.codes], dtype=float)
        lat0 = math.radians(float(lat.mean())) if n else 0.0
        self.xy = np.column_stack([np.radians(lon) * math.cos(lat0), np.radians(lat)]) * EARTH_RADIUS_M
        self.members = [sorted(by_comm[c]) for c in self.codes]
        self.formal = np.array([sum(members[m].status == "formal" for m in by_comm[c]) for c in self.codes], dtype=int)
        self.total = np.array([len(by_comm[c]) for c in self.codes], dtype=int)
        self.street = [communities[c].street for c in self.codes]
        self.neighbours = self._graph(max_edge_m)

    def dist(self, i: int, j: int) -> float:
        d = self.xy[i] - self.xy[j]
        return float(math.hypot(d[0], d[1]))

    def _graph(self, max_edge_m: float) -> list[list[int]]:
        n = len(self.codes)
        nb: list[set[int]] = [set() for _ in range(n)]
        if n < 2:
            return [[] for _ in range(n)]
        edges: Iterable[tuple[int, int]]
        try:
            if n < 3:
                raise ValueError("too few points for a triangulation")
            from scipy.spatial import Delaunay

            tri = Delaunay(self.xy)
            indptr, indices = tri.vertex_neighbor_vertices
            edges = ((i, int(j)) for i in range(n) for j in indices[indptr[i] : indptr[i + 1]])
        except Exception:  # collinear or too few points (QhullError): nearest neighbours instead
            from scipy.spatial import cKDTree

            k = min(n, 7)
            _, idx = cKDTree(self.xy).query(self.xy, k=k)
            edges = ((i, int(j)) for i in range(n) for j in np.atleast_1d(idx[i])[1:])
        for i, j in edges:
            if i != j and self.dist(i, j) <= max_edge_m:
                nb[i].add(j)
                nb[j].add(i)
        return [sorted(s) for s in nb]


def _validate(communities: Sequence[Community], members: Sequence[Member], file_c: str, file_m: str):
    errors: list[RowError] = []
    cs: dict[str, Community] = {}
    for i, c in enumerate(communities):
        where = f"communities[{i}] (code {c.code!r})"
        if not c.code:
            errors.append(RowError(file_c, f"communities[{i}]", "code", c.code, "a community needs a code"))
        elif c.code in cs:
            errors.append(RowError(file_c, where, "code", c.code, "duplicate community code"))
        elif not (-90 <= c.lat <= 90 and -180 <= c.lon <= 180) or math.isnan(c.lat) or math.isnan(c.lon):
            errors.append(RowError(file_c, where, "lat/lon", f"{c.lat},{c.lon}", "not a WGS-84 latitude/longitude"))
        else:
            cs[c.code] = c
    ms: dict[str, Member] = {}
    for i, m in enumerate(members):
        where = f"members[{i}] (id {m.id!r})"
        if not m.id:
            errors.append(RowError(file_m, f"members[{i}]", "id", m.id, "a member needs an id"))
        elif m.id in ms:
            errors.append(RowError(file_m, where, "id", m.id, "duplicate member id"))
        elif m.community not in cs:
            errors.append(RowError(file_m, where, "community", m.community, "member in an unknown community"))
        elif m.status not in ("formal", "probationary"):
            errors.append(RowError(file_m, where, "status", m.status, "status must be formal or probationary"))
        else:
            ms[m.id] = m
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in the input; nothing was written")
    return cs, ms


def form_branches(
    communities: Sequence[Community],
    members: Sequence[Member],
    *,
    floor: int = 3,
    cap: int = 50,
    radius_km: float = 3.0,
    radius_by_occupation: dict[str, float] | None = None,
    max_edge_km: float | None = None,
    existing: Sequence[Branch] = (),
    progress: Progress = _noop,
    files: tuple[str, str] = ("communities", "members"),
) -> BranchPlan:
    """Group communities with members into branches; see the module docstring."""
    if floor < 1 or cap < floor:
        raise InputError([RowError("--floor/--cap", None, None, f"{floor}/{cap}", "need 1 <= floor <= cap")])
    cs, ms = _validate(communities, members, *files)
    radii = dict(radius_by_occupation or {})
    max_radius_m = 1000.0 * max([radius_km, *radii.values()])
    edge_m = 1000.0 * max_edge_km if max_edge_km else 2.0 * max_radius_m
    city = _City(cs, ms, edge_m)
    progress("neighbourhood", 1, 4)
    n = len(city.codes)
    # a community's radius: the smallest radius among its members' occupations (they must all reach it)
    radius_m = np.full(n, 1000.0 * radius_km)
    for i in range(n):
        occ = {ms[m].occupation for m in city.members[i]}
        rs = [radii[o] for o in occ if o in radii]
        if rs:
            radius_m[i] = 1000.0 * min(rs)
    region = np.full(n, -1, dtype=int)  # index into `groups`
    groups: list[list[int]] = []
    kept_ids: list[str | None] = []
    parts: list[list[list[str]] | None] = []  # member lists when a single community is split

    # 1. existing branches that are still valid
    for b in existing:
        idx = [city.index[c] for c in b.communities if c in city.index]
        if not idx or any(region[i] >= 0 for i in idx) or not _connected(idx, city.neighbours):
            continue
        f, t = int(city.formal[idx].sum()), int(city.total[idx].sum())
        if f >= floor and t <= cap:
            for i in idx:
                region[i] = len(groups)
            groups.append(sorted(idx))
            kept_ids.append(b.id)
            parts.append(None)

    # 2. communities big enough on their own
    for i in np.argsort(-city.formal, kind="stable"):
        i = int(i)
        if region[i] >= 0 or city.formal[i] < floor:
            continue
        region[i] = len(groups)
        groups.append([i])
        kept_ids.append(None)
        if city.total[i] > cap:
            k = max(1, min(math.ceil(city.total[i] / cap), int(city.formal[i]) // floor))
            parts.append(_balanced(city.members[i], ms, k))
        else:
            parts.append(None)
    progress("growth", 2, 4)

    # 3. grow regions from the most constrained free communities
    def free_degree(i: int) -> int:
        return sum(1 for j in city.neighbours[i] if region[j] < 0)

    seeds = sorted((i for i in range(n) if region[i] < 0), key=lambda i: (free_degree(i), -city.formal[i], i))
    for seed in seeds:
        if region[seed] >= 0:
            continue
        members_f, members_t = int(city.formal[seed]), int(city.total[seed])
        chosen = [seed]
        taken = {seed}
        heap: list[tuple[bool, float, int]] = []
        _push_free_neighbours(city, region, seed, seed, taken, heap)
        while members_f < floor and heap:
            _, d, j = heapq.heappop(heap)
            if j in taken or region[j] >= 0:
                continue
            if d > min(radius_m[seed], radius_m[j]) or members_t + city.total[j] > cap:
                continue
            chosen.append(j)
            taken.add(j)
            members_f += int(city.formal[j])
            members_t += int(city.total[j])
            _push_free_neighbours(city, region, seed, j, taken, heap)
        if members_f >= floor:
            for i in chosen:
                region[i] = len(groups)
            groups.append(sorted(chosen))
            kept_ids.append(None)
            parts.append(None)
    progress("enclaves", 3, 4)

    # 4. enclaves join an adjacent branch with room, until nothing moves
    totals = [int(city.total[g].sum()) for g in groups]
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if region[i] >= 0:
                continue
            options = []
            for j in city.neighbours[i]:
                g = region[j]
                if g >= 0 and parts[g] is None and totals[g] + city.total[i] <= cap:
                    options.append((city.street[j] != city.street[i], city.dist(i, j), g))
            if options:
                _, _, g = min(options)
                region[i] = g
                groups[g].append(i)
                totals[g] += int(city.total[i])
                changed = True

    # 5. anchors, ids, unplaced
    branches: list[Branch] = []
    total_distance = 0.0
    beyond = 0
    used_ids = set(kept_ids) - {None}
    for g, idx in enumerate(groups):
        idx = sorted(idx)
        anchor = _one_median(idx, city)
        comms = tuple(city.codes[i] for i in idx)
        for i in idx:
            d = city.dist(i, anchor)
            total_distance += d * int(city.total[i])
            if d > radius_m[i]:
                beyond += int(city.total[i])
        member_lists = parts[g] or [[m for i in idx for m in city.members[i]]]
        for k, mlist in enumerate(member_lists, start=1):
            bid = kept_ids[g] if kept_ids[g] and len(member_lists) == 1 else None
            if bid is None:
                base = f"new:{city.codes[anchor]}" + (f"-{k}" if len(member_lists) > 1 else "")
                bid, suffix = base, 1
                while bid in used_ids:
                    suffix += 1
                    bid = f"{base}-{suffix}"
                used_ids.add(bid)
            branches.append(Branch(bid, city.codes[anchor], comms, tuple(sorted(mlist))))
    unplaced = []
    for i in range(n):
        if region[i] >= 0:
            continue
        near = [j for j in city.neighbours[i] if region[j] >= 0]
        if not city.neighbours[i]:
            text, params = "isolated", {"km": f"{edge_m / 1000:.1f}"}
        elif near:
            text, params = "neighbours_full", {"floor": str(floor)}
        else:
            text, params = "too_few_nearby", {"floor": str(floor)}
        reason, suggestion = (t.format(**params) for t in UNPLACED_MESSAGES[text])
        for m in city.members[i]:
            unplaced.append(
                {
                    "member": m,
                    "community": city.codes[i],
                    "reason": reason,
                    "suggestion": suggestion,
                    "text": text,
                    "params": params,
                }
            )
    branches.sort(key=lambda b: b.id)
    placed = sum(len(b.members) for b in branches)
    stats = {
        "communities": len(cs),
        "communities_with_members": n,
        "members": len(ms),
        "branches": len(branches),
        "kept": sum(1 for b in branches if not b.id.startswith("new:")),
        "placed": placed,
        "unplaced": len(unplaced),
        "members_beyond_radius": beyond,
        "mean_distance_to_anchor_m": round(total_distance / placed, 1) if placed else 0.0,
        "floor": floor,
        "cap": cap,
        "radius_km": radius_km,
    }
    progress("done", 4, 4)
    return BranchPlan(branches, unplaced, stats)


def _push_free_neighbours(city: _City, region: np.ndarray, seed: int, i: int, taken: set[int], heap: list) -> None:
    """Candidates to grow the region of `seed`: free neighbours of i, same street first, then nearest."""
    for j in city.neighbours[i]:
        if region[j] < 0 and j not in taken:
            heapq.heappush(heap, (city.street[j] != city.street[seed], city.dist(seed, j), j))


def _connected(idx: list[int], neighbours: list[list[int]]) -> bool:
    want = set(idx)
    seen = {idx[0]}
    stack = [idx[0]]
    while stack:
        i = stack.pop()
        for j in neighbours[i]:
            if j in want and j not in seen:
                seen.add(j)
                stack.append(j)
    return seen == want


def _one_median(idx: list[int], city: _City) -> int:
    if len(idx) == 1:
        return idx[0]
    pts = city.xy[idx]
    w = city.total[idx].astype(float)
    d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
    cost = (d * w[:, None]).sum(axis=0)
    return idx[int(np.argmin(cost))]


def _balanced(member_ids: list[str], ms: dict[str, Member], k: int) -> list[list[str]]:
    formal = sorted(m for m in member_ids if ms[m].status == "formal")
    other = sorted(m for m in member_ids if ms[m].status != "formal")
    out: list[list[str]] = [[] for _ in range(k)]
    for i, m in enumerate(formal + other):
        out[i % k].append(m)
    return out


# ----------------------------------------------------------------------------------------------- files


def load_communities_csv(path) -> list[Community]:
    """COMMUNITIES.csv: code, lat, lon, street (WGS-84 degrees). Errors name the row, column and value."""
    errors: list[RowError] = []
    out = []
    seen: dict[str, int] = {}
    for row, r in read_csv_rows(path, ["code", "lat", "lon"]):
        values = {}
        for col in ("lat", "lon"):
            try:
                values[col] = float(r[col])
                if math.isnan(values[col]):
                    raise ValueError
            except ValueError:
                errors.append(RowError(str(path), row, col, r[col], "not a number"))
        if not r["code"]:
            errors.append(RowError(str(path), row, "code", "", "code is required"))
        elif r["code"] in seen:
            errors.append(
                RowError(str(path), row, "code", r["code"], f"duplicate code (first on row {seen[r['code']]})")
            )
        else:
            seen[r["code"]] = row
        if len(values) == 2 and not (-90 <= values["lat"] <= 90 and -180 <= values["lon"] <= 180):
            errors.append(
                RowError(
                    str(path),
                    row,
                    "lat/lon",
                    f"{values['lat']},{values['lon']}",
                    "outside the range of WGS-84 latitude/longitude",
                )
            )
        if len(values) == 2 and r["code"]:
            out.append(Community(r["code"], values["lat"], values["lon"], r.get("street", "")))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {path}; nothing was written")
    return out


def load_members_csv(path, known_communities: set[str] | None = None) -> list[Member]:
    """MEMBERS.csv: id, community, status (formal|probationary), occupation."""
    errors: list[RowError] = []
    out = []
    seen: dict[str, int] = {}
    for row, r in read_csv_rows(path, ["id", "community", "status"]):
        status = r["status"].lower()
        if not r["id"]:
            errors.append(RowError(str(path), row, "id", "", "id is required"))
        elif r["id"] in seen:
            errors.append(RowError(str(path), row, "id", r["id"], f"duplicate id (first on row {seen[r['id']]})"))
        else:
            seen[r["id"]] = row
        if status not in ("formal", "probationary"):
            errors.append(RowError(str(path), row, "status", r["status"], "status must be formal or probationary"))
        if known_communities is not None and r["community"] not in known_communities:
            errors.append(RowError(str(path), row, "community", r["community"], "not in the communities file"))
        out.append(Member(r["id"], r["community"], status, r.get("occupation", "")))
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {path}; nothing was written")
    return out


# --- audit of community-based branches (issue 13: ordinary citizens of the tree) -------------------------

#: English texts of the community findings (the pages translate the same keys: organizations/findings.py)
MESSAGES: dict[str, tuple[str, str]] = {
    "community_branch_below_floor": (
        "{org} has {formal} formal member(s), fewer than {floor}",
        "merge it with a neighbouring community's branch within the work radius",
    ),
    "community_branch_over_cap": ("{org} has {total} members, more than {cap}", "split it by community"),
    "community_committee_due": (
        "{org} has {formal} formal members but no branch committee",
        "elect a branch committee (with {threshold} or more formal members)",
    ),
    "community_term_expired": ("the term of {org} ended on {date}", "hold an election"),
    "community_term_expiring": ("the term of {org} ends on {date}", "prepare the election"),
    "community_branch_without_parent": (
        "{org} is led by no street or community working committee",
        "place it under the working committee of its street",
    ),
    "community_members_beyond_radius": (
        "{count} member(s) of {org} work more than {radius} km from its anchor community",
        "form the branches again, or move them to the branch nearest their work",
    ),
    "community_members_in_no_branch": (
        "{count} member(s) working in {community} are in no branch",
        "place them in the branch of the community where they live or work",
    ),
}


@dataclass(frozen=True)
class BranchState:
    """A community-based branch as it stands, for the audit."""

    id: str
    name: str
    anchor: str
    communities: tuple[str, ...]
    members: tuple[str, ...]
    parent: str | None = None
    committee: bool | None = None  # None: not known
    term_ends: date | None = None


def audit(
    communities: Sequence[Community],
    members: Sequence[Member],
    branches: Sequence[BranchState],
    rules,
    *,
    today,
    radius_km: float | None = None,
    community_names: dict[str, str] | None = None,
) -> list:
    """Findings about community-based branches under `rules` (an `xinye.algorithms.rules.RuleSet`): floor,
    cap, branch committee, term, a leading working committee, members beyond the work radius, and members
    in no branch. Returns `xinye.algorithms.structure.Finding`s, most severe first.

    >>> from datetime import date
    >>> from xinye.algorithms.rules import get_rules
    >>> cs = [Community("c0", 22.5, 114.0, "s1")]
    >>> ms = [Member("m0", "c0", "formal"), Member("m1", "c0", "formal")]
    >>> [f.text for f in audit(cs, ms, [BranchState("b", "B", "c0", ("c0",), ("m0", "m1"))], get_rules(),
    ...                        today=date(2026, 12, 1))]
    ['community_branch_below_floor', 'community_branch_without_parent']
    """
    from .structure import Finding

    radius = rules.community_radius_km if radius_km is None else radius_km
    names = community_names or {}
    where = {c.code: c for c in communities}
    by_id = {m.id: m for m in members}
    findings: list = []

    def add(key: str, code: str, severity: str, rule: str, subject: str, sid: str, related=(), **params) -> None:
        message, suggestion = MESSAGES[key]
        params = {k: str(v) for k, v in params.items()}
        findings.append(
            Finding(
                code,
                severity,
                rule,
                rules.source(rule),
                subject,
                sid,
                message.format(**params),
                suggestion.format(**params),
                tuple(related),
                key,
                params,
            )
        )

    placed: set[str] = set()
    for b in branches:
        ms = [by_id[m] for m in b.members if m in by_id]
        placed.update(m.id for m in ms)
        formal = sum(1 for m in ms if m.status == "formal")
        total = len(ms)
        org = f"{b.name} ({b.id})"
        if formal < rules.min_formal_members:
            add("community_branch_below_floor", "branch_below_floor", "error", "min_formal_members",
                "organization", b.id, org=org, formal=formal, floor=rules.min_formal_members)  # fmt: skip
        if total > rules.branch_cap:
            add("community_branch_over_cap", "branch_over_cap", "warning", "branch_cap", "organization", b.id,
                org=org, total=total, cap=rules.branch_cap)  # fmt: skip
        if formal >= rules.committee_at and b.committee is False:
            add("community_committee_due", "committee_due", "warning", "committee_at", "organization", b.id,
                org=org, formal=formal, threshold=rules.committee_at)  # fmt: skip
        if b.term_ends is not None:
            days = (b.term_ends - today).days
            if days < 0:
                add("community_term_expired", "term_expired", "warning", "term_years", "organization", b.id,
                    org=org, date=b.term_ends.isoformat())  # fmt: skip
            elif days <= rules.expiring_days:
                add("community_term_expiring", "term_expiring", "info", "term_years", "organization", b.id,
                    org=org, date=b.term_ends.isoformat())  # fmt: skip
        if b.parent is None:
            add("community_branch_without_parent", "branch_without_parent", "warning", "anchor", "organization",
                b.id, org=org)  # fmt: skip
        anchor = where.get(b.anchor)
        if anchor is not None:
            far = [
                m.id
                for m in ms
                if m.community in where
                and haversine_m(anchor.lat, anchor.lon, where[m.community].lat, where[m.community].lon)
                > 1000.0 * radius
            ]
            if far:
                add("community_members_beyond_radius", "members_beyond_radius", "info", "community_radius_km",
                    "organization", b.id, far, org=org, count=len(far), radius=f"{radius:g}")  # fmt: skip
    loose: dict[str, list[str]] = defaultdict(list)
    for m in members:
        if m.id not in placed:
            loose[m.community].append(m.id)
    for code in sorted(loose):
        ids = loose[code]
        add("community_members_in_no_branch", "members_in_no_branch", "error", "placement", "community", code, ids,
            count=len(ids), community=names.get(code, code))  # fmt: skip
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (order.get(f.severity, 3), f.subject_id))
    return findings
