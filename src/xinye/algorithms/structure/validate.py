"""Checks on an organizations file before it is audited or planned.

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError, RowError
from ..rules import RuleSet
from .model import Business, Org, _Listing


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
