"""One page per person (issue 12, item 4): what happened to a person, newest first, each entry read through the
same rules as its own page (accounts.policy and the selectors):

- memberships, their transfers and posts: only when the viewer may see the person's party status
  (`policy.party_status_for`), and then the memberships it returns and the posts in organizations the viewer
  sees; otherwise none of them, not even that there are any;
- community reports that were confirmed for this person: organizers of the report's community
  (`community_report_list`);
- liaison: pairs the viewer may see (`liaison.liaison_q`), the member's name for the worker's pair; contacts
  on those pairs by date and channel (never the member's note);
- demands: those the viewer may see (`demand_list`) that name this person, except anonymous ones and those
  whose identity is hidden from the viewer (listing it here would tell who submitted it);
- union membership and consents; changes to the record itself (its history, with the reason);
- commendations approved by an organization the viewer sees (`commendations_q`; an "outstanding member" one
  only where party status may be seen: `commendation_visible`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinye.accounts import policy
from xinye.accounts.scope import Scope

#: at most this many entries of each kind (a long-served member's page stays readable)
PER_KIND = 50


@dataclass(frozen=True)
class Entry:
    on: date
    kind: str
    label: str | Promise
    text: str = ""
    url: str = ""


def _day(value) -> date:
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def person_timeline(scope: Scope, person, memberships=None) -> list[Entry]:
    """The entries the viewer may see, newest first (ties: the order of the kinds below)."""
    from xinye.demands import liaison
    from xinye.demands.models import Contact
    from xinye.demands.selectors import demand_list
    from xinye.organizations.models import Post

    from .models import MembershipTransfer
    from .selectors import community_report_list

    out: list[Entry] = []
    if memberships is None:
        memberships = policy.party_status_for(scope, person)
    if memberships is not None:
        for m in memberships:
            org = m.organization.name if m.organization_id else ""
            out.append(Entry(m.since, "joined", _("Membership began"), f"{m.get_status_display()} · {org}".strip(" ·")))
            if m.until:
                out.append(Entry(m.until, "left", _("Membership ended"), org))
        ids = [m.pk for m in memberships]
        transfers = MembershipTransfer.objects.filter(membership_id__in=ids).select_related("to_organization")
        for t in transfers.order_by("-created_at")[:PER_KIND]:
            out.append(
                Entry(
                    _day(t.created_at),
                    "transfer",
                    _("Transfer"),
                    f"{t.to_organization.name} · {t.get_status_display()}",
                )
            )
        from xinye.organizations.models import Organization
        from xinye.organizations.selectors import organization_q

        visible_orgs = Organization.objects.filter(organization_q(scope))
        posts = Post.objects.filter(person=person, organization__in=visible_orgs).select_related("organization")
        for p in posts.order_by("-start_date")[:PER_KIND]:
            where = p.organization.name
            out.append(Entry(p.start_date, "post", _("Post began"), f"{p.get_role_display()} · {where}"))
            if p.end_date:
                out.append(Entry(p.end_date, "post_end", _("Post ended"), f"{p.get_role_display()} · {where}"))
    if scope.is_admin or scope.division_prefixes:
        for r in community_report_list(scope=scope).filter(person=person)[:PER_KIND]:
            out.append(
                Entry(
                    _day(r.created_at),
                    "report",
                    _("Reported to the community"),
                    f"{r.community.name} · {r.get_status_display()}",
                )
            )
    pairs = list(
        liaison.LiaisonPair.objects.filter(liaison.liaison_q(scope))
        .filter(worker=person)
        .select_related("member")
        .order_by("-since")[:PER_KIND]
    )
    for pair in pairs:
        out.append(Entry(pair.since, "liaison", _("Liaison member"), pair.member.name))
        if pair.until:
            out.append(Entry(pair.until, "liaison_end", _("Liaison ended"), pair.member.name))
    member_ids = {p.member_id for p in pairs}
    for c in Contact.objects.filter(worker=person, member_id__in=member_ids).order_by("-on")[:PER_KIND]:
        out.append(Entry(c.on, "contact", _("Contacted"), c.get_channel_display()))
    for d in demand_list(scope=scope).filter(person=person, anonymous=False).order_by("-created_at")[:PER_KIND]:
        if policy.identity_hidden(scope, d):
            continue
        out.append(
            Entry(
                _day(d.created_at),
                "demand",
                _("Demand"),
                f"{d.reference} · {d.category.name} · {d.get_status_display()}",
                reverse("demand_detail", args=[d.pk]),
            )
        )
    if person.union_name and person.union_since:
        out.append(Entry(person.union_since, "union", _("Joined the trade union"), person.union_name))
    # commendations: approved ones the viewer may see (an "outstanding member" one only with party status)
    from xinye.volunteering.models import Commendation

    for c in Commendation.objects.filter(
        policy.commendations_q(scope), person=person, status="approved"
    ).select_related("organization")[:PER_KIND]:
        if policy.commendation_visible(scope, c):
            day = _day(c.decided_at) if c.decided_at else _day(c.created_at)
            out.append(Entry(day, "commendation", _("Commended"), f"{c.title} · {c.organization.name}"))
    consents = [c for c in person.consents.all() if policy.consent_visible(scope, c, memberships)]
    for c in consents[:PER_KIND]:
        out.append(Entry(_day(c.given_at), "consent", _("Consent given"), ""))
        if c.withdrawn_at:
            out.append(Entry(_day(c.withdrawn_at), "consent_withdrawn", _("Consent withdrawn"), ""))
    for h in person.history.order_by("-history_date")[:PER_KIND]:
        label = _("Record created") if h.history_type == "+" else _("Record changed")
        out.append(Entry(_day(h.history_date), "record", label, h.history_change_reason or ""))
    out.sort(key=lambda e: e.on, reverse=True)  # stable: a day's entries keep the order above
    return out
