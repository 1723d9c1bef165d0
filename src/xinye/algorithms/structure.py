"""Audit and plan an organization tree over a company's business tree; re-plan after a reorganization.

Python and numpy; never imports Django. Inputs are small dataclasses (`Unit`, `Member`, `Org`) and a
`RuleSet` (see `rules.py`); outputs are dataclasses that serialise to the JSON of
`xinye structure plan` (see docs/structure.md).

Model
-----
A branch is anchored to one or more business units. A member belongs to the branch anchored at the
nearest unit on the path from the member's unit up to the root ("a branch on a unit covers its whole
subtree, except parts that have a branch of their own"). Several branches on the same unit (a unit too
big for one branch, split into balanced parts) share its region by their member lists.

Planning
--------
1. Existing branches that are valid under the rules (units exist and are active, at least
   `min_formal_members` formal members, at most `branch_cap` members, a joint branch on at most
   `joint_max_units` units) are kept with their ids, so that members do not move without reason.
   Dropping an invalid branch gives its region to the nearest enclosing branch, so validity is
   re-checked until nothing changes.
2. Members outside every kept branch are organized bottom-up over the business tree (post-order, children
   by id): a unit whose unorganized members, with the small leftovers of its sub-units, reach the floor
   and fit under the cap gets a branch (covering its subtree); when they do not fit, leftovers of sibling
   sub-units are packed into joint branches of at most `joint_max_units` units (first-fit decreasing; same
   parent first), and a unit that is too big on its own is split into balanced parts. Leftovers under the
   floor go up a level. At the top, what is left joins the nearest branch with room (same parent first,
   then the same division); if the whole company is under the floor it gets one branch; otherwise the
   members are reported as unplaced, with the reason.
3. Upper levels follow the rule set: at the first unit where the business branches out, a primary
   committee when the company has `primary_committee_at` members, else a general branch when it has
   `general_branch_at` members over two or more branches; below it, secondary committees
   (`secondary_committee_at`) and general branches at the units where the business branches out again.
4. New organizations take the id of a dropped one with the same anchor, or with most of its members
   (at least half), so the tree keeps its history; the rest get new ids. Churn is the number of
   members whose branch changes.

Scale: linear in units + members apart from sorting; see benchmarks/structure_bench.py. Inside, units
are numbered in the pre-order (a subtree is a range of numbers) and, when re-planning, members are numbered
too, so that whole-tree passes run in numpy or in single C-level passes; results are the same as walking the
dicts one by one.

References
----------
Regulations on the Work of Party Branches (trial, 2018), ch. 2; Regulations on Party Member Education
and Management (2019), art. 24-25; Party Constitution, art. 30. See docs/domain.md section 1.

Examples
--------
>>> from xinye.algorithms.rules import get_rules
>>> units = [Unit("hq", None), Unit("a", "hq"), Unit("b", "hq")]
>>> members = [Member(f"m{i}", "a" if i < 4 else "b", "formal") for i in range(6)]
>>> p = plan(Business.build(units, members), [], get_rules("cpc"))
>>> sorted((o.kind, o.units, len(o.members)) for o in p.organizations)
[('joint_branch', ('a', 'b'), 6)]
"""

from __future__ import annotations

import contextlib
import gc
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from itertools import chain, compress, repeat

import numpy as np

from .errors import InputError, RowError
from .rules import RuleSet

FORMAL = "formal"
PROBATIONARY = "probationary"
MEMBER_STATUSES = (FORMAL, PROBATIONARY)
UNIT_STATUSES = ("active", "dissolved", "merged")
Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


# ----------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Unit:
    """A business unit. `parent` is None for the root; `division` a division code (for nearness)."""

    id: str
    parent: str | None
    name: str = ""
    kind: str = ""
    division: str = ""
    status: str = "active"
    merged_into: str | None = None


@dataclass(frozen=True)
class Member:
    id: str
    unit: str
    status: str = FORMAL


@dataclass
class Org:
    """An organization: a branch, joint branch, general branch or committee (kinds from the rule set)."""

    id: str
    parent: str | None
    kind: str
    units: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    name: str = ""
    term_ends: date | None = None
    committee: bool | None = None  # has an elected committee (None: not known)

    def to_json(self) -> dict:
        d: dict[str, object] = {
            "id": self.id,
            "parent": self.parent,
            "kind": self.kind,
            "units": list(self.units),
            "members": list(self.members),
        }
        if self.name:
            d["name"] = self.name
        if self.term_ends:
            d["term_ends"] = self.term_ends.isoformat()
        if self.committee is not None:
            d["committee"] = self.committee
        return d


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # error | warning | info
    rule: str
    source: str
    subject: str  # organization | unit | member
    subject_id: str
    message: str
    suggestion: str
    related: tuple[str, ...] = ()
    text: str = ""  # key of MESSAGES the message and suggestion come from
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict:
        d = asdict(self)
        d["related"] = list(self.related)
        return d


class Business:
    """A validated business tree with its members. Build it with `Business.build` (raises InputError)."""

    def __init__(
        self,
        units: dict[str, Unit],
        members: dict[str, Member],
        order: list[str],
        children: dict[str, list[str]],
        roots: list[str],
    ):
        self.units = units
        self.members = members
        self.order = order  # pre-order, children sorted by id
        self.children = children
        self.roots = roots
        self.depth: dict[str, int] = {}
        self._ancestors: dict[str, list[str]] = {}
        self._ix: _Index | None = None
        self._mx: _Members | None = None
        # depth, and the units by position in the pre-order for `_index` (one pass over the units)
        depth = self.depth
        n = len(order)
        pos: dict[str, int] = {}
        parent_pos, depth_l, active, division = [-1] * n, [0] * n, [True] * n, [""] * n
        unit_l: list[Unit] = [None] * n  # type: ignore[list-item]
        for i, u in enumerate(order):
            x = unit_l[i] = units[u]
            pos[u] = i
            p = x.parent
            if p is None:
                depth[u] = 0
            else:
                pp = parent_pos[i] = pos[p]
                depth[u] = depth_l[i] = depth_l[pp] + 1
            if x.status != "active":
                active[i] = False
            division[i] = x.division
        self._by_pos = (pos, parent_pos, depth_l, active, division, unit_l)
        # one pass per field in C rather than one Python step per member (a million members at national scale)
        values = list(members.values())
        ids = [m.id for m in values]
        unit_of = [m.unit for m in values]
        is_formal = [m.status == FORMAL for m in values]
        members_of: dict[str, list[str]] = defaultdict(list)
        for mid, u in zip(ids, unit_of, strict=True):
            members_of[u].append(mid)
        for lst in members_of.values():
            lst.sort()
        self.members_of = members_of
        self.unit_formal: dict[str, int] = defaultdict(int, Counter(compress(unit_of, is_formal)))
        self.formal: frozenset[str] = frozenset(compress(ids, is_formal))

    @classmethod
    def build(cls, units: Iterable[Unit], members: Iterable[Member], *, file: str = "business") -> Business:
        units, members = list(units), list(members)
        fast = cls._build_valid(units, members)
        if fast is not None:
            return fast
        errors: list[RowError] = []
        by_id: dict[str, Unit] = {}
        for i, u in enumerate(units):
            where = f"units[{i}] (id {u.id!r})"
            if not u.id:
                errors.append(RowError(file, f"units[{i}]", "id", u.id, "a unit needs an id"))
            elif u.id in by_id:
                errors.append(RowError(file, where, "id", u.id, "duplicate unit id"))
            elif u.status not in UNIT_STATUSES:
                errors.append(RowError(file, where, "status", u.status, f"status must be one of {UNIT_STATUSES}"))
            else:
                by_id[u.id] = u
        for u in by_id.values():
            if u.parent is not None and u.parent not in by_id:
                errors.append(RowError(file, f"unit {u.id!r}", "parent", u.parent, "parent unit does not exist"))
            if u.merged_into is not None and u.merged_into not in by_id:
                errors.append(RowError(file, f"unit {u.id!r}", "merged_into", u.merged_into, "unit does not exist"))
        children, roots, order = _tree(by_id)
        if len(order) < len(by_id) and not errors:
            seen = set(order)
            cyc = sorted(u for u in by_id if u not in seen)
            errors.append(
                RowError(
                    file,
                    f"unit {cyc[0]!r}",
                    "parent",
                    by_id[cyc[0]].parent,
                    f"the parent links form a cycle ({', '.join(cyc[:6])})",
                )
            )
        mems: dict[str, Member] = {}
        for i, m in enumerate(members):
            where = f"members[{i}] (id {m.id!r})"
            if not m.id:
                errors.append(RowError(file, f"members[{i}]", "id", m.id, "a member needs an id"))
            elif m.id in mems:
                errors.append(RowError(file, where, "id", m.id, "duplicate member id"))
            elif m.unit not in by_id:
                errors.append(RowError(file, where, "unit", m.unit, "member in an unknown unit"))
            elif m.status not in MEMBER_STATUSES:
                errors.append(RowError(file, where, "status", m.status, "status must be formal or probationary"))
            else:
                mems[m.id] = m
        if errors:
            raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")
        return cls(by_id, mems, order, children, roots)

    @classmethod
    def _build_valid(cls, units: list[Unit], members: list[Member]) -> Business | None:
        """`build` for an input without errors, checking whole columns at once; None if anything is off (then
        `build` goes record by record and names each error)."""
        try:
            ids = [u.id for u in units]
            by_id = dict(zip(ids, units, strict=True))
            if len(by_id) < len(units) or not all(ids) or not {u.status for u in units} <= set(UNIT_STATUSES):
                return None
            links = {u.parent for u in units} | {u.merged_into for u in units}
            links.discard(None)
            if not by_id.keys() >= links:
                return None
            mids = [m.id for m in members]
            mems = dict(zip(mids, members, strict=True))
            if len(mems) < len(members) or not all(mids):
                return None
            if not by_id.keys() >= {m.unit for m in members}:
                return None
            if not {m.status for m in members} <= set(MEMBER_STATUSES):
                return None
        except TypeError:  # an unhashable value: let the record-by-record checks say where
            return None
        children, roots, order = _tree(by_id)
        if len(order) < len(by_id):
            return None
        return cls(by_id, mems, order, children, roots)

    def ancestors(self, u: str) -> list[str]:
        """u's ancestors, nearest first (u excluded). Cached: do not modify the list."""
        cached = self._ancestors.get(u)
        if cached is not None:
            return cached
        p = self.units[u].parent
        out = [] if p is None else [p, *self.ancestors(p)] if self.depth.get(p, 0) < 900 else self._walk_up(p)
        self._ancestors[u] = out
        return out

    def _walk_up(self, p: str | None) -> list[str]:
        out = []
        while p is not None:
            out.append(p)
            p = self.units[p].parent
        return out

    def lca(self, a: str, b: str) -> str | None:
        da, db = self.depth[a], self.depth[b]
        while da > db:
            a, da = self.units[a].parent, da - 1  # type: ignore[assignment]
        while db > da:
            b, db = self.units[b].parent, db - 1  # type: ignore[assignment]
        while a != b:
            a, b = self.units[a].parent, self.units[b].parent  # type: ignore[assignment]
            if a is None or b is None:
                return None
        return a

    def is_active(self, u: str) -> bool:
        return u in self.units and self.units[u].status == "active"

    def is_formal(self, m: str) -> bool:
        return m in self.formal

    def _index(self) -> _Index:
        """The integer view the auditor and planner work on (made once, on first use)."""
        if self._ix is None:
            self._ix = _Index(self)
        return self._ix

    def _members_index(self) -> _Members:
        """Members by integer index (made once, on first use)."""
        if self._mx is None:
            self._mx = _Members(self)
        return self._mx


def _tree(by_id: dict[str, Unit]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Children (sorted by id), roots (sorted) and the pre-order of the units reachable from the roots."""
    children: dict[str, list[str]] = defaultdict(list)
    roots = []
    for u in by_id.values():
        if u.parent is None:
            roots.append(u.id)
        elif u.parent in by_id:
            children[u.parent].append(u.id)
    for lst in children.values():
        lst.sort()
    roots.sort()
    order: list[str] = []
    stack = list(reversed(roots))
    while stack:
        uid = stack.pop()
        order.append(uid)
        kids = children.get(uid)
        if kids:
            stack.extend(reversed(kids))
    return dict(children), roots, order


class _Index:
    """Units by their position in the pre-order (`Business.order`), so that a subtree is a range of positions
    (`i` to `end[i]`; the children of `i` are `i + 1`, then each next one right after the previous one's
    range), with per-position lists: parent position (-1 at a root), active, division, members (the lists of
    `members_of`: never modified), formal and total counts. Pure bookkeeping: every function that uses it
    gives the same results as walking the dicts."""

    __slots__ = (
        "pos",
        "parent",
        "depth",
        "unit",
        "end",
        "active",
        "mem",
        "ufor",
        "utot",
        "division",
        "n",
        "_formal_below",
        "_active_a",
    )

    def __init__(self, business: Business):
        pos, parent, depth, self.active, self.division, self.unit = business._by_pos
        self.pos, self.parent, self.depth = pos, parent, depth
        n = self.n = len(parent)
        # subtree sizes, the deepest level first (a level at a time; one unit at a time for a very deep tree)
        size = np.ones(n, dtype=np.int64)
        depth_a = np.asarray(depth, dtype=np.int64)
        top = int(depth_a.max(initial=0))
        if top <= 64:
            parent_a = np.asarray(parent, dtype=np.int64)
            by_depth = np.argsort(depth_a, kind="stable")
            bounds = np.searchsorted(depth_a[by_depth], np.arange(top + 2))
            for d in range(top, 0, -1):
                at = by_depth[bounds[d] : bounds[d + 1]]
                np.add.at(size, parent_a[at], size[at])
            self.end = (np.arange(n, dtype=np.int64) + size - 1).tolist()
        else:
            end = list(range(n))
            for i in range(n - 1, 0, -1):  # children come after their parent in the pre-order
                p = parent[i]
                if p >= 0 and end[i] > end[p]:
                    end[p] = end[i]
            self.end = end
        mem: list[Sequence[str]] = [()] * n
        for u, lst in business.members_of.items():
            mem[pos[u]] = lst
        ufor = [0] * n
        for u, k in business.unit_formal.items():
            ufor[pos[u]] = k
        self.mem, self.ufor = mem, ufor
        self.utot = list(map(len, mem))
        self._formal_below: np.ndarray | None = None
        self._active_a: np.ndarray | None = None

    def kids(self, i: int) -> Iterator[int]:
        """The children of position i, in order."""
        end = self.end
        c, last = i + 1, end[i]
        while c <= last:
            yield c
            c = end[c] + 1

    def subtree_sums(self, values) -> np.ndarray:
        """For each position, the sum of `values` (one per position) over its subtree."""
        cs = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.asarray(values, dtype=np.int64), out=cs[1:])
        return cs[np.asarray(self.end, dtype=np.int64) + 1] - cs[: self.n]

    def active_or_not(self) -> np.ndarray:
        """`active` as an array, with one more entry (False) that index -1 picks."""
        if self._active_a is None:
            self._active_a = np.asarray([*self.active, False], dtype=bool)
        return self._active_a

    def formal_below(self) -> np.ndarray:
        if self._formal_below is None:
            self._formal_below = self.subtree_sums(self.ufor)
        return self._formal_below


class _Members:
    """Members by integer index: the lists of `members_of` one after the other, so that each unit's members
    are a range of indices, in id order; with a formal flag per member."""

    __slots__ = ("index", "ids", "formal", "unit_ids", "unit_k", "starts")

    def __init__(self, business: Business):
        members_of = business.members_of
        self.unit_ids = [u for u, ms in members_of.items() if ms]
        self.unit_k = {u: k for k, u in enumerate(self.unit_ids)}
        lists = [members_of[u] for u in self.unit_ids]
        self.starts = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)), out=self.starts[1:])
        ids = self.ids = list(chain.from_iterable(lists))
        self.index = dict(zip(ids, range(len(ids)), strict=True))
        self.formal = np.fromiter(map(business.formal.__contains__, ids), dtype=bool, count=len(ids))


class _Listing:
    """The members that organizations list, as member indices (see `_Members`; -1: not a member of the
    business), one organization after the other."""

    __slots__ = ("flat", "lens", "starts")

    def __init__(self, flat: np.ndarray, lens: np.ndarray):
        self.flat, self.lens = flat, lens
        self.starts = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=self.starts[1:])

    @classmethod
    def of(cls, business: Business, orgs: Sequence[Org]) -> _Listing:
        index = business._members_index().index
        lens = np.fromiter((len(o.members) for o in orgs), dtype=np.int64, count=len(orgs))
        flat = np.fromiter(
            map(index.get, chain.from_iterable(o.members for o in orgs), repeat(-1)),
            dtype=np.int64,
            count=int(lens.sum()),
        )
        return cls(flat, lens)

    def subset(self, keep: Sequence[bool]) -> _Listing:
        keep_a = np.asarray(keep, dtype=bool)
        if keep_a.all():
            return self
        return _Listing(self.flat[np.repeat(keep_a, self.lens)], self.lens[keep_a])

    def sums(self, values: np.ndarray) -> np.ndarray:
        """For each organization, the sum of `values` (one per listed member) over its members."""
        return _segment_sums(values, self.starts)


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of `values` over consecutive segments that begin at `starts` (one more entry: the end)."""
    cs = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=cs[1:])
    return cs[starts[1:]] - cs[starts[:-1]]


def validate_orgs(orgs: Sequence[Org], business: Business, rules: RuleSet, *, file: str = "organizations") -> None:
    """Raise InputError for a duplicate id, an unknown parent, a cycle, an unknown kind or member."""
    _validate_orgs(orgs, business, rules, file=file)


def _validate_orgs(
    orgs: Sequence[Org], business: Business, rules: RuleSet, *, file: str, listing: _Listing | None = None
) -> None:
    errors: list[RowError] = []
    kinds = set(rules.branch_kinds) | set(rules.upper_kinds)
    ids: dict[str, Org] = {}
    known = business.members
    if listing is not None:  # the organizations that list someone who is not a member
        owner = np.repeat(np.arange(len(orgs)), listing.lens)
        strangers = set(np.unique(owner[listing.flat < 0]).tolist())
    for i, o in enumerate(orgs):
        where = f"organizations[{i}] (id {o.id!r})"
        if not o.id:
            errors.append(RowError(file, f"organizations[{i}]", "id", o.id, "an organization needs an id"))
            continue
        if o.id in ids:
            errors.append(RowError(file, where, "id", o.id, "duplicate organization id"))
        ids[o.id] = o
        if o.kind not in kinds:
            errors.append(
                RowError(
                    file,
                    where,
                    "kind",
                    o.kind,
                    f"kind must be one of {', '.join(sorted(kinds))} (rule set {rules.name})",
                )
            )
        if i in strangers if listing is not None else not all(map(known.__contains__, o.members)):
            for m in o.members:
                if m not in known:
                    errors.append(RowError(file, where, "members", m, "member not in the business file"))
    for o in ids.values():
        if o.parent is not None and o.parent not in ids:
            errors.append(RowError(file, f"organization {o.id!r}", "parent", o.parent, "parent does not exist"))
    if not errors:
        rooted: set[str] = set()  # organizations whose parent links end at a top organization
        for o in ids.values():
            seen = {o.id}
            p = o.parent
            while p is not None and p not in rooted:
                if p in seen:
                    errors.append(
                        RowError(file, f"organization {o.id!r}", "parent", o.parent, "the parent links form a cycle")
                    )
                    break
                seen.add(p)
                p = ids[p].parent
            if errors:
                break
            rooted |= seen
    if errors:
        raise InputError(errors, summary=f"{len(errors)} error(s) in {file}; nothing was written")


# ----------------------------------------------------------------------------------------------- regions


def _regions(
    business: Business, branches: Sequence[Org], listing: _Listing | None = None
) -> tuple[dict[str, list[str]], dict[str, int], list[bool] | None]:
    """Members of each branch under the nearest-anchor rule (see module docstring), with the number of formal
    members of each, and for each unit position whether a branch covers it (None: no branch covers any).
    `listing` may pass the members `branches` list, made already."""
    ix = business._index()
    pos, active = ix.pos, ix.active
    anchored: dict[int, list[Org]] = {}
    for b in branches:
        for u in b.units:
            i = pos.get(u)
            if i is not None and active[i]:
                anchored.setdefault(i, []).append(b)
    out: dict[str, list[str]] = {b.id: [] for b in branches}
    formal_of = dict.fromkeys(out, 0)
    if not anchored:
        return out, formal_of, None
    parent, mem, ufor = ix.parent, ix.mem, ix.ufor
    is_formal = business.formal.__contains__
    owner: list[list[Org] | None] = [None] * ix.n
    listed: dict[str, str] | None = None
    first: list[int] | None = None  # by member index (with a listing): the first branch that lists each
    by_index = listing is not None and not (listing.flat < 0).any()
    for i in range(ix.n):  # pre-order: a unit's parent comes first
        cands = anchored.get(i)
        if cands is None:
            p = parent[i]
            if p < 0:
                continue
            cands = owner[p]
            if cands is None:
                continue
        owner[i] = cands
        ms = mem[i]
        if not ms:
            continue
        if len(cands) == 1:
            bid = cands[0].id
            out[bid].extend(ms)
            formal_of[bid] += ufor[i]
            continue
        ids = {c.id for c in cands}
        if by_index and listing is not None:
            # the branch that lists a member first, by member index (a unit's members are a range of them)
            mx = business._members_index()
            if first is None:
                owner_no = np.repeat(np.arange(len(branches)), listing.lens)
                indices, at = np.unique(listing.flat, return_index=True)
                first_a = np.full(len(mx.ids), -1, dtype=np.int64)
                first_a[indices] = owner_no[at]
                first = first_a.tolist()
            j = int(mx.starts[mx.unit_k[business.order[i]]])
            listed_by = [branches[k].id if k >= 0 else None for k in first[j : j + len(ms)]]
            formal_flags = mx.formal[j : j + len(ms)].tolist()
        else:
            if listed is None:  # the branch that lists a member first
                listed = {}
                for b in reversed(branches):
                    listed.update(dict.fromkeys(b.members, b.id))
            listed_by = list(map(listed.get, ms))
            formal_flags = list(map(is_formal, ms))
        for m, chosen, formal in zip(ms, listed_by, formal_flags, strict=True):
            if chosen not in ids:
                chosen = min(cands, key=lambda c: (len(out[c.id]), c.id)).id
            out[chosen].append(m)
            if formal:
                formal_of[chosen] += 1
    return out, formal_of, [c is not None for c in owner]


# ----------------------------------------------------------------------------------------------- audit


#: English texts of each finding: (message, suggestion) templates over the finding's `params`. The web pages
#: translate the same templates (see xinye.organizations.findings), so the two must keep the same fields.
MESSAGES: dict[str, tuple[str, str]] = {
    "member_in_two_branches": (
        "member {member} is in {count} branches: {branches}",
        "keep the member in the branch of their unit and remove them from the others",
    ),
    "members_in_no_branch": (
        "{count} member(s) of unit {unit} are in no branch",
        "place them in the branch of their unit, or set one up",
    ),
    "members_in_no_branch_subtree": (
        "{count} member(s) in unit {unit} and the units under it are in no branch",
        "set up branches for them (see the units without an organization)",
    ),
    "branch_below_floor": (
        "{org} has {formal} formal member(s), fewer than {floor}",
        "merge it into a joint branch with nearby units, or into the branch of its parent unit",
    ),
    "branch_below_floor_whole": (
        "{org} has {formal} formal member(s), fewer than {floor}",
        "the whole company has fewer formal members: keep it",
    ),
    "branch_over_cap": ("{org} has {total} members, more than {cap}", "split it along its sub-units"),
    "branch_over_cap_leaf": ("{org} has {total} members, more than {cap}", "split it into balanced branches"),
    "general_branch_due": (
        "{org} has {total} members: {threshold} or more call for a general branch",
        "set up a general branch with branches under it",
    ),
    "committee_due": (
        "{org} has {formal} formal members but no branch committee",
        "elect a branch committee (with {threshold} or more formal members)",
    ),
    "joint_branch_too_many_units": (
        "{org} covers {count} units, more than {limit}",
        "split it into joint branches of nearby units",
    ),
    "primary_committee_due": (
        "{org} has {total} members and no primary committee",
        "set up a primary committee ({threshold} or more members)",
    ),
    "anchor_missing": (
        "{org} is anchored to unit {unit}, which no longer exists",
        "re-anchor it to the unit that took over, or dissolve it",
    ),
    "anchor_dissolved": ("{org} is anchored to unit {unit}, which was {status}", "re-anchor it or dissolve it"),
    "anchor_merged": ("{org} is anchored to unit {unit}, which was {status}", "re-anchor it to {target}"),
    "anchor_moved": (
        "unit {unit} of {org} is no longer under {parent}'s units",
        "move the organization under the one that covers its unit",
    ),
    "term_expired": ("the term of {org} ended on {date}", "hold an election"),
    "term_expiring": ("the term of {org} ends on {date}", "prepare the election"),
    "unit_without_organization": (
        "unit {unit} has {formal} formal members and no organization",
        "set up a branch on {unit}",
    ),
    "units_need_joint_branch": (
        "{count} unit(s) under {parent} have fewer than {floor} formal members each and no organization",
        "set up a joint branch for {units}",
    ),
}


def _finding(
    rules: RuleSet,
    code: str,
    severity: str,
    rule: str,
    subject: str,
    subject_id: str,
    related=(),
    *,
    text: str | None = None,
    **params,
) -> Finding:
    message, suggestion = MESSAGES[text or code]
    params = {k: str(v) for k, v in params.items()}
    return Finding(
        code,
        severity,
        rule,
        rules.source(rule),
        subject,
        subject_id,
        message.format(**params),
        suggestion.format(**params),
        tuple(related),
        text or code,
        params,
    )


def audit(business: Business, orgs: Sequence[Org], rules: RuleSet, *, today: date | None = None) -> list[Finding]:
    """Every finding about `orgs` against `business` under `rules`, most severe first."""
    with _no_gc():
        return _audit(business, orgs, rules, today=today)


_COLUMNS = ("id", "kind", "units", "members", "parent", "committee", "term_ends")


def _audit(
    business: Business,
    orgs: Sequence[Org],
    rules: RuleSet,
    *,
    today: date | None = None,
    listing: _Listing | None = None,
    placement: tuple[list[int], AbstractSet[str]] | None = None,
) -> list[Finding]:
    """`audit`; `listing` may pass the members `orgs` list (`_Listing.of(business, orgs)`), made already;
    `placement`, when every member is listed once except some (the planner's own tree): the number of formal
    members of each branch (in the order of `orgs`) and the members no branch lists."""
    today = today or date.today()  # noqa: DTZ011 - a calendar date; callers in the apps pass their local date
    findings: list[Finding] = []
    # the organizations' fields as columns (a national plan has over 100,000 organizations)
    columns = list(zip(*map(operator.attrgetter(*_COLUMNS), orgs), strict=True)) or [()] * len(_COLUMNS)
    ids, kinds, units_of, members_of_org, parent_ids, committees, terms = columns
    by_id = dict(zip(ids, orgs, strict=True))
    is_branch = list(map(frozenset(rules.branch_kinds).__contains__, kinds))
    branches = list(compress(orgs, is_branch))
    company_formal = len(business.formal)
    ix = business._index()

    def add(*args, **kwargs):
        findings.append(_finding(rules, *args, **kwargs))

    # members: in no branch, or in two. Each listed once (the usual case) is settled in bulk: by member index
    # when the members are indexed already (re-planning), else with one set; otherwise member by member.
    members_of = business.members_of
    lens = np.fromiter(map(len, compress(members_of_org, is_branch)), dtype=np.int64, count=len(branches))
    n_listed = int(lens.sum())
    formal_of: np.ndarray | list[int] | None = None
    absent: AbstractSet[str] | None = None  # members of the business no branch lists (by id)
    missing: np.ndarray | None = None  # the same, by member index
    if placement is not None:
        formal_of, absent = placement
    elif not n_listed:
        absent = business.members.keys()
        formal_of = [0] * len(branches)
    elif listing is not None or business._mx is not None:
        mx = business._members_index()
        listed = (listing or _Listing.of(business, orgs)).subset(is_branch)
        if not (listed.flat < 0).any():
            counts = np.bincount(listed.flat, minlength=len(mx.ids))
            if not (counts > 1).any():
                missing = np.flatnonzero(counts == 0)
                formal_of = listed.sums(mx.formal[listed.flat])
    if formal_of is None:
        placed: set[str] | dict[str, list[str] | None] = set(chain.from_iterable(b.members for b in branches))
        if len(placed) == n_listed:
            flags = np.fromiter(
                map(business.formal.__contains__, chain.from_iterable(b.members for b in branches)),
                dtype=bool,
                count=n_listed,
            )
            formal_of = _segment_sums(flags, np.concatenate(([0], np.cumsum(lens))))
            absent = business.members.keys() - placed
        else:  # someone is listed twice: find where
            placed = dict.fromkeys(chain.from_iterable(b.members for b in branches))
            seen: dict[str, list[str]] = defaultdict(list)
            for b in branches:
                for m in b.members:
                    seen[m].append(b.id)
            placed.update(seen)
            for mid, where in placed.items():
                if where is None or len(where) < 2:
                    continue
                member = business.members[mid]
                if len(where) > 1:
                    add(
                        "member_in_two_branches",
                        "error",
                        "placement",
                        "member",
                        member.id,
                        where,
                        member=member.id,
                        count=len(where),
                        branches=", ".join(_olabel(by_id[w]) for w in where),
                    )
            absent = business.members.keys() - placed.keys()
            # a member listed twice in one branch counts once among the formal members
            formal_set = business.formal
            formal_of = [len(formal_set.intersection(b.members)) for b in branches]
    # the members of each unit that no branch lists, units in members_of's order (read only: not copied)
    unplaced_by_unit: dict[str, Sequence[str]] = {}
    if absent is not None:
        n_missing = len(absent)
    else:
        assert missing is not None  # set above whenever `absent` is not
        n_missing = len(missing)
    if n_missing == len(business.members):
        unplaced_by_unit = {u: ms for u, ms in members_of.items() if ms}
    elif n_missing and absent is not None:
        units_missing = {business.members[m].unit for m in absent}
        for u, ms in members_of.items():
            if u in units_missing:
                lst = [m for m in ms if m in absent]
                if lst:
                    unplaced_by_unit[u] = lst
    elif n_missing and missing is not None:
        # member indices run unit by unit (members_of's order), each unit's members in id order
        unit_of = np.searchsorted(mx.starts, missing, side="right") - 1
        cuts = [0, *(np.flatnonzero(np.diff(unit_of)) + 1).tolist(), len(missing)]
        missing_ids = [mx.ids[j] for j in missing.tolist()]
        unit_of_l = unit_of.tolist()
        for s, e in zip(cuts, cuts[1:], strict=False):
            unplaced_by_unit[mx.unit_ids[unit_of_l[s]]] = missing_ids[s:e]
    # the position of each organization's units (-1: not a unit of the business), one organization after the other
    unit_lens = np.fromiter(map(len, units_of), dtype=np.int64, count=len(orgs))
    unit_pos = np.fromiter(
        map(ix.pos.get, chain.from_iterable(units_of), repeat(-1)), dtype=np.int64, count=int(unit_lens.sum())
    )
    active_a = ix.active_or_not()  # position -1: no unit, not active
    at = unit_pos[np.repeat(np.asarray(is_branch, dtype=bool), unit_lens)]
    covered, below = _coverage(business, at[active_a[at]])
    if unplaced_by_unit:
        # members in a subtree with no branch at all are reported once for the whole subtree (its top unit);
        # elsewhere, unit by unit. Such subtrees are closed downwards, so each is the range of its top unit.
        bare = ~covered & ~below
        parent_a = np.asarray(ix.parent, dtype=np.int64)
        top = bare & ((parent_a < 0) | ~bare[np.maximum(parent_a, 0)])
        top_of = np.maximum.accumulate(np.where(top, np.arange(ix.n), -1)).tolist()
        bare_l = bare.tolist()
        pos, order = ix.pos, business.order
        grouped: dict[tuple[str, bool], list[Sequence[str]]] = defaultdict(list)  # the lists, joined once below
        for u, unit_missing in unplaced_by_unit.items():
            i = pos[u]
            grouped[(order[top_of[i]], True) if bare_l[i] else (u, False)].append(unit_missing)
        for (u, subtree), lists in sorted(grouped.items()):
            joined = tuple(chain.from_iterable(lists))
            add(
                "members_in_no_branch",
                "error",
                "placement",
                "unit",
                u,
                joined,
                text="members_in_no_branch_subtree" if subtree and business.children.get(u) else None,
                count=len(joined),
                unit=_label(business, u),
            )

    # branches: floor, cap, committee, general-branch threshold, joint size (only those with a finding are
    # looked at one by one)
    floor, cap = rules.min_formal_members, rules.branch_cap
    formal_a = np.asarray(formal_of, dtype=np.int64)
    total_a = lens
    flagged = (formal_a < floor) | (total_a > cap) | (total_a >= rules.general_branch_at)
    flagged |= (formal_a >= rules.committee_at) & np.fromiter(
        map(operator.is_, compress(committees, is_branch), repeat(False)), dtype=bool, count=len(branches)
    )
    flagged |= np.fromiter(
        map(rules.joint_kind.__eq__, compress(kinds, is_branch)), dtype=bool, count=len(branches)
    ) & (unit_lens[np.asarray(is_branch, dtype=bool)] > rules.joint_max_units)
    for k in np.flatnonzero(flagged).tolist():
        b = branches[k]
        formal, total = int(formal_a[k]), int(total_a[k])
        if formal < floor:
            whole = company_formal < floor
            add(
                "branch_below_floor",
                "info" if whole else "error",
                "min_formal_members",
                "organization",
                b.id,
                text="branch_below_floor_whole" if whole else None,
                org=_olabel(b),
                formal=formal,
                floor=floor,
            )
        if total > cap:
            has_sub = any(business.children.get(u) for u in b.units if u in business.units)
            add(
                "branch_over_cap",
                "warning",
                "branch_cap",
                "organization",
                b.id,
                text=None if has_sub else "branch_over_cap_leaf",
                org=_olabel(b),
                total=total,
                cap=cap,
            )
        if total >= rules.general_branch_at:
            add(
                "general_branch_due",
                "warning",
                "general_branch_at",
                "organization",
                b.id,
                org=_olabel(b),
                total=total,
                threshold=rules.general_branch_at,
            )
        if formal >= rules.committee_at and b.committee is False:
            add(
                "committee_due",
                "warning",
                "committee_at",
                "organization",
                b.id,
                org=_olabel(b),
                formal=formal,
                threshold=rules.committee_at,
            )
        if b.kind == rules.joint_kind and len(b.units) > rules.joint_max_units:
            add(
                "joint_branch_too_many_units",
                "error",
                "joint_max_units",
                "organization",
                b.id,
                b.units,
                org=_olabel(b),
                count=len(b.units),
                limit=rules.joint_max_units,
            )

    # upper levels: thresholds crossed
    has_committee = rules.committee_kind in kinds
    if len(business.members) >= rules.primary_committee_at and not has_committee and orgs:
        top_orgs = [o for o in orgs if o.parent is None]
        add(
            "primary_committee_due",
            "warning",
            "primary_committee_at",
            "organization",
            top_orgs[0].id if top_orgs else "",
            [o.id for o in top_orgs],
            org=_olabel(top_orgs[0]) if top_orgs else "-",
            total=len(business.members),
            threshold=rules.primary_committee_at,
        )
    generals = list(compress(orgs, map(rules.general_kind.__eq__, kinds))) if has_committee else []
    if generals:
        subtree_members = _org_subtree_members(orgs, by_id)
        for o in generals:
            if subtree_members.get(o.id, 0) >= rules.primary_committee_at:
                add(
                    "primary_committee_due",
                    "warning",
                    "primary_committee_at",
                    "organization",
                    o.id,
                    org=_olabel(o),
                    total=subtree_members[o.id],
                    threshold=rules.primary_committee_at,
                )

    # anchors: missing, dissolved or merged units; moved out from under the parent organization. Findings
    # of different codes may be made in any order (they are sorted at the end): units that do not exist or
    # are not active are few, so they are found in bulk first
    units = business.units
    unit_starts = np.zeros(len(orgs) + 1, dtype=np.int64)
    np.cumsum(unit_lens, out=unit_starts[1:])
    odd = np.flatnonzero(~active_a[unit_pos])
    odd_org = (np.searchsorted(unit_starts, odd, side="right") - 1).tolist()
    for k, j in zip(odd.tolist(), odd_org, strict=True):
        o = orgs[j]
        u = o.units[k - int(unit_starts[j])]
        unit = units.get(u)
        if unit is None:
            add("anchor_missing", "error", "anchor", "organization", o.id, [u], org=_olabel(o), unit=u)
        else:
            add(
                "anchor_dissolved",
                "error",
                "anchor",
                "organization",
                o.id,
                [u],
                text="anchor_merged" if unit.merged_into else None,
                org=_olabel(o),
                unit=_label(business, u),
                status=unit.status,
                target=_label(business, unit.merged_into),
            )
    # moved: a unit of the organization outside the subtrees of its parent's units. A parent on one unit is
    # checked for all its children at once; others one by one
    end = ix.end
    spans_of: dict[str | None, tuple[int, int, int]] = {None: (-2, -2, -2)}  # parent id -> (lo, hi, units)
    for pid in set(parent_ids):
        parent = by_id.get(pid) if pid else None
        if parent is None or not parent.units:
            spans_of[pid] = (-2, -2, -2)  # not checked
        elif len(parent.units) == 1 and parent.units[0] in ix.pos:
            anchor = ix.pos[parent.units[0]]
            spans_of[pid] = (anchor, end[anchor], 1)
        else:
            spans_of[pid] = (-1, -1, 0)  # one by one
    spans = np.asarray(list(map(spans_of.__getitem__, parent_ids)), dtype=np.int64).reshape(len(orgs), 3)
    per_unit = np.repeat(spans, unit_lens, axis=0)
    one = per_unit[:, 2] == 1
    lo, hi = per_unit[:, 0], per_unit[:, 1]
    moved = one & (unit_pos >= 0) & (unit_pos != lo) & ~((lo < unit_pos) & (unit_pos <= hi))
    hits = np.flatnonzero(moved)
    hit_org, first = np.unique(np.searchsorted(unit_starts, hits, side="right") - 1, return_index=True)
    first_moved = dict(zip(hit_org.tolist(), hits[first].tolist(), strict=True))  # each one's first moved unit
    slow = set(np.flatnonzero((spans[:, 2] == 0) & (unit_lens > 0)).tolist())
    for j in sorted(slow | first_moved.keys()):
        o = orgs[j]
        if not o.units:
            continue
        parent = by_id[o.parent]
        anchors = set(parent.units)
        if j in slow:
            ranges = [(ai, end[ai]) for a in anchors if (ai := ix.pos.get(a)) is not None]
            start = int(unit_starts[j])
            found = next(
                (
                    u
                    for k, u in enumerate(o.units)
                    if (i := int(unit_pos[start + k])) >= 0
                    and u not in anchors
                    and not any(top_i < i <= last for top_i, last in ranges)
                ),
                None,
            )
            if found is None:
                continue
            u = found
        else:
            u = o.units[first_moved[j] - int(unit_starts[j])]
        add(
            "anchor_moved",
            "warning",
            "anchor",
            "organization",
            o.id,
            [u],
            unit=_label(business, u),
            org=_olabel(o),
            parent=_olabel(parent),
        )

    # terms
    soon = today + timedelta(days=rules.expiring_days)
    for o, ends in compress(zip(orgs, terms, strict=True), map(operator.is_not, terms, repeat(None))):
        if ends < today:
            add(
                "term_expired",
                "error",
                "term_years",
                "organization",
                o.id,
                org=_olabel(o),
                date=ends.isoformat(),
            )
        elif ends <= soon:
            add(
                "term_expiring",
                "warning",
                "term_years",
                "organization",
                o.id,
                org=_olabel(o),
                date=ends.isoformat(),
            )

    # units with enough formal members and no organization; groups of small units without one
    findings.extend(_unorganized_units(business, rules, covered, below))
    rank = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (rank[f.severity], f.code, f.subject_id))
    return findings


def _coverage(business: Business, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit position: covered by a branch at it or above; a branch at it or below. `at`: the positions of
    the active units that branches are anchored to."""
    ix = business._index()
    n = ix.n
    if not len(at):
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    anchored = np.zeros(n + 1, dtype=np.int64)
    anchored[at] = 1
    end = np.asarray(ix.end, dtype=np.int64)
    # a subtree is a range of the pre-order: +1 where an anchored unit's range starts, -1 after it ends
    step = anchored.copy()
    np.subtract.at(step, end[anchored[:n] == 1] + 1, 1)
    covered = np.cumsum(step)[:n] > 0
    cs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(anchored[:n], out=cs[1:])
    below = cs[end + 1] - cs[:n] > 0
    return covered, below


def _unorganized_units(business: Business, rules: RuleSet, covered: np.ndarray, below: np.ndarray) -> list[Finding]:
    out = []
    floor = rules.min_formal_members
    ix = business._index()
    formal_below = ix.formal_below()
    parent = np.asarray(ix.parent, dtype=np.int64)
    has_parent = parent >= 0
    p = np.maximum(parent, 0)
    # maximal subtrees with no branch at all, under a unit that has a branch somewhere (or at the root)
    maximal = ~covered & ~below & (formal_below > 0) & (~has_parent | covered[p] | below[p])
    small_by_parent: dict[str | None, list[str]] = defaultdict(list)
    order, par = business.order, ix.parent
    for i in np.flatnonzero(maximal).tolist():
        u = order[i]
        formal = int(formal_below[i])
        if formal >= floor:
            out.append(
                _finding(
                    rules,
                    "unit_without_organization",
                    "error",
                    "min_formal_members",
                    "unit",
                    u,
                    unit=_label(business, u),
                    formal=formal,
                )
            )
        else:
            small_by_parent[order[par[i]] if par[i] >= 0 else None].append(u)
    for p_id, us in sorted(small_by_parent.items(), key=lambda kv: kv[0] or ""):
        total = sum(int(formal_below[ix.pos[u]]) for u in us)
        if total >= floor:
            for i in range(0, len(us), rules.joint_max_units):
                g = us[i : i + rules.joint_max_units]
                out.append(
                    _finding(
                        rules,
                        "units_need_joint_branch",
                        "warning",
                        "joint_max_units",
                        "unit",
                        g[0],
                        g,
                        count=len(g),
                        parent=_label(business, p_id) if p_id else "-",
                        floor=floor,
                        units=", ".join(_label(business, u) for u in g),
                    )
                )
    return out


def _org_subtree_members(orgs: Sequence[Org], by_id: dict[str, Org] | None = None) -> dict[str, int]:
    """Members of each organization and everything under it (parents are validated: no cycles)."""
    by_id = {o.id: o for o in orgs} if by_id is None else by_id  # the last of a repeated id, as a dict does
    ids = list(by_id)
    n = len(ids)
    if None in by_id:  # an organization without an id (not validated): None parents must not find it
        return _org_subtree_members_walk(orgs)
    index = dict(zip(ids, range(n), strict=True))
    values = by_id.values()
    up = np.fromiter(map(index.get, map(operator.attrgetter("parent"), values), repeat(-1)), dtype=np.int64, count=n)
    sizes = np.fromiter(map(len, map(operator.attrgetter("members"), values)), dtype=np.int64, count=n)
    # depth of each organization: follow the parent links of all at once, level by level
    depth = np.zeros(n, dtype=np.int64)
    cur = up.copy()
    for _ in range(64):
        live = cur >= 0
        if not live.any():
            break
        depth[live] += 1
        cur[live] = up[cur[live]]
    else:  # very deep, or a cycle: one by one
        return _org_subtree_members_walk(orgs)
    # deepest first: each adds its subtree to its parent's
    for d in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == d)
        np.add.at(sizes, up[at], sizes[at])
    return dict(zip(ids, sizes.tolist(), strict=True))


def _org_subtree_members_walk(orgs: Sequence[Org]) -> dict[str, int]:
    """`_org_subtree_members` for parent links that may form a cycle (organizations not validated)."""
    out = {o.id: len(o.members) for o in orgs}
    parent = {o.id: o.parent for o in orgs}
    depth: dict[str, int] = {}
    for o in orgs:
        path: list[str] = []
        x: str | None = o.id
        while x is not None and x not in depth and x in parent and len(path) <= len(parent):
            path.append(x)
            x = parent[x]
        base = depth.get(x, -1) if x is not None else -1
        for y in reversed(path):
            base += 1
            depth[y] = base
    for oid in sorted(out, key=lambda i: -depth.get(i, 0)):
        p = parent.get(oid)
        if p is not None and p in out:
            out[p] += out[oid]
    return out


def _label(business: Business, u: str | None) -> str:
    if u is None:
        return "-"
    unit = business.units.get(u)
    return f"{unit.name} ({u})" if unit and unit.name else str(u)


def _olabel(o: Org) -> str:
    return f"{o.name} ({o.id})" if o.name else f"{o.kind} {o.id}"


# ----------------------------------------------------------------------------------------------- plan


@dataclass
class Plan:
    organizations: list[Org]
    findings: list[Finding]  # the current tree's findings (what the plan addresses)
    remaining: list[Finding]  # findings of the planned tree
    stats: dict
    unplaced: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "organizations": [o.to_json() for o in self.organizations],
            "findings": [f.to_json() for f in self.findings],
            "remaining_findings": [f.to_json() for f in self.remaining],
            "stats": self.stats,
            "unplaced": self.unplaced,
        }


class _Piece:
    """Unorganized members waiting for a branch: on `units` (none: their units are dissolved)."""

    __slots__ = ("units", "members", "formal", "division", "total", "at")

    def __init__(self, units: tuple[str, ...], members: Sequence[str], formal: int, division: str, at: int = -1):
        self.units = units
        self.members = members
        self.formal = formal
        self.division = division
        self.total = len(members)
        self.at = at  # the position of its unit (-1: none)


@dataclass(slots=True)
class _NewBranch:
    units: tuple[str, ...]
    members: Sequence[str]  # its own list, or one of `members_of` when `ordered` (then never modified)
    joint: bool
    part: int = 0  # for balanced parts of one unit
    ordered: bool = False  # members in id order already
    formal: int = 0  # formal members among `members`
    at: int = -1  # position of its first unit (-1: not known)
    anchor: int = -1  # position of its anchor: its unit, or the units' lowest common ancestor (-1: not known)


class _Kept:
    """A kept branch while planning: its units, the members it covers now (its region) and the formal ones."""

    __slots__ = ("units", "members", "formal")

    def __init__(self, units: tuple[str, ...], members: list[str], formal: int):
        self.units, self.members, self.formal = units, members, formal


def plan(
    business: Business,
    orgs: Sequence[Org],
    rules: RuleSet,
    *,
    today: date | None = None,
    progress: Progress = _noop,
    findings: list[Finding] | None = None,
) -> Plan:
    """Propose a compliant organization tree for `business`, keeping what is valid in `orgs`.

    `findings` may pass the audit of `orgs` already made (by `audit` with the same arguments), to save
    doing it twice."""
    with _no_gc():
        return _plan(business, orgs, rules, today=today, progress=progress, findings=findings)


@contextlib.contextmanager
def _no_gc():
    """The planner allocates millions of small acyclic objects; the cyclic collector would scan the heap
    again and again for nothing, so it pauses while the planner runs."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plan(business: Business, orgs: Sequence[Org], rules: RuleSet, *, today, progress, findings) -> Plan:
    # the members the current organizations list, by index: made once for validation, audit and churn
    listing = _Listing.of(business, orgs) if any(o.members for o in orgs) else None
    _validate_orgs(orgs, business, rules, file="organizations", listing=listing)
    if findings is None:
        findings = _audit(business, orgs, rules, today=today, listing=listing)
    progress("audit", 1, 4)

    # 1. keep the valid existing branches (re-checking as dropped regions flow to enclosing branches)
    candidates = [o for o in orgs if o.kind in rules.branch_kinds]
    company_formal = len(business.formal)
    while True:
        chosen = set(map(id, candidates))
        regions, region_formal, covered = _regions(
            business, candidates, listing.subset([id(o) in chosen for o in orgs]) if listing is not None else None
        )
        invalid = {
            b.id
            for b in candidates
            if not _valid_branch(business, b, region_formal[b.id], len(regions[b.id]), rules, company_formal)
        }
        if not invalid:
            break
        candidates = [b for b in candidates if b.id not in invalid]
    kept = candidates
    progress("kept", 2, 4)

    # 2. organize the rest bottom-up (the kept branches cover whole units: the rest is the other units)
    new_branches, leftovers = _form(business, covered, rules)
    unplaced: list[dict] = []
    # kept branches carry the members they cover now (their region), not the lists they came with
    branch_list: list[tuple[str | None, _NewBranch | _Kept]] = [
        (b.id, _Kept(b.units, regions[b.id], region_formal[b.id])) for b in kept
    ] + [(None, nb) for nb in new_branches]
    if leftovers:
        if not branch_list:
            members = [m for p in leftovers for m in p.members]
            root_units = tuple(
                sorted({business.roots[0]} if len(business.roots) == 1 else {u for p in leftovers for u in p.units})
            )
            formal = sum(p.formal for p in leftovers)
            branch_list.append((None, _NewBranch(root_units, members, joint=len(root_units) > 1, formal=formal)))
        else:
            unplaced = _attach_leftovers(business, leftovers, branch_list, rules)
    progress("branches", 3, 4)

    # 3. ids, upper levels, parents
    planned, formal_of = _finish(business, orgs, branch_list, regions, rules)
    churn, newly = _churn(business, orgs, listing, planned, rules)
    old_ids = {o.id for o in orgs}
    new_ids = {o.id for o in planned}
    by_old = {o.id: o for o in orgs}
    unchanged = [o.id for o in planned if o.id in by_old and _same(o, by_old[o.id])]
    kinds = Counter(o.kind for o in planned)
    stats = {
        "rules": rules.name,
        "members": len(business.members),
        "units": len(business.units),
        "organizations": len(planned),
        "by_kind": dict(sorted(kinds.items())),
        "kept": len(unchanged),
        "changed": len(new_ids & old_ids - set(unchanged)),
        "new": len(new_ids - old_ids),
        "dissolved": sorted(old_ids - new_ids),
        "churn": churn,
        "newly_placed": newly,
        "unplaced": sum(len(u["members"]) for u in unplaced),
        "findings_before": len(findings),
    }
    # the planned tree places everyone once but the unplaced, and the planner counted each branch's formal
    # members as it went: the audit takes both from here instead of looking up a million ids again
    placement = (
        [formal_of[o.id] for o in planned if o.kind in rules.branch_kinds],
        {m for u in unplaced for m in u["members"]},
    )
    remaining = _audit(business, planned, rules, today=today, placement=placement)
    stats["findings_after"] = len(remaining)
    progress("done", 4, 4)
    return Plan(planned, findings, remaining, stats, unplaced)


def _same(a: Org, b: Org) -> bool:
    if a.parent != b.parent or a.kind != b.kind:
        return False
    if a.units != b.units and tuple(sorted(a.units)) != tuple(sorted(b.units)):
        return False
    return a.members == b.members or tuple(sorted(a.members)) == tuple(sorted(b.members))


def _churn(
    business: Business, orgs: Sequence[Org], listing: _Listing | None, planned: list[Org], rules: RuleSet
) -> tuple[int, int]:
    """Members whose branch changes, and members newly placed: a member's current branch is the first branch
    of `orgs` that lists them."""
    new_branches = [o for o in planned if o.kind in rules.branch_kinds]
    is_old = [o.kind in rules.branch_kinds for o in orgs]
    before = listing.subset(is_old) if listing is not None else None
    if before is None or not len(before.flat):
        return 0, sum(len(o.members) for o in new_branches)
    old_branches = list(compress(orgs, is_old))
    known = before.flat >= 0
    n_members = len(business._members_index().ids)
    if not (np.bincount(before.flat[known], minlength=n_members) > 1).any():
        # nobody was in two branches: a planned branch that lists what the old branch of its id listed moves
        # nobody, and nobody else was in that old branch
        old_by_id = {o.id: o for o in old_branches}
        new_branches = [
            o for o in new_branches if (b := old_by_id.get(o.id)) is None or not _same_members(o.members, b.members)
        ]
        if not new_branches:
            return 0, 0
    now = _Listing.of(business, new_branches)
    owner = np.repeat(np.arange(len(old_branches)), before.lens)
    members, first = np.unique(before.flat[known], return_index=True)
    was = np.full(n_members, -1, dtype=np.int64)
    was[members] = owner[known][first]
    # the old branch of each planned member, as the number of the planned branch with the same id (-2: none)
    same = {o.id: j for j, o in enumerate(new_branches)}
    old_as_new = np.asarray([same.get(o.id, -2) for o in old_branches] + [-1], dtype=np.int64)
    was_new = old_as_new[was[now.flat]]  # was == -1 picks the final -1: no branch before
    newly = int((was_new == -1).sum())
    placed_in = np.repeat(np.arange(len(new_branches)), now.lens)
    churn = int(((was_new != -1) & (was_new != placed_in)).sum())
    return churn, newly


def _same_members(a: Sequence[str], b: Sequence[str]) -> bool:
    """The same members in the same order (tuples compare item by item, the same strings by identity)."""
    return type(a) is type(b) and a == b


def _valid_branch(business: Business, b: Org, formal: int, total: int, rules: RuleSet, company_formal: int) -> bool:
    if not b.units or not all(business.is_active(u) for u in b.units):
        return False
    if b.kind == rules.joint_kind and len(b.units) > rules.joint_max_units:
        return False
    if b.kind == rules.branch_kind and len(b.units) > 1:
        return False
    if total > rules.branch_cap and _splittable(business, b, formal, rules):
        return False
    return formal >= rules.min_formal_members or (company_formal < rules.min_formal_members and total > 0)


def _splittable(business: Business, b: Org, formal: int, rules: RuleSet) -> bool:
    """Whether an over-cap branch could be split: into two parts each reaching the floor, or along units."""
    return formal >= 2 * rules.min_formal_members or len(b.units) > 1


def _joined(pieces: Iterable[_Piece], head: Iterable[str] = ()) -> list[str]:
    out = list(head)
    for p in pieces:
        out.extend(p.members)
    return out


def _form(business: Business, covered: list[bool] | None, rules: RuleSet) -> tuple[list[_NewBranch], list[_Piece]]:
    """Bottom-up formation over the members of the units that no kept branch covers (`covered`, by position in
    the pre-order; None: no unit is covered); returns new branches and leftover pieces."""
    ix = business._index()
    floor, cap = rules.min_formal_members, rules.branch_cap
    order, mem, ufor, end, active, division = business.order, ix.mem, ix.ufor, ix.end, ix.active, ix.division
    pending: dict[int, list[_Piece]] = {}
    out: list[_NewBranch] = []
    for i in range(ix.n - 1, -1, -1):  # children before parents
        if covered is not None and covered[i]:
            own: Sequence[str] = ()
            own_formal = 0
        else:
            own = mem[i]
            own_formal = ufor[i]
        kids: list[_Piece] = []
        c, last = i + 1, end[i]
        while c <= last:  # the children of i
            got = pending.pop(c, None)
            if got:
                kids.extend(got)
            c = end[c] + 1
        if not own and not kids:
            continue
        u = order[i]
        if not kids:  # members of its own only (most units): the general case below, in short
            # (`own` is the unit's list in members_of here: pieces and branches share it, read only)
            if not active[i]:
                pending[i] = [_Piece((), own, own_formal, division[i])]
            elif own_formal < floor:
                pending[i] = [_Piece((u,), own, own_formal, division[i], i)]
            elif len(own) <= cap:
                out.append(_NewBranch((u,), own, joint=False, ordered=True, formal=own_formal, at=i))
            else:
                out.extend(_split(u, own, business, rules, at=i, ordered=True))
            continue
        own = list(own)
        if active[i] and any(not p.units for p in kids):
            # members of dissolved sub-units reach their first active unit: they count as its own
            for p in kids:
                if not p.units:
                    own.extend(p.members)
                    own_formal += p.formal
            kids = [p for p in kids if p.units]
        if not active[i]:
            # a dissolved or merged unit anchors nothing: its members wait at the parent
            pending[i] = kids + ([_Piece((), own, own_formal, division[i])] if own else [])
            continue
        pool_formal = own_formal + sum(p.formal for p in kids)
        pool_total = len(own) + sum(p.total for p in kids)
        if pool_formal >= floor and pool_total <= cap:
            out.append(_NewBranch((u,), _joined(kids, own), joint=False, formal=pool_formal, at=i))
            continue
        if pool_formal < floor:
            pending[i] = _merge_up(u, own, own_formal, kids, division[i], i)
            continue
        # too many for one branch: joint branches of small sub-units first, then the unit's own members
        groups, rest = _pack(kids, rules, business)
        for g in groups:
            # (each piece in a group is on one unit)
            at = sorted((p.units[0], p.at) for p in g)
            units = tuple(x for x, _ in at)
            nb = _NewBranch(units, _joined(g), True, 0, False, sum(p.formal for p in g), at[0][1])
            nb.anchor = _anchor_of(ix, [a for _, a in at])
            out.append(nb)
        rest_formal = own_formal + sum(p.formal for p in rest)
        rest_total = len(own) + sum(p.total for p in rest)
        if rest_formal >= floor and rest_total <= cap:
            out.append(_NewBranch((u,), _joined(rest, own), joint=False, formal=rest_formal, at=i))
        elif own_formal >= floor and rest_formal >= floor:
            out.extend(_split(u, _joined(rest, own), business, rules, at=i))
        elif rest_total:
            pending[i] = _merge_up(u, own, own_formal, rest, division[i], i)
    leftovers = [p for ps in pending.values() for p in ps]
    return out, leftovers


def _merge_up(u: str, own: list[str], own_formal: int, kids: list[_Piece], division: str, at: int) -> list[_Piece]:
    """Leftovers of unit u (at position `at`) for its parent. If u has unorganized members of its own, u
    becomes one piece (a branch on u would take its whole remaining subtree anyway); otherwise the sub-units'
    pieces go up."""
    if own:
        return [_Piece((u,), _joined(kids, own), own_formal + sum(p.formal for p in kids), division, at)]
    return kids


def _pack(pieces: list[_Piece], rules: RuleSet, business: Business) -> tuple[list[list[_Piece]], list[_Piece]]:
    """First-fit decreasing packing of small sibling pieces into joint groups: each group has at least the
    floor of formal members, at most the cap of members and at most `joint_max_units` units; pieces of the
    same division are tried together first."""
    floor, cap, max_units = rules.min_formal_members, rules.branch_cap, rules.joint_max_units
    ordered = sorted(
        (p for p in pieces if p.units and p.total <= cap), key=lambda p: (p.division, -p.formal, -p.total, p.units)
    )
    groups: list[list[_Piece]] = []
    open_group: list[_Piece] = []
    n_units = n_total = n_formal = 0  # of the open group
    rest: list[_Piece] = [p for p in pieces if not p.units or p.total > cap]
    for p in ordered:
        if open_group and (n_units + len(p.units) > max_units or n_total + p.total > cap):
            if n_formal >= floor:
                groups.append(open_group)
            else:
                rest.extend(open_group)
            open_group = []
            n_units = n_total = n_formal = 0
        open_group.append(p)
        n_units += len(p.units)
        n_total += p.total
        n_formal += p.formal
        if n_formal >= floor:
            groups.append(open_group)
            open_group = []
            n_units = n_total = n_formal = 0
    rest.extend(open_group)
    # a group under the floor may still join the last formed group if that keeps within the limits
    if rest and groups:
        last = groups[-1]
        n_units = sum(len(x.units) for x in last)
        n_total = sum(x.total for x in last)
        for p in list(rest):
            if p.units and n_units + len(p.units) <= max_units and n_total + p.total <= cap:
                last.append(p)
                rest.remove(p)
                n_units += len(p.units)
                n_total += p.total
    return groups, rest


def _split(
    u: str, members: Sequence[str], business: Business, rules: RuleSet, *, at: int = -1, ordered: bool = False
) -> list[_NewBranch]:
    """Balanced parts of one unit too big for one branch: as few parts as the cap allows, each with at least
    the floor of formal members; formal and probationary members spread evenly, in id order. (`ordered`:
    `members` are in id order already; `at`: the unit's position.)"""
    flags = list(map(business.formal.__contains__, members))
    formal = list(compress(members, flags))
    prob = list(compress(members, map(operator.not_, flags)))
    k = max(1, math.ceil(len(members) / rules.branch_cap))
    k = max(1, min(k, len(formal) // max(1, rules.min_formal_members)))
    if not ordered:
        formal.sort()
        prob.sort()
    spread = formal + prob
    parts = [spread[i::k] for i in range(k)]
    return [
        _NewBranch((u,), p, joint=False, part=i + 1 if k > 1 else 0, formal=len(range(i, len(formal), k)), at=at)
        for i, p in enumerate(parts)
    ]


def _attach_leftovers(business: Business, leftovers: list[_Piece], branch_list: list, rules: RuleSet) -> list[dict]:
    """Put the last small pieces into the nearest branch with room (the deepest common ancestor first, then
    the same division, then the smallest); report those that fit nowhere."""
    # candidates for a piece are the branches anchored in the subtree of its nearest ancestors; subtrees are
    # ranges of the pre-order, and each ancestor's list is built only when a piece asks for it
    ix = business._index()
    pos, end = ix.pos, ix.end
    # (position, branch) of every unit of every branch, by position; units that pieces bring come in `extra`
    counts = [len(b.units) for _, b in branch_list]
    unit_pos = np.fromiter(
        map(pos.get, chain.from_iterable(b.units for _, b in branch_list), repeat(-1)),
        dtype=np.int64,
        count=sum(counts),
    )
    owner = np.repeat(np.arange(len(branch_list), dtype=np.int64), counts)[unit_pos >= 0]
    unit_pos = unit_pos[unit_pos >= 0]
    by_pos = np.argsort(unit_pos, kind="stable")
    unit_pos, owner = unit_pos[by_pos], owner[by_pos]
    extra: list[tuple[int, int]] = []
    cache: dict[str, set[int]] = {}

    def near(a: str) -> set[int]:
        got = cache.get(a)
        if got is None:
            lo, hi = pos[a], end[pos[a]]
            left, right = np.searchsorted(unit_pos, [lo, hi + 1]).tolist()
            got = set(owner[left:right].tolist())
            got.update(idx for p, idx in extra if lo <= p <= hi)
            cache[a] = got
        return got

    unplaced = []
    for piece in leftovers:
        if not piece.units:
            unplaced.append(
                {
                    "members": list(piece.members),
                    "units": [],
                    "reason": "their units are dissolved and no active unit above them has room",
                }
            )
            continue
        best = None
        start = piece.units[0]
        for a in [start, *business.ancestors(start)]:
            for idx in sorted(near(a)):
                b = branch_list[idx][1]
                if len(set(b.units) | set(piece.units)) > rules.joint_max_units:
                    continue
                if len(b.members) + piece.total > rules.branch_cap:
                    continue
                same_division = any(
                    business.units[u].division == piece.division for u in b.units if u in business.units
                )
                key = (not same_division, len(b.members), idx)
                if best is None or key < best[0]:
                    best = (key, idx)
            if best is not None:
                break
        if best is None:
            unplaced.append(
                {
                    "members": list(piece.members),
                    "units": list(piece.units),
                    "reason": f"fewer than {rules.min_formal_members} formal members in reach, and no branch nearby "
                    f"with room (at most {rules.joint_max_units} units and {rules.branch_cap} members)",
                    "suggestion": "join a neighbouring street's branch, or a community-based joint branch",
                }
            )
            continue
        idx = best[1]
        old_id, b = branch_list[idx]
        if isinstance(b, _Kept):
            b = _NewBranch(tuple(b.units), list(b.members), joint=True, formal=b.formal)
            # an enlarged kept branch is a changed organization: it keeps its id through matching
            branch_list[idx] = (old_id, b)
        b.units = tuple(sorted(set(b.units) | set(piece.units)))
        b.members = b.members + piece.members
        b.joint = len(b.units) > 1
        b.ordered = False
        b.formal += piece.formal
        b.at = b.anchor = -1
        for u in piece.units:
            if u in pos:
                extra.append((pos[u], idx))
            for a in [u, *business.ancestors(u)]:
                if a in cache:
                    cache[a].add(idx)
    return unplaced


def _finish(
    business: Business, orgs: Sequence[Org], branch_list: list, regions: dict[str, list[str]], rules: RuleSet
) -> tuple[list[Org], dict[str, int]]:
    """Ids for new branches, upper levels at the units where the business branches out, parents; and the
    number of formal members of each branch (by id)."""
    ix = business._index()
    pos, depth, unit_at = ix.pos, ix.depth, ix.unit
    old = {o.id: o for o in orgs}
    used: set[str] = set()
    branches: list[Org] = []
    anchors: list[int] = []  # position of each branch's anchor (-1: none)
    firsts: list[int] = []  # position of each branch's first unit (-1: none), for the order of the result
    formal_of: dict[str, int] = {}
    # kept branches first: they keep their ids and names
    for old_id, b in branch_list:
        if old_id is not None and isinstance(b, _Kept):
            o = old[old_id]
            region = regions[o.id]
            region.sort()  # the planner's own list
            branches.append(Org(o.id, None, o.kind, tuple(o.units), tuple(region), o.name, o.term_ends, o.committee))
            formal_of[o.id] = b.formal
            used.add(o.id)
            first = pos[o.units[0]]
            firsts.append(first)
            anchors.append(first if len(o.units) == 1 else _anchor_of(ix, [pos[u] for u in o.units]))
    dropped = [o for o in orgs if o.kind in rules.branch_kinds and o.id not in used]
    member_owner: dict[str, str] = {}
    for o in dropped:
        member_owner.update(dict.fromkeys(o.members, o.id))
    anchor_index = {tuple(sorted(o.units)): o for o in dropped}
    counter: dict[str, int] = {}
    labels = {k: _kind_label(k) for k in rules.branch_kinds}
    for old_id, nb in branch_list:
        if old_id is not None and isinstance(nb, _Kept):
            continue
        units = nb.units
        kind = rules.joint_kind if (nb.joint or len(units) > 1) else rules.branch_kind
        key = tuple(sorted(units)) if len(units) > 1 else units
        match = old[old_id] if old_id is not None else None
        if match is None and anchor_index:
            cand = anchor_index.get(key)
            if cand is not None and cand.id not in used and not nb.part:
                match = cand
        if match is None and nb.members and member_owner:
            overlap = Counter(map(member_owner.get, nb.members))
            overlap.pop(None, None)
            best = max(((n, oid) for oid, n in overlap.items() if oid not in used), default=(0, None))
            if best[1] is not None and best[0] * 2 >= len(nb.members):
                match = old[best[1]]
        if not nb.ordered:
            assert isinstance(nb.members, list)  # the planner's own list (a shared one is `ordered`)
            nb.members.sort()
        members = tuple(nb.members)
        if not key:
            first = at = -1
        elif len(key) == 1:
            first = at = nb.at if nb.at >= 0 else pos[key[0]]
        elif nb.anchor >= 0:
            first, at = nb.at, nb.anchor
        else:
            first, at = pos[key[0]], _anchor_of(ix, [pos[u] for u in key])
        if match is not None and match.id not in used:
            oid = match.id
            used.add(oid)
            branches.append(Org(oid, None, kind, key, members, match.name, match.term_ends, match.committee))
        else:
            base = "+".join(key) if len(key) <= 2 else f"{key[0]}+{len(key) - 1}"
            n = counter[base] = counter.get(base, 0) + 1
            suffix = f"-{nb.part}" if nb.part else ("" if n == 1 else f"-{n}")
            # the name, as _new_name makes it
            u0 = unit_at[first] if first >= 0 else None
            name = (u0.name or u0.id) if u0 else "?"
            if len(key) > 1:
                name = f"{name} +{len(key) - 1}"
            name = f"{name} {labels[kind]}" + (f" {nb.part}" if nb.part else "")
            oid = f"new:{base}{suffix}"
            if oid in old or oid in used:
                oid = _fresh_id(oid, old, used)
            used.add(oid)
            branches.append(Org(oid, None, kind, key, members, name))
        formal_of[oid] = nb.formal
        firsts.append(first)
        anchors.append(at)
    uppers = _upper_levels(business, branches, anchors, orgs, rules, used)
    _link_parents(business, branches, anchors, uppers)
    # the result by the depth of the first unit, upper levels first, then by id (ids are unique)
    result = uppers + branches
    upper_kinds = rules.upper_kinds
    keys = [(depth[pos[o.units[0]]], o.kind not in upper_kinds, o.id) for o in uppers]
    keys += [
        (depth[f] if f >= 0 else 0, o.kind not in upper_kinds, o.id) for o, f in zip(branches, firsts, strict=True)
    ]
    return [result[k] for k in sorted(range(len(result)), key=keys.__getitem__)], formal_of


def _fresh_id(base: str, old: dict, used: set) -> str:
    candidate, n = base, 1
    while candidate in old or candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


_KIND_LABELS = {
    "branch": "branch",
    "joint_branch": "joint branch",
    "general_branch": "general branch",
    "secondary_committee": "secondary committee",
    "committee": "committee",
}


def _kind_label(kind: str) -> str:
    return _KIND_LABELS.get(kind, kind) if kind in _KIND_LABELS else kind.replace("_", " ")


def _new_name(business: Business, units: tuple[str, ...], kind: str, part: int, rules: RuleSet) -> str:
    first = business.units.get(units[0]) if units else None
    base = (first.name or first.id) if first else "?"
    if len(units) > 1:
        base = f"{base} +{len(units) - 1}"
    return f"{base} {_kind_label(kind)}" + (f" {part}" if part else "")


def _anchor_of(ix: _Index, at: list[int]) -> int:
    """Position of the anchor of a branch on units at positions `at` (in the order of their ids): the lowest
    common ancestor of the first and each next one in turn, as `Business.lca` finds it (one in another tree
    is passed over)."""
    parent, depth = ix.parent, ix.depth
    a = at[0]
    for b in at[1:]:
        x, y = a, b
        while depth[x] > depth[y]:
            x = parent[x]
        while depth[y] > depth[x]:
            y = parent[y]
        while x != y and x >= 0 and y >= 0:
            x, y = parent[x], parent[y]
        if x >= 0 and y >= 0:
            a = x
    return a


def _upper_levels(
    business: Business, branches: list[Org], anchors: list[int], orgs: Sequence[Org], rules: RuleSet, used: set[str]
) -> list[Org]:
    ix = business._index()
    n = ix.n
    anchors_a = np.asarray(anchors, dtype=np.int64)
    at = anchors_a[anchors_a >= 0]
    sizes = np.fromiter(map(len, map(operator.attrgetter("members"), branches)), dtype=np.int64, count=len(branches))
    sizes = sizes[anchors_a >= 0]
    members_at = np.zeros(n, dtype=np.int64)
    np.add.at(members_at, at, sizes)
    branches_at_a = np.bincount(at, minlength=n)
    sub_branches_a = ix.subtree_sums(branches_at_a)
    parent = np.asarray(ix.parent, dtype=np.int64)
    # groups: branches at the unit, and sub-units with branches below them
    groups_a = branches_at_a + np.bincount(parent[(parent >= 0) & (sub_branches_a > 0)], minlength=n)
    sub_members = ix.subtree_sums(members_at).tolist()
    sub_branches, branches_at, groups = sub_branches_a.tolist(), branches_at_a.tolist(), groups_a.tolist()
    kids_of, order, pos = ix.kids, business.order, ix.pos
    old_upper: dict[str, Org] = {}
    for o in orgs:
        if o.kind in rules.upper_kinds and len(o.units) == 1:
            old_upper.setdefault(o.units[0], o)
    out: list[Org] = []
    old_ids = {x.id: x for x in orgs}

    def make(i: int, kind: str) -> None:
        u = order[i]
        o = old_upper.get(u)
        if o is not None and o.id not in used:
            used.add(o.id)
            out.append(Org(o.id, None, kind, (u,), (), o.name, o.term_ends, o.committee))
        else:
            oid = _fresh_id(f"new:{u}:{kind}", old_ids, used)
            used.add(oid)
            out.append(Org(oid, None, kind, (u,), (), _new_name(business, (u,), kind, 0, rules)))

    for root in business.roots:
        r = pos[root]
        if not sub_branches[r]:
            continue
        top = r
        while groups[top] == 1 and branches_at[top] == 0:
            top = next(c for c in kids_of(top) if sub_branches[c])
        if sub_members[r] >= rules.primary_committee_at:
            make(top, rules.committee_kind)
            level = "committee"
        elif sub_members[top] >= rules.general_branch_at and sub_branches[top] >= 2:
            make(top, rules.general_kind)
            level = "general"
        else:
            continue  # nothing is set up below the top either
        # below the top, descend to the next units where the business branches out again
        stack = [(c, level) for c in kids_of(top) if sub_branches[c]]
        while stack:
            i, inside = stack.pop()
            here = inside
            if groups[i] >= 2 or branches_at[i] >= 2:
                if (
                    inside == "committee"
                    and rules.secondary_committee_at
                    and sub_members[i] >= rules.secondary_committee_at
                ):
                    make(i, rules.secondary_kind)
                    here = "secondary"
                elif (
                    inside in ("committee", "secondary")
                    and sub_members[i] >= rules.general_branch_at
                    and sub_branches[i] >= 2
                ):
                    make(i, rules.general_kind)
                    here = "general"
            if here == "general":
                continue  # a general branch has only branches under it
            stack.extend((c, here) for c in kids_of(i) if sub_branches[c])
    return out


def _link_parents(business: Business, branches: list[Org], anchors: list[int], uppers: list[Org]) -> None:
    """Each organization's parent: the nearest upper level at or above its anchor (strictly above, for an
    upper level)."""
    upper_at = {o.units[0]: o for o in uppers}
    if not upper_at:
        return  # no upper levels: every parent stays None
    ix = business._index()
    # nearest upper level at or above each position: subtrees are nested ranges of the pre-order, so
    # writing them outermost first leaves the nearest one on each position
    nearest = np.full(ix.n, -1, dtype=np.int64)
    ids: list[str] = []
    for p, o in sorted((ix.pos[u], o) for u, o in upper_at.items()):
        nearest[p : ix.end[p] + 1] = len(ids)
        ids.append(o.id)
    near = nearest.tolist()
    parent = ix.parent
    for o in uppers:
        p = parent[ix.pos[o.units[0]]]
        k = near[p] if p >= 0 else -1
        o.parent = ids[k] if k >= 0 else None
    for b, a in zip(branches, anchors, strict=True):
        if a >= 0:
            k = near[a]
            b.parent = ids[k] if k >= 0 else None


# ----------------------------------------------------------------------------------------------- re-plan


@dataclass
class BusinessDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[dict] = field(default_factory=list)  # {unit, old_parent, new_parent}
    renamed: list[dict] = field(default_factory=list)
    merged: list[dict] = field(default_factory=list)  # {units: [...], into}
    split: list[dict] = field(default_factory=list)  # {unit, into: [...]}
    members_moved: int = 0
    members_joined: int = 0  # in the new version's roster, not in the old one's

    @property
    def unchanged(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.moved
            or self.renamed
            or self.merged
            or self.split
            or self.members_moved
            or self.members_joined
        )

    def to_json(self) -> dict:
        d = asdict(self)
        d["unchanged"] = self.unchanged
        return d


def diff_business(old: Business, new: Business) -> BusinessDiff:
    """What changed between two versions of a business architecture: units added, removed (dissolved),
    moved (new parent), renamed, merged (removed units whose members went mostly to one unit, or units marked
    merged) and split (a unit whose members went to two or more units, at least one of them new)."""
    d = BusinessDiff()
    old_active = {u for u in old.units if old.is_active(u)}
    new_active = {u for u in new.units if new.is_active(u)}
    d.added = sorted(new_active - old_active)
    d.removed = sorted(old_active - new_active)
    for u in sorted(old_active & new_active):
        if old.units[u].parent != new.units[u].parent:
            d.moved.append({"unit": u, "old_parent": old.units[u].parent, "new_parent": new.units[u].parent})
        if old.units[u].name != new.units[u].name:
            d.renamed.append({"unit": u, "old_name": old.units[u].name, "new_name": new.units[u].name})
    # follow the members from their old unit to their new one
    flows: dict[str, Counter] = defaultdict(Counter)
    for m in old.members.values():
        nm = new.members.get(m.id)
        if nm is not None:
            flows[m.unit][nm.unit] += 1
            if nm.unit != m.unit:
                d.members_moved += 1
    d.members_joined = sum(1 for m in new.members if m not in old.members)
    into: dict[str, list[str]] = defaultdict(list)
    for u in d.removed:
        target = new.units[u].merged_into if u in new.units and new.units[u].merged_into else None
        if target is None and flows.get(u):
            dest, n = flows[u].most_common(1)[0]
            if dest != u and n * 2 >= sum(flows[u].values()):
                target = dest
        if target is not None:
            into[target].append(u)
    for target, units in sorted(into.items()):
        d.merged.append({"units": sorted(units), "into": target})
    added = set(d.added)
    for u, flow in sorted(flows.items()):
        total = sum(flow.values())
        parts = [v for v, n in flow.items() if n * 5 >= total and v != u]
        if total >= 2 and len([v for v, n in flow.items() if n * 5 >= total]) >= 2 and added & set(parts):
            d.split.append({"unit": u, "into": sorted(v for v, n in flow.items() if n * 5 >= total)})
    return d
