"""Posts and elections (issue 12, item 3): appoint a secretary, deputies and committee members, end a post,
record an election that starts a term. The figures come from the rule set (`organizations.planning.rules_for`):

- a branch with at least `committee_at` formal members has a committee (secretary, deputies, committee
  members); a smaller one a secretary and at most one deputy;
- a committee's size is at most the third figure of `committee_size(kind)` ((fewest, usual most, at most));
- the term after an election is `term_years[kind]` years (`community_term_years` for a community-based
  branch);
- a post is held by a formal member of the organization or of an organization below it, one post each, and
  an organization has one secretary at a time (appointing a new one ends the old one's post that day).

Who may do this is `accounts.policy.may_manage_posts`. Every change is versioned and in the history.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.common.errors import XinyeError

from .models import BRANCH_KINDS, AnchorKind, Election, Organization, Post, PostRole
from .planning import add_years, rules_for
from .services import post_update

#: the kinds whose posts the rule set sizes (the others: working committees, departments, have no figures)
OFFICE_KINDS = ("branch", "joint_branch", "general_branch", "secondary_committee", "committee")


class PostError(XinyeError):
    pass


def _check_scope(scope: Scope, organization: Organization) -> None:
    if not policy.may_manage_posts(scope, organization):
        raise PostError(_("You may not appoint posts in this organization."))


def formal_members(organization: Organization) -> int:
    from xinye.people.models import Membership

    return Membership.objects.filter(organization=organization, until__isnull=True, status="formal").count()


def has_committee(organization: Organization, rules=None) -> bool:
    """Whether the organization elects a committee (not only a secretary): every kind above a branch does; a
    branch from `committee_at` formal members."""
    rules = rules or rules_for()
    if organization.kind not in BRANCH_KINDS:
        return True
    return formal_members(organization) >= rules.committee_at


def max_posts(organization: Organization, rules=None) -> int | None:
    """How many current posts the organization may have at most (None: no figure)."""
    rules = rules or rules_for()
    if not has_committee(organization, rules):
        return 2  # a secretary and, if needed, a deputy
    size = rules.committee_size(organization.kind)
    return size[2] if size else None


def eligible_people(organization: Organization):
    """People who may hold a post: current formal members of the organization or of one below it."""
    from xinye.people.models import Person

    subtree = organization.descendants(include_self=True).values("pk")
    return Person.objects.filter(
        memberships__organization__in=subtree, memberships__until__isnull=True, memberships__status="formal"
    ).distinct()


def current_posts(organization: Organization):
    return organization.posts.filter(end_date__isnull=True).select_related("person")


@transaction.atomic
def appoint(scope: Scope, actor, organization: Organization, *, person, role: str, start: date, reason: str = ""):
    """A new post; the organization is locked so that two appointments at once cannot both pass the checks."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    _check_scope(scope, organization)
    if role not in PostRole.values:
        raise PostError(_("Unknown post."))
    rules = rules_for()
    if not eligible_people(organization).filter(pk=person.pk).exists():
        raise PostError(
            _("%(name)s is not a formal member of this organization or of one below it.") % {"name": person.name}
        )
    posts = list(current_posts(organization))
    if any(p.person_id == person.pk for p in posts):
        raise PostError(_("%(name)s already holds a post here.") % {"name": person.name})
    committee = has_committee(organization, rules)
    if role == PostRole.COMMITTEE_MEMBER and not committee:
        raise PostError(
            _("A branch with fewer than %(n)d formal members has no committee: a secretary and, if needed, a deputy.")
            % {"n": rules.committee_at}
        )
    if role == PostRole.DEPUTY and not committee and any(p.role == PostRole.DEPUTY for p in posts):
        raise PostError(_("A branch without a committee has at most one deputy."))
    replaced = [p for p in posts if p.role == PostRole.SECRETARY] if role == PostRole.SECRETARY else []
    limit = max_posts(organization, rules)
    if limit is not None and len(posts) - len(replaced) + 1 > limit:
        raise PostError(
            _("The committee would have %(n)d members; the rule set allows at most %(max)d.")
            % {"n": len(posts) - len(replaced) + 1, "max": limit}
        )
    for old in replaced:
        post_update(post=old, end_date=max(start, old.start_date), reason=reason or "secretary replaced")
    post = Post(organization=organization, person=person, role=role, start_date=start)
    post._change_reason = reason or "appointed"
    post.save()
    return post


@transaction.atomic
def end_post(scope: Scope, actor, post: Post, *, end: date, reason: str = "") -> Post:
    _check_scope(scope, post.organization)
    if post.end_date is not None:
        raise PostError(_("This post has ended already."))
    if end < post.start_date:
        raise PostError(_("The end is before the start (%(start)s).") % {"start": post.start_date.isoformat()})
    return post_update(post=post, end_date=end, reason=reason or "post ended")


def term_years_for(organization: Organization, rules=None) -> int:
    rules = rules or rules_for()
    if organization.anchor_kind == AnchorKind.COMMUNITY and organization.kind in BRANCH_KINDS:
        return rules.community_term_years
    return rules.term_years.get(organization.kind, organization.term_years)


@transaction.atomic
def record_election(
    scope: Scope,
    actor,
    organization: Organization,
    *,
    held_on: date,
    approved_by: Organization | None = None,
    approved_on: date | None = None,
    note: str = "",
) -> Election:
    """An election held: a new term from `held_on`, as long as the rule set says for the kind."""
    from xinye.common.concurrency import save_versioned

    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    _check_scope(scope, organization)
    if approved_by is not None and not organization.ancestors().filter(pk=approved_by.pk).exists():
        raise PostError(_("The approving organization must be one above this one."))
    if approved_on is not None and approved_on < held_on:
        raise PostError(_("The approval (%(a)s) is before the election (%(h)s).") % {"a": approved_on, "h": held_on})
    years = term_years_for(organization)
    ends = add_years(held_on, years)
    election = Election.objects.create(
        organization=organization,
        held_on=held_on,
        approved_by=approved_by,
        approved_on=approved_on,
        term_years=years,
        term_ends_on=ends,
        note=note.strip()[:300],
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    organization.term_years = years
    organization.term_started_on = held_on
    organization.term_ends_on = ends
    organization._change_reason = "election recorded"
    save_versioned(organization, expected_version=organization.version)
    return election


def without_secretary_q():
    """Organizations of a kind that has posts, current, with no current secretary."""
    from django.db.models import Exists, OuterRef, Q

    secretary = Post.objects.filter(organization=OuterRef("pk"), role=PostRole.SECRETARY, end_date__isnull=True)
    return Q(kind__in=OFFICE_KINDS, dissolved_on__isnull=True) & ~Q(Exists(secretary))
