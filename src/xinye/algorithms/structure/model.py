"""Data: units, members, organizations, findings; `Business.build` and the integer indexes over it.

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

import contextlib
import copy
import gc
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, compress, repeat

import numpy as np

from ..errors import InputError, RowError

FORMAL = "formal"
PROBATIONARY = "probationary"
MEMBER_STATUSES = (FORMAL, PROBATIONARY)
UNIT_STATUSES = ("active", "dissolved", "merged")
Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


# ----------------------------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Unit:
    """A business unit. `parent` is None for the root; `division` a division code (for nearness)."""

    id: str
    parent: str | None
    name: str = ""
    kind: str = ""
    division: str = ""
    status: str = "active"
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
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
    secretary: bool | None = None  # has a secretary in office (None: not known)
    committee_size: int | None = None  # members of its elected committee, secretary included (None: not known)

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
        if self.secretary is not None:
            d["secretary"] = self.secretary
        if self.committee_size is not None:
            d["committee_size"] = self.committee_size
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
        """The fields by name, as `dataclasses.asdict` gives them (params copied), `related` as a list; written
        out field by field: a plan of a million members has a hundred thousand findings or more."""
        return {
            "code": self.code,
            "severity": self.severity,
            "rule": self.rule,
            "source": self.source,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "message": self.message,
            "suggestion": self.suggestion,
            "related": list(self.related),
            "text": self.text,
            "params": _copy_params(self.params),
        }


def _copy_params(params: dict) -> dict:
    """A copy of a finding's params, as deep as `dataclasses.asdict` makes it (params are texts: a dict copy)."""
    if all(type(v) is str for v in params.values()):
        return dict(params)
    return copy.deepcopy(params)


class MemberTable(Mapping[str, Member]):
    """A business's members by id, kept as the columns they were read as (ids, units, statuses; ids unique): a
    `Member` is made only when one is asked for, and the index of ids only when one is looked up. A million
    members read from a file are three lists this way, not a million objects and a dict, which the planner
    never needs (it works on the columns)."""

    __slots__ = ("_row", "ids", "statuses", "units")

    def __init__(self, ids: list[str], units: list[str], statuses: list[str]):
        self.ids, self.units, self.statuses = ids, units, statuses
        self._row: dict[str, int] | None = None

    def _index(self) -> dict[str, int]:
        if self._row is None:
            self._row = dict(zip(self.ids, range(len(self.ids)), strict=True))
        return self._row

    def __getitem__(self, mid: str) -> Member:
        k = self._index()[mid]
        return Member(self.ids[k], self.units[k], self.statuses[k])

    def __contains__(self, mid: object) -> bool:
        return mid in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


class Business:
    """A validated business tree with its members. Build it with `Business.build` (raises InputError)."""

    def __init__(
        self,
        units: dict[str, Unit],
        members: Mapping[str, Member],
        order: list[str],
        children: dict[str, list[str]],
        roots: list[str],
        *,
        _columns: tuple[list[str], list[str], list[bool]] | None = None,
    ):
        """`_columns`: the members' ids, units and formal flags in the order of `members`, when known already."""
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
        if _columns is None:
            values = list(members.values())
            ids = [m.id for m in values]
            unit_of = [m.unit for m in values]
            is_formal = [m.status == FORMAL for m in values]
        else:
            ids, unit_of, is_formal = _columns
        self.members_of, self.unit_formal, self._ufor = _group(ids, unit_of, is_formal, pos, order)
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
    def build_columns(
        cls, units: Iterable[Unit], ids: list[str], unit_of: list[str], status: list[str], *, file: str = "business"
    ) -> Business:
        """`build` with the members given as columns (ids, units, statuses), as `structure_io` reads them: the
        same business, or the same errors, without going over a million `Member` objects again."""
        units = list(units)
        fast = cls._valid_columns(units, None, ids, unit_of, status)
        return fast if fast is not None else cls.build(units, map(Member, ids, unit_of, status), file=file)

    @classmethod
    def _build_valid(cls, units: list[Unit], members: list[Member]) -> Business | None:
        """`build` for an input without errors, checking whole columns at once; None if anything is off (then
        `build` goes record by record and names each error)."""
        ids = [m.id for m in members]
        unit_of = [m.unit for m in members]
        status = [m.status for m in members]
        return cls._valid_columns(units, members, ids, unit_of, status)

    @classmethod
    def _valid_columns(
        cls, units: list[Unit], members: list[Member] | None, ids: list[str], unit_of: list[str], status: list[str]
    ) -> Business | None:
        """`_build_valid` with the members' columns at hand (in the order of `members`; None: no `Member` objects,
        the business keeps the columns, see `MemberTable`)."""
        try:
            uids = [u.id for u in units]
            by_id = dict(zip(uids, units, strict=True))
            if len(by_id) < len(units) or not all(uids) or not {u.status for u in units} <= set(UNIT_STATUSES):
                return None
            links = {u.parent for u in units} | {u.merged_into for u in units}
            links.discard(None)
            if not by_id.keys() >= links:
                return None
            mems: Mapping[str, Member]
            if members is None:
                mems = MemberTable(ids, unit_of, status)  # ids checked to be unique below
            else:
                mems = dict(zip(ids, members, strict=True))
                if len(mems) < len(ids):
                    return None
            if not all(ids):
                return None
            if not set(status) <= set(MEMBER_STATUSES):
                return None
            children, roots, order = _tree(by_id)
            if len(order) < len(by_id):
                return None
            is_formal = list(map(FORMAL.__eq__, status))
            business = cls(by_id, mems, order, children, roots, _columns=(ids, unit_of, is_formal))
            # every member in a known unit: checked on the units that have members (a set of a million member
            # units would cost a third of a second)
            if not by_id.keys() >= business.members_of.keys():
                return None
            if members is None:
                # each id once: the formal members' ids are a set already (`business.formal`); only the others
                # are put in one (a set of a million ids costs a third of a second)
                others = set(compress(ids, map(operator.not_, is_formal)))
                if len(business.formal) + len(others) < len(ids) or not business.formal.isdisjoint(others):
                    return None
        except TypeError:  # an unhashable value: let the record-by-record checks say where
            return None
        return business

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


def _group(
    ids: list[str], unit_of: list[str], is_formal: list[bool], pos: dict[str, int], unit_ids: list[str]
) -> tuple[dict[str, list[str]], dict[str, int], list[int] | None]:
    """The members of each unit (in id order; units in the order their first member comes), the number of formal
    members of each unit that has any, and the same numbers by unit position (None: a member is in a unit that
    is not in the tree, which `Business.build` rejects; then by member, as they come).

    The members are sorted by the position of their unit in numpy (stably: each unit's members stay in the
    order they came) rather than appended to their unit's list one by one in Python, a million times at
    national scale; then each unit's list is a slice of the sorted ids."""
    n, m = len(unit_ids), len(ids)
    unit_pos = np.fromiter(map(pos.get, unit_of, repeat(-1)), dtype=np.int64, count=m)
    members_of: dict[str, list[str]] = defaultdict(list)
    if m == 0 or unit_pos.min() < 0:
        for mid, u in zip(ids, unit_of, strict=True):
            members_of[u].append(mid)
        for lst in members_of.values():
            lst.sort()
        return members_of, defaultdict(int, Counter(compress(unit_of, is_formal))), None
    by_unit = np.argsort(unit_pos, kind="stable")
    sorted_ids = list(map(ids.__getitem__, by_unit.tolist()))
    counts = np.bincount(unit_pos, minlength=n)
    ends = np.cumsum(counts)
    # the units with members, in the order of their first member (the first of each run of the stable sort)
    present = np.flatnonzero(counts)
    present = present[np.argsort(by_unit[ends[present] - counts[present]], kind="stable")]
    for i, e, k in zip(present.tolist(), ends[present].tolist(), counts[present].tolist(), strict=True):
        lst = members_of[unit_ids[i]] = sorted_ids[e - k : e]
        lst.sort()
    formal_flags = np.fromiter(is_formal, dtype=bool, count=m)
    ufor = np.bincount(unit_pos[formal_flags], minlength=n)
    # the units with formal members, in the order of their first formal member (as counting them one by one
    # would): the formal members in the stable sort by unit, and the first of each run
    formal_by_unit = by_unit[formal_flags[by_unit]]
    run_unit = unit_pos[formal_by_unit]
    first = np.flatnonzero(np.concatenate(([True], run_unit[1:] != run_unit[:-1]))) if len(run_unit) else run_unit
    with_formal = run_unit[first][np.argsort(formal_by_unit[first], kind="stable")].tolist()
    unit_formal: dict[str, int] = defaultdict(int)
    unit_formal.update(zip(map(unit_ids.__getitem__, with_formal), ufor[with_formal].tolist(), strict=True))
    return members_of, unit_formal, ufor.tolist()


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
        "_members_below",
        "_formal_below_l",
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
        ufor = business._ufor
        if ufor is None:
            ufor = [0] * n
            for u, k in business.unit_formal.items():
                ufor[pos[u]] = k
        self.mem, self.ufor = mem, ufor
        self.utot = list(map(len, mem))
        self._formal_below: np.ndarray | None = None
        self._members_below: np.ndarray | None = None
        self._formal_below_l: list[int] | None = None
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

    def members_below(self) -> np.ndarray:
        """For each position, the members of the units in its subtree."""
        if self._members_below is None:
            self._members_below = self.subtree_sums(self.utot)
        return self._members_below

    def formal_below_list(self) -> list[int]:
        """`formal_below` as a list (for looking up one position at a time)."""
        if self._formal_below_l is None:
            self._formal_below_l = self.formal_below().tolist()
        return self._formal_below_l

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


@contextlib.contextmanager
def no_gc():
    """The planner, and the reading and writing of its files, allocate millions of small acyclic objects; the
    cyclic collector would scan the heap again and again for nothing, so it pauses meanwhile (nested: only the
    outermost turns it back on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
