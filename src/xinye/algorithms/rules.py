"""Organization sizing rules as data.

A `RuleSet` holds every figure the structure planner and auditor use; nothing in `structure/` is a
constant. Two rule sets ship: `cpc` (the defaults of docs/domain.md section 1) and `union` (trade-union
groups and grassroots union committees), and a deployment overrides any figure through Django's
`XINYE_RULES` setting (the Django side passes it as `overrides`),
e.g. ``XINYE_RULES = {"cpc": {"branch_cap": 40}}``.

References
----------
Regulations on the Work of Party Branches (trial, 2018): art. 4 (a unit with 3 or more formal members sets up
a branch; a branch generally has no more than 50 members), art. 5 (joint branches of units under 3 formal
members, generally no more than 5 units; floating-member branches), ch. 6 (the branch committee and terms).
The general branch (50 members) and primary-level committee (100 members) figures are established practice,
each set up with the higher organization's approval: the Party Constitution (art. 30) says only "according
to the needs of the work and the number of members". Regulations on Party Member Education and Management
(2019), art. 24-25; Trade Union Law of the PRC (2021), art. 11. See docs/domain.md section 1.

Examples
--------
>>> r = get_rules("cpc")
>>> (r.min_formal_members, r.branch_cap, r.joint_max_units)
(3, 50, 5)
>>> get_rules("cpc", overrides={"branch_cap": 40}).branch_cap
40
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace


class RulesError(ValueError):
    """An unknown rule set or a bad override."""


@dataclass(frozen=True)
class RuleSet:
    name: str
    label: str
    #: kinds used by the planner, by role: the basic unit, the joint basic unit, and the upper levels
    branch_kind: str = "branch"
    joint_kind: str = "joint_branch"
    general_kind: str = "general_branch"
    secondary_kind: str = "secondary_committee"
    committee_kind: str = "committee"
    #: a unit with at least this many formal members sets up its own branch
    min_formal_members: int = 3
    #: a joint branch covers at most this many units
    joint_max_units: int = 5
    #: a branch generally has at most this many members (formal + probationary); larger ones are split
    branch_cap: int = 50
    #: a branch with at least this many formal members elects a committee (else a secretary)
    committee_at: int = 7
    #: a unit with at least this many members, over two or more branches, gets a general branch
    general_branch_at: int = 50
    #: a unit with at least this many members gets a primary committee
    primary_committee_at: int = 100
    #: inside a company with a primary committee, a sub-unit with at least this many members over two or more
    #: groups gets a secondary committee (0: never)
    secondary_committee_at: int = 100
    #: at least this many members: a congress instead of a general meeting
    congress_at: int = 500
    #: term of office in years, by kind; community branches may differ (see `community_term_years`)
    term_years: dict[str, int] = field(
        default_factory=lambda: {
            "branch": 3,
            "joint_branch": 3,
            "general_branch": 3,
            "secondary_committee": 5,
            "committee": 5,
        }
    )
    community_term_years: int = 5
    #: committee sizes by kind: (fewest, usual most, at most) members of the elected committee; a kind not
    #: listed has no figure. The audit checks an elected committee's size against it
    committee_sizes: dict[str, tuple[int, int, int]] = field(
        default_factory=lambda: {
            "branch": (3, 5, 7),
            "joint_branch": (3, 5, 7),
            "general_branch": (5, 7, 9),
            "committee": (5, 9, 9),
        }
    )
    #: community-based branches: the work radius (km) within which a member should reach the branch's anchor
    community_radius_km: float = 3.0
    #: a term ending within this many days is reported as expiring
    expiring_days: int = 90
    #: joining the Party from among the workers (issue 12, item 5): the branch talks with an applicant within
    #: this many days, an activist is trained at least this many months before becoming a development target,
    #: and a probationary member becomes formal after this many months
    application_talk_days: int = 30
    activist_months: int = 12
    probation_months: int = 12
    #: where each figure comes from
    sources: dict[str, str] = field(default_factory=dict)

    def source(self, rule: str) -> str:
        return self.sources.get(rule, "")

    def committee_size(self, kind: str) -> tuple[int, int, int] | None:
        """(fewest, usual most, at most) members of the committee of an organization of `kind`, or None."""
        return self.committee_sizes.get(kind)

    @property
    def branch_kinds(self) -> tuple[str, str]:
        return (self.branch_kind, self.joint_kind)

    @property
    def upper_kinds(self) -> tuple[str, str, str]:
        return (self.general_kind, self.secondary_kind, self.committee_kind)


_CPC_SOURCES = {
    "min_formal_members": "Regulations on the Work of Party Branches (trial, 2018), art. 4: a unit with 3 or more "
    "formal members sets up a branch",
    "joint_max_units": "Regulations on the Work of Party Branches (trial, 2018), art. 5: units with fewer than 3 "
    "formal members set up a joint branch, which generally covers no more than 5 units",
    "branch_cap": "Regulations on the Work of Party Branches (trial, 2018), art. 4: a branch generally has no more "
    "than 50 members",
    "committee_at": "Regulations on the Work of Party Branches (trial, 2018), ch. 6: a branch with 7 or more formal "
    "members sets up a branch committee of 3 to 5 members (generally no more than 7); with fewer, a secretary "
    "and, if needed, a deputy",
    "general_branch_at": "Established practice: a unit with 50 to 100 members sets up a general branch, with the "
    'approval of the higher organization; the Party Constitution (art. 30) says only "according to the needs of '
    'the work and the number of members" and gives no figure',
    "primary_committee_at": "Established practice: a unit with 100 or more members sets up a primary-level "
    "committee, with the approval of the higher organization (one may be approved below 100); the Party "
    'Constitution (art. 30) says only "according to the needs of the work and the number of members" and gives '
    "no figure",
    "secondary_committee_at": "Platform companies' practice: secondary committees inside large companies "
    "(no national figure; configurable)",
    "term_years": "Regulations on the Work of Party Branches (trial, 2018), ch. 6: branch committees serve 3 years "
    "(village and community branches 5 years); primary-level committees 3 to 5 years",
    "committee_sizes": "Regulations on the Work of Party Branches (trial, 2018), ch. 6: a branch committee has 3 "
    "to 5 members, generally no more than 7; established practice: a general branch committee 5 to 7, generally "
    "no more than 9, and a primary-level committee 5 to 9",
    "congress_at": "Established practice: a primary-level organization with 500 or more members, or widely "
    "dispersed ones, holds a congress of delegates instead of a general meeting",
    "secretary": "Regulations on the Work of Party Branches (trial, 2018), ch. 6: every branch has a secretary, "
    "elected by its committee or, under 7 formal members, by its general meeting",
    "placement": "Regulations on Party Member Education and Management (2019), art. 24-25: every member belongs "
    "to exactly one branch",
    "anchor": "Organization follows the business: a branch is set up on a business unit",
    "application_talk_days": "Detailed Rules for the Recruitment of Party Members (2014), art. 8: the organization "
    "sends someone to talk with an applicant within one month of receiving the application",
    "activist_months": "Detailed Rules for the Recruitment of Party Members (2014), art. 15: an activist trained "
    "and observed for more than one year may be listed as a development target",
    "probation_months": "Party Constitution, art. 7: the probationary period is one year",
    "community_radius_km": "Couriers and riders work within a few km of a station (docs/domain.md section 2); "
    "community-based branches are anchored at a community Party-mass service centre within that radius",
}

RULE_SETS: dict[str, RuleSet] = {
    "cpc": RuleSet(name="cpc", label="Party organizations (default)", sources=_CPC_SOURCES),
    "union": RuleSet(
        name="union",
        label="Trade-union groups and grassroots union committees",
        branch_kind="union_group",
        joint_kind="joint_union_group",
        general_kind="union_general_group",
        secondary_kind="union_subcommittee",
        committee_kind="union_committee",
        min_formal_members=3,
        joint_max_units=10,
        branch_cap=30,
        committee_at=10,
        general_branch_at=25,
        primary_committee_at=25,
        secondary_committee_at=200,
        congress_at=100,
        term_years={
            "union_group": 3,
            "joint_union_group": 3,
            "union_general_group": 5,
            "union_subcommittee": 5,
            "union_committee": 5,
        },
        community_term_years=5,
        committee_sizes={},  # no national figures for union committees
        sources={
            "primary_committee_at": "Trade Union Law (2021), art. 11: 25 or more members set up a grassroots "
            "union committee; fewer may elect an organizer or form a joint union",
            "joint_max_units": "Trade Union Law (2021), art. 11: members of two or more units may form a joint "
            "grassroots union (figure configurable)",
            "min_formal_members": "Union groups of at least 3 members (configurable)",
            "branch_cap": "Union groups of at most 30 members (configurable)",
        },
    ),
}

_INT_FIELDS = {f.name for f in fields(RuleSet) if f.type in ("int", int)}
_FLOAT_FIELDS = {f.name for f in fields(RuleSet) if f.type in ("float", float)}


def get_rules(name: str = "cpc", *, overrides: dict | None = None) -> RuleSet:
    """The rule set `name` with `overrides` applied (a deployment passes its XINYE_RULES[name] here)."""
    if name not in RULE_SETS:
        raise RulesError(f"unknown rule set {name!r}; choose one of {', '.join(sorted(RULE_SETS))}")
    rules = RULE_SETS[name]
    merged = dict(overrides or {})
    if not merged:
        return rules
    for key, value in merged.items():
        if key in _FLOAT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise RulesError(f"rule set {name!r}: {key} must be a number > 0, not {value!r}")
            continue
        if key == "committee_sizes":
            merged[key] = _committee_sizes(name, value)
            continue
        if key not in _INT_FIELDS and key not in {"term_years", "sources", "label"}:
            raise RulesError(f"rule set {name!r}: unknown figure {key!r}")
        if key in _INT_FIELDS and (not isinstance(value, int) or value < 0):
            raise RulesError(f"rule set {name!r}: {key} must be a whole number >= 0, not {value!r}")
    return replace(rules, **merged)


def _committee_sizes(name: str, value: object) -> dict[str, tuple[int, int, int]]:
    """An override of `committee_sizes` checked: {kind: [fewest, usual most, at most]}, 1 <= each <= the next."""
    if not isinstance(value, dict):
        raise RulesError(f"rule set {name!r}: committee_sizes must map a kind to [fewest, usual most, at most]")
    out: dict[str, tuple[int, int, int]] = {}
    for kind, sizes in value.items():
        ok = (
            isinstance(sizes, list | tuple)
            and len(sizes) == 3
            and all(isinstance(x, int) and not isinstance(x, bool) for x in sizes)
            and 1 <= sizes[0] <= sizes[1] <= sizes[2]
        )
        if not ok:
            raise RulesError(
                f"rule set {name!r}: committee_sizes[{kind!r}] must be [fewest, usual most, at most] with "
                f"1 <= fewest <= usual most <= at most, not {sizes!r}"
            )
        out[str(kind)] = (sizes[0], sizes[1], sizes[2])
    return out
