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

Modules
-------
- `model`: the data (`Unit`, `Member`, `Org`, `Finding`), `Business.build` and its integer indexes.
- `validate`: checks on an organizations file (`validate_orgs`).
- `regions`: which members each branch covers.
- `audit`: the findings on a tree (`audit`, `MESSAGES`).
- `plan`: the planner (`plan`, `Plan`): keep, form, pack, split, attach leftovers.
- `levels`: general branches and committees above the branches; ids and names of new organizations.
- `replan`: what changed between two business trees (`diff_business`, `BusinessDiff`).
"""

from .audit import MESSAGES, audit
from .model import (
    FORMAL,
    MEMBER_STATUSES,
    PROBATIONARY,
    UNIT_STATUSES,
    Business,
    Finding,
    Member,
    Org,
    Progress,
    Unit,
)
from .plan import UNPLACED_MESSAGES, Plan, plan
from .replan import BusinessDiff, diff_business
from .validate import validate_orgs

__all__ = [
    "FORMAL",
    "MEMBER_STATUSES",
    "MESSAGES",
    "PROBATIONARY",
    "UNPLACED_MESSAGES",
    "UNIT_STATUSES",
    "Business",
    "BusinessDiff",
    "Finding",
    "Member",
    "Org",
    "Plan",
    "Progress",
    "Unit",
    "audit",
    "diff_business",
    "plan",
    "validate_orgs",
]
