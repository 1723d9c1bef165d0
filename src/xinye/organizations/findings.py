"""Findings of the structure audit in the user's language.

The algorithm core writes English (for the CLI); pages show the same finding from its `text` key and
`params`, through the translated templates below, which use the same fields as
`xinye.algorithms.structure.MESSAGES` (a test checks that they match).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from .models import OrgKind

TEMPLATES = {
    "member_in_two_branches": (
        _("member {member} is in {count} branches: {branches}"),
        _("keep the member in the branch of their unit and remove them from the others"),
    ),
    "members_in_no_branch": (
        _("{count} member(s) of unit {unit} are in no branch"),
        _("place them in the branch of their unit, or set one up"),
    ),
    "members_in_no_branch_subtree": (
        _("{count} member(s) in unit {unit} and the units under it are in no branch"),
        _("set up branches for them (see the units without an organization)"),
    ),
    "branch_below_floor": (
        _("{org} has {formal} formal member(s), fewer than {floor}"),
        _("merge it into a joint branch with nearby units, or into the branch of its parent unit"),
    ),
    "branch_below_floor_whole": (
        _("{org} has {formal} formal member(s), fewer than {floor}"),
        _("the whole company has fewer formal members: keep it"),
    ),
    "branch_over_cap": (_("{org} has {total} members, more than {cap}"), _("split it along its sub-units")),
    "branch_over_cap_leaf": (_("{org} has {total} members, more than {cap}"), _("split it into balanced branches")),
    "general_branch_due": (
        _("{org} has {total} members: {threshold} or more call for a general branch"),
        _("set up a general branch with branches under it"),
    ),
    "committee_due": (
        _("{org} has {formal} formal members but no branch committee"),
        _("elect a branch committee (with {threshold} or more formal members)"),
    ),
    "joint_branch_too_many_units": (
        _("{org} covers {count} units, more than {limit}"),
        _("split it into joint branches of nearby units"),
    ),
    "primary_committee_due": (
        _("{org} has {total} members and no primary committee"),
        _("set up a primary committee ({threshold} or more members)"),
    ),
    "anchor_missing": (
        _("{org} is anchored to unit {unit}, which no longer exists"),
        _("re-anchor it to the unit that took over, or dissolve it"),
    ),
    "anchor_dissolved": (_("{org} is anchored to unit {unit}, which was {status}"), _("re-anchor it or dissolve it")),
    "anchor_merged": (_("{org} is anchored to unit {unit}, which was {status}"), _("re-anchor it to {target}")),
    "anchor_moved": (
        _("unit {unit} of {org} is no longer under {parent}'s units"),
        _("move the organization under the one that covers its unit"),
    ),
    "joint_branch_not_joint": (
        _("{org} is a joint branch, but one of its units has {floor} or more formal members on its own"),
        _("call it a branch of that unit, which takes in the members of the others"),
    ),
    "joint_branch_one_unit": (_("{org} is a joint branch of one unit"), _("call it a branch")),
    "branch_is_joint": (
        _("{org} covers several units, each with fewer than {floor} formal members on its own"),
        _("call it a joint branch"),
    ),
    "members_outside_branch": (
        _("{count} member(s) listed in {org} work in units it does not cover"),
        _("move them to the branch of their unit"),
    ),
    "upper_level_due": (
        _("unit {unit} leads {total} members in {branches} branches and has no {kind}"),
        _("set up a {kind} on {unit}"),
    ),
    "upper_level_kind": (
        _("{org} leads {total} members in {branches} branches: the rules call for a {kind}"),
        _("make it a {kind}"),
    ),
    "upper_level_not_needed": (
        _("{org} is not called for by the rules: its unit does not gather enough members over several branches"),
        _("dissolve it; its organizations go under the one above"),
    ),
    "committee_below_threshold": (
        _("{org} leads {total} members, fewer than {threshold}: kept, as it was approved"),
        _("no change is needed while the higher organization keeps its approval"),
    ),
    "congress_due": (
        _("{org} leads {total} members: with {threshold} or more, a congress is held instead of a general meeting"),
        _("elect the committee at a congress of delegates"),
    ),
    "parent_not_nearest": (
        _("{org} sits under {parent}, but {expected} leads its unit"),
        _("move it under {expected}"),
    ),
    "secretary_missing": (_("{org} has no secretary"), _("elect or appoint a secretary")),
    "committee_size": (
        _("the committee of {org} has {size} members; the rules set {fewest} to {usual} (at most {most})"),
        _("elect the committee again at a size within the rules"),
    ),
    "term_expired": (_("the term of {org} ended on {date}"), _("hold an election")),
    "term_expiring": (_("the term of {org} ends on {date}"), _("prepare the election")),
    "unit_without_organization": (
        _("unit {unit} has {formal} formal members and no organization"),
        _("set up a branch on {unit}"),
    ),
    "units_need_joint_branch": (
        _("{count} unit(s) under {parent} have fewer than {floor} formal members each and no organization"),
        _("set up a joint branch for {units}"),
    ),
}

#: the community-based branches' audit (xinye.algorithms.branches.MESSAGES; a test checks the keys match)
COMMUNITY_TEMPLATES = {
    "community_branch_below_floor": (
        _("{org} has {formal} formal member(s), fewer than {floor}"),
        _("merge it with a neighbouring community's branch within the work radius"),
    ),
    "community_branch_over_cap": (_("{org} has {total} members, more than {cap}"), _("split it by community")),
    "community_committee_due": TEMPLATES["committee_due"],
    "community_term_expired": TEMPLATES["term_expired"],
    "community_term_expiring": TEMPLATES["term_expiring"],
    "community_branch_without_parent": (
        _("{org} is led by no street or community working committee"),
        _("place it under the working committee of its street"),
    ),
    "community_members_beyond_radius": (
        _("{count} member(s) of {org} work more than {radius} km from its anchor community"),
        _("form the branches again, or move them to the branch nearest their work"),
    ),
    "community_members_in_no_branch": (
        _("{count} member(s) working in {community} are in no branch"),
        _("place them in the branch of the community where they live or work"),
    ),
}

SOURCES = {
    "min_formal_members": _(
        "Regulations on the Work of Party Branches (trial, 2018), art. 4: a unit with 3 or more formal members "
        "sets up a branch"
    ),
    "joint_max_units": _(
        "Regulations on the Work of Party Branches (trial, 2018), art. 5: units with fewer than 3 formal members "
        "set up a joint branch, which generally covers no more than 5 units"
    ),
    "branch_cap": _(
        "Regulations on the Work of Party Branches (trial, 2018), art. 4: a branch generally has no more than "
        "50 members"
    ),
    "committee_at": _(
        "Regulations on the Work of Party Branches (trial, 2018), ch. 6: a branch with 7 or more formal members "
        "sets up a branch committee of 3 to 5 members (generally no more than 7); with fewer, a secretary and, if "
        "needed, a deputy"
    ),
    "general_branch_at": _(
        "Established practice: a unit with 50 to 100 members sets up a general branch, with the approval of the "
        'higher organization; the Party Constitution (art. 30) says only "according to the needs of the work and '
        'the number of members" and gives no figure'
    ),
    "primary_committee_at": _(
        "Established practice: a unit with 100 or more members sets up a primary-level committee, with the "
        "approval of the higher organization (one may be approved below 100); the Party Constitution (art. 30) "
        'says only "according to the needs of the work and the number of members" and gives no figure'
    ),
    "term_years": _(
        "Regulations on the Work of Party Branches (trial, 2018), ch. 6: branch committees serve 3 years (village "
        "and community branches 5 years); primary-level committees 3 to 5 years"
    ),
    "congress_at": _(
        "Established practice: a primary-level organization with 500 or more members, or widely dispersed ones, "
        "holds a congress of delegates instead of a general meeting"
    ),
    "secondary_committee_at": _(
        "Platform companies' practice: secondary committees inside large companies (no national figure; configurable)"
    ),
    "secretary": _(
        "Regulations on the Work of Party Branches (trial, 2018), ch. 6: every branch has a secretary, elected by "
        "its committee or, under 7 formal members, by its general meeting"
    ),
    "committee_sizes": _(
        "Regulations on the Work of Party Branches (trial, 2018), ch. 6: a branch committee has 3 to 5 members, "
        "generally no more than 7; established practice: a general branch committee 5 to 7, generally no more "
        "than 9, and a primary-level committee 5 to 9"
    ),
    "placement": _(
        "Regulations on Party Member Education and Management (2019), art. 24-25: every member belongs "
        "to exactly one branch"
    ),
    "anchor": _("Organization follows the business: a branch is set up on a business unit"),
    "community_radius_km": _(
        "Couriers and riders work within a few km of a station (docs/domain.md section 2); community-based "
        "branches are anchored at a community Party-mass service centre within that radius"
    ),
}

SEVERITIES = {"error": _("error"), "warning": _("warning"), "info": _("info")}
UNIT_STATUSES = {"dissolved": _("dissolved"), "merged": _("merged")}


def localized(finding) -> dict:
    """A finding (dataclass or its JSON) as a dict with message, suggestion and source in the active language."""
    f = finding if isinstance(finding, dict) else finding.to_json()
    key = f.get("text") or f["code"]
    params = dict(f.get("params") or {})
    if params.get("status") in UNIT_STATUSES:
        params["status"] = str(UNIT_STATUSES[params["status"]])
    if params.get("kind_code"):
        params["kind"] = kind_label(params["kind_code"])
    if params.get("parent") == "-":
        params["parent"] = str(_("the top of the business"))
    out = dict(f)
    texts = TEMPLATES.get(key) or COMMUNITY_TEMPLATES.get(key)
    if texts and params:
        try:
            out["message"] = str(texts[0]).format(**params)
            out["suggestion"] = str(texts[1]).format(**params)
        except (KeyError, IndexError):
            pass  # a translation with a wrong field: fall back to the English text
    if f.get("rule") in SOURCES and f.get("source"):
        out["source"] = str(SOURCES[f["rule"]])
    out["severity_label"] = str(SEVERITIES.get(f["severity"], f["severity"]))
    return out


def kind_label(kind: str) -> str:
    return str(dict(OrgKind.choices).get(kind, kind))


#: why members fit no branch (xinye.algorithms.branches.UNPLACED_MESSAGES for community-based branches,
#: xinye.algorithms.structure.UNPLACED_MESSAGES for the structure plan; a test checks the keys and fields match)
UNPLACED_TEMPLATES = {
    "isolated": (
        _("isolated: no other community with members within {km} km"),
        _("join the branch of the community where the member lives, or a joint branch of the street"),
    ),
    "neighbours_full": (
        _("fewer than {floor} formal members within reach, and the neighbouring branches are full"),
        _("join a neighbouring street's branch, or set up a joint branch"),
    ),
    "too_few_nearby": (
        _("fewer than {floor} formal members among the neighbouring communities within the work radius"),
        _("join a neighbouring street's branch, or a joint branch"),
    ),
    "units_dissolved": (_("their units are dissolved and no active unit above them has room"), ""),
    "no_branch_with_room": (
        _(
            "fewer than {floor} formal members in reach, and no branch nearby with room (at most {units} units and "
            "{cap} members)"
        ),
        _("join a neighbouring street's branch, or a community-based joint branch"),
    ),
}


def _english_patterns() -> list[tuple[str, re.Pattern]]:
    """(key, regex of its English reason) for plans stored before entries carried `text` and `params`."""
    from xinye.algorithms.branches import UNPLACED_MESSAGES as COMMUNITY
    from xinye.algorithms.structure import UNPLACED_MESSAGES as STRUCTURE

    out = []
    for key, (reason, _suggestion) in {**COMMUNITY, **STRUCTURE}.items():
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^ ]+?)", re.escape(reason))
        out.append((key, re.compile(f"^{pattern}$")))
    return out


def localized_unplaced(entry: dict) -> dict:
    """An unplaced entry of a plan with its reason and suggestion in the active language."""
    out = dict(entry)
    key, params = entry.get("text"), entry.get("params")
    if not key:
        for k, pattern in _english_patterns():
            m = pattern.match(entry.get("reason") or "")
            if m:
                key, params = k, m.groupdict()
                break
    texts = UNPLACED_TEMPLATES.get(key or "")
    if texts:
        try:
            out["reason"] = str(texts[0]).format(**(params or {}))
            out["suggestion"] = str(texts[1]).format(**(params or {})) if texts[1] else ""
        except (KeyError, IndexError):
            pass  # a translation with a wrong field: keep the English text
    return out
