"""Re-plan: what changed between two versions of a business tree.

Part of `xinye.algorithms.structure` (see its docstring for the model and the planning steps)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from .model import Business

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
