"""Who may see what about a person or a demand: the one policy (issue 10). Every page, API, Open311 view,
export, statistic and history view asks these functions; none decides it again.

Vocabulary
----------
`scope`
    the acting user's `accounts.scope.Scope` (Open311: the scope of the API key's user).
platform side
    everyone whose access comes through a company (in practice a platform company): organization staff,
    branch secretaries and members of organizations anchored in a company (`Organization.company` of the
    role's organization, of its ancestors, and for staff and secretaries of its subtree), and handlers of
    a platform company's responsible body (`Scope.platform_company_ids`, `Scope.platform_body`).
    Administrators are never the platform side. A demand hidden from "the platform" is hidden from the
    people of *every* company: a worker often works for several platforms and names only one.
own demand
    a demand the viewer submitted (their person) or entered on a worker's behalf (`entered_by`); a
    collective demand is nobody's own (its `entered_by` is the handler who merged).

Functions
---------
`is_platform_side(scope) -> bool`
    whether the viewer's access comes through a company (see above).
`identity_hidden(scope, demand) -> bool`
    the demand is hidden from the platform (`hide_from_platform`, also every anonymous and collective
    demand), the viewer is on the platform side and it is not their own demand.
`demand_identity_for(scope, demand) -> dict | None`
    `{"name", "phone", "entered_by"}` of the worker as the viewer may see them (phone through
    `phone_for`, `entered_by` the entering member's name or ""), or None when anonymous or hidden.
    Showing a hidden demand's identity is audited (`hidden_identity`).
`demand_text_for(scope, demand, text=None, *, machine=False) -> str`
    a text about the demand (its description by default; status notes, event notes, rating notes, the
    place) as the viewer may read it: for a viewer from whom the identity is hidden, and always for
    machine clients (`machine=True`: Open311), the names of the worker and of the member who entered it
    (for a collective demand: of every merged demand) and every phone-number-like run of digits are
    replaced by `***`.
`photos_visible(scope, demand) -> bool`
    photos can show a name, a face, a payslip or a plate: a viewer from whom the identity is hidden sees
    none (the page says how many there are), and the photo address answers 404.
`text_search_q(scope) -> Q`
    the demands whose text a viewer may search (a platform-side viewer may not search the texts of hidden
    demands: the search would confirm a name).
`name_search_q(scope) -> Q`
    the demands a viewer may find by the submitter's name: never an anonymous demand, and for the platform
    side only those whose text it may search (a hit on a hidden demand would confirm who submitted it).
`history_actor_for(scope, demand, event, *, handler) -> str`
    the "who" of a history row: a handler sees the actor's user name, except that the entering member and
    the worker's own account are shown by their label ("member", "submitter") to a viewer from whom the
    identity is hidden (a member's name leads to their ~10 workers). Others see the label.
`tracking_events(demand) -> list[dict]`
    the public history shown on the tracking page (to whoever holds the tracking code): notes never name
    other demands (a collective demand's list of merged references is left out).
`sees_full_phone(scope) -> bool`, `phone_for(scope, person) -> str`
    full phone numbers for administrators and the roles in `XINYE_PHONE_VISIBLE_ROLES` (organizers),
    `138****1234` for everyone else. Every full number shown is audited (`full_phone`).
`reveal_phone_for(scope, person) -> str`
    a liaison member's own worker's full number, to call or message them (issue 16): only while the member
    keeps in touch with that worker (an open pair, the worker's data still processable); "" for anyone else.
    Every reveal is audited (`full_phone`); pages show the masked number and reveal one number per request.
`party_status_q(scope) -> Q`, `party_status_for(scope, person, memberships=None) -> list | None`
    memberships ("party status") the viewer may see: administrators all; a person their own; organization
    staff and secretaries those in their organization subtree; members those of their branch; organizers
    those in organizations located in their divisions and those of people working there. Everything else
    is not shown, not even whether there is one: `party_status_for` returns None ("not shown") when the
    person has no visible membership and the viewer does not oversee the person's area. A membership shown
    outside the viewer's own organizations (administrators; organizers through the person's area) is
    audited (`party_status`).
`party_status_known(scope, person) -> bool`
    whether the viewer may know if the person is a Party member or not: administrators, the person themselves,
    organizers of the person's work community, and whoever sees one of the person's current memberships. Every
    write that answers "a member already" or "not a member" (start a recruitment, register a floating member)
    is refused, the same way, to anyone else: the answer itself would be the party status (outsider review
    2026-12-04).
`consent_visible(scope, consent, party_status) -> bool`
    a consent about party membership (its purpose) only where the person's party status is shown
    (`party_status` is `party_status_for`'s answer; None: not shown): its purpose and text say "Party member".
`is_visible_member(scope, person) -> bool`
    the person has a current membership the viewer may see (`party_status_q`): what a write that needs a member
    (an "outstanding member" commendation, a vanguard post) asks, so that a refusal says nothing about a
    membership the viewer may not see.

`assignable_kinds(scope) -> list[str]`, `may_assign(scope, kind, *, division, organization, operator_name)`
    which roles a user may give, change and revoke (issue 12, item 2): administrators any; organizers an
    organizer of a division in their subtree, staff, secretary or member of an organization located there,
    operator of a station operator whose stations all lie there; organization staff staff, secretary or member in
    their subtree; secretaries (of a branch, not staff) members of their branch; nobody else any. Nobody
    gives a role to themselves or an administrator's role unless an administrator. A staff or secretary role
    (which sees the organization's subtree) only where the giver reaches the whole subtree.
`operators_in_reach(scope) -> set[str]`
    the station operators (names) an organizer may make someone the operator of: those whose stations all lie in
    the organizer's divisions (an operator role runs every station of its name).
`role_q(scope) -> Q`
    the same rule as a filter of `Role` (the user list shows users with at least one such role).
`may_manage_posts(scope, organization) -> bool`
    appoint and end posts, record elections (issue 12, item 3): administrators; organizers for organizations
    located in their divisions; organization staff in their subtree. A secretary does not appoint their own
    committee (the higher organization approves it).
`recruitment_q(scope) -> Q`, `may_manage_recruitment(scope, organization) -> bool`
    joining the Party (issue 12, item 5) is party status: seen by administrators, organizers of the division
    the handling branch is located in, and its staff and secretary (the organization subtree); managed by the
    same people for that branch.
`floating_request_q(scope) -> Q`
    requests to register a member who reported to their community (issue 12, item 6): organizers of the
    person's work community, and staff and secretaries of the home organization when it is on record (it
    is told and takes part); administrators all.
`may_manage_user(scope, user) -> bool`
    deactivate, reactivate, send a new sign-in link: only for another user, not a superuser, every one of
    whose roles the viewer may assign (and, for a user with no role, administrators only).

Volunteering (issue 14)
`teams_q(scope) -> Q`
    the volunteer teams (volunteering.Team) a viewer may see: administrators all; organizers those located
    in their divisions; organization staff and secretaries the teams of their organization subtree; members
    those of their branch; a platform's staff and station operators the teams of their stations; a person
    the teams they are or were in, and the teams in the district (county) where they work, so that a worker
    or member can find one near them and ask to join.
`may_manage_team(scope, team) -> bool`
    create a team there, dissolve it, appoint and remove leaders: administrators; organizers for a team in
    their divisions; organization staff and secretaries for a team of their organization subtree; a
    platform's staff and a station's operator for a team of the station.
`may_lead_team(scope, team) -> bool`
    answer requests to join, run the team's activities, check people in by hand: whoever may manage it, and
    the team's own leaders (an approved membership marked leader), signed in (a leader in a volunteer
    session on a phone volunteers there like anyone else).
`vanguard_posts_q(scope) -> Q`, `may_manage_post(scope, post) -> bool`
    a vanguard post names its holder as a Party member, so a post held by a person is seen by those who may
    see that person's party status (`party_status_q`) and by organizers of the post's place; a post held by
    a team by those who see the team. Posts are appointed and ended by administrators, organizers of the
    place, organization staff and secretaries of the holder's organization (for a team: who manages it).
`activities_q(scope) -> Q`
    the volunteer activities a viewer may see (and, having a person on record, sign up for): administrators
    all; organizers those located in their divisions; organization staff, secretaries and members those their
    organization organizes, and staff and secretaries those of their organizations' teams; a platform's staff
    and station operators those at or of their stations; a person the activities of teams they are in, those
    they signed up for, and those open to volunteers nearby in the district (county) where they work.
`may_organize_for(scope, *, team=None, organization=None) -> bool`
    set up an activity in the name of this team (whoever leads it) or organization (administrators, organizers
    of its place, its staff and secretaries).
`may_run_activity(scope, activity) -> bool`
    set up an activity like this one (saved or not), add shifts, see who signed up, show the check-in code,
    check someone in by hand: administrators; organizers of the place; staff and secretaries of the organizing
    organization; whoever leads the organizing team; the station's operator and its platform's staff.
`party_members_among(scope, person_ids) -> set[int]`
    which of these people the viewer may see marked as Party members (a team's roster): a current membership
    visible through `party_status_q`; shown outside the viewer's own organizations, the read is audited.
`activities_run_q(scope, prefix="") -> Q`
    the activities the viewer runs (`may_run_activity` as a filter; `prefix` like "activity__").
`hours_q(scope) -> Q`
    the service hours (volunteering.HoursRecord) a viewer may see: administrators all; a person their own;
    whoever runs the activity (`activities_run_q`) those of its volunteers. Nobody else: not an organizer of
    another division, not a member of another branch, not the volunteer's team-mates.
`may_award_hours(scope, activity) -> bool`
    add hours with a reason (time served outside a shift, a record the phones missed): whoever runs it.
`may_review_hours(scope, record, user=None) -> bool`
    approve or decline pending hours: whoever runs the activity, never for their own hours, and never for
    hours they awarded themselves or whose check-in or check-out they entered by hand (someone else who runs
    it reviews those: the time entered by hand decides the hours, as an award does). `hours_review_q(scope)`
    is the same rule as a filter (the review list).
`points_stations_q(scope) -> Q`, `may_redeem_at(scope, station) -> bool`
    the stations where the viewer hands out goods for points: a station operator at their own stations, and a
    platform's staff at the stations their company operates. Administrators and organizers do not redeem.
`redemptions_q(scope) -> Q`
    the redemptions (volunteering.PointsEntry of kind "redeem") a viewer sees on the station's redeem page:
    those at the stations where they redeem (`points_stations_q`); nobody else sees them there (a volunteer
    sees their own on "My points").
`phone_volunteer_scope(person) -> Scope | None`
    a worker without an account proves a phone is theirs with the one-time code of "My data"
    (`people.rights`); the volunteer session it opens has this scope: the person's own, with no user and
    no role, so it sees what `teams_q`, `activities_q`, `vanguard_posts_q` and `hours_q` give a person (their
    teams and shifts, activities open near where they work, their hours and points) and may run, lead, manage,
    review and redeem nothing (every such rule needs a user). None for a person who withdrew consent or was
    erased. The session is taken on volunteering pages only (`volunteering.phone.volunteer_required`).
`hours_export_identity(scope, person) -> tuple[str, str]`
    the identifier of a volunteer in an hours export (the national volunteer system's "ID type" and "ID
    number"): Xinye never stores an ID-card number (only a keyed hash), so it is the mobile phone, full for
    the roles that see full phones (audited, `phone_for`), masked for everyone else.

Indicators (issue 15)
`indicator_access(scope, division_code) -> "inside" | "outside" | None`
    administrators read every division's indicators inside their scope; organizers their divisions and those
    under them inside, and the divisions above theirs (their city, province, the country) outside: for
    context, with small counts suppressed; nobody reads another district's or city's (404).
`suppress_small(scope, division_code, value)`, `indicator_figures(scope, division_code, numerator,
denominator, *, numerator_counts=True, own=None, taken_out=None) -> (numerator, denominator, value_shown)`
    the one place every indicator page, API answer, export, sparkline and pilot comparison takes its counts
    from: exact inside, 1 to 4 shown as "<5" outside, and a share or mean outside shown only when no count
    behind it (nor, for a share, the rest) is small; nor the difference from what the viewer sees exactly
    (their own divisions inside, `own`), nor, for the rest of a pilot's area, the pilots taken out of it as
    far as the viewer does not see them (`taken_out`, each from `hidden_part`).
`indicator_records(scope, division_code, records)`, `indicator_records_shown(scope, records, person_ids)`
    the records behind a figure, listed only inside the viewer's own area and only those they may open one by
    one; a list that says who is a Party member is only of memberships they may see, and every page of it shown
    is audited like a roster (`party_status`, outside the viewer's own organizations).
`may_read_indicators(scope)`, `may_manage_pilots(scope)`
    the indicator pages are for administrators and organizers; pilots are set by administrators.

Audit: the functions above record a sensitive read (`accounts.audit`) whenever they return the unmasked
value inside a request; one `AuditEvent` per request and field names how many subjects were read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db.models import Q

from xinye.common.text import mask_phone

from . import audit
from .scope import Scope

FULL_PHONE = "full_phone"
PARTY_STATUS = "party_status"
HIDDEN_IDENTITY = "hidden_identity"
REDACTED = "***"


# ---------------------------------------------------------------- who is who


def is_platform_side(scope: Scope) -> bool:
    if scope.is_admin:
        return False
    return bool(scope.platform_company_ids or scope.platform_body)


def _entering_user_ids(demand) -> set[int]:
    """Accounts that stand for the worker: the one that entered the demand and the worker's own."""
    if demand.collective:
        return set()
    ids = {demand.entered_by_id} if demand.entered_by_id else set()
    person = demand.person if demand.person_id else None
    if person is not None and person.user_id:
        ids.add(person.user_id)
    return ids


def _own(scope: Scope, demand) -> bool:
    if demand.collective:
        return False
    if scope.user_id and demand.entered_by_id == scope.user_id:
        return True
    return bool(scope.person_id and demand.person_id == scope.person_id)


def identity_hidden(scope: Scope, demand) -> bool:
    if not (demand.hide_from_platform or demand.anonymous or demand.collective):
        return False
    if scope.is_admin or _own(scope, demand):
        return False
    return is_platform_side(scope)


# ---------------------------------------------------------------- phones


def sees_full_phone(scope: Scope) -> bool:
    return scope.is_admin or any(r in settings.XINYE_PHONE_VISIBLE_ROLES for r in scope.roles)


def phone_for(scope: Scope, person) -> str:
    """The person's phone as the viewer may see it: full (audited) or masked."""
    phone = getattr(person, "phone", "") or ""
    if not phone:
        return ""
    if sees_full_phone(scope):
        subject = getattr(getattr(person, "_meta", None), "label_lower", "people.person")  # a person, a report
        audit.read(scope, FULL_PHONE, subject, person.pk)
        return phone
    return mask_phone(phone)


def reveal_phone_for(scope: Scope, person) -> str:
    """The full phone of one of the viewer's own liaison workers (audited), "" when it is not theirs."""
    phone = getattr(person, "phone", "") or ""
    if not (phone and scope.person_id and getattr(person, "pk", None)):
        return ""
    from xinye.demands.models import LiaisonPair  # the demands app imports accounts, not back
    from xinye.people.rights import processable_q

    own = (
        LiaisonPair.objects.filter(member_id=scope.person_id, worker_id=person.pk, until__isnull=True)
        .filter(processable_q("worker__"))
        .exists()
    )
    if not own:
        return ""
    audit.read(scope, FULL_PHONE, "people.person", person.pk)
    return phone


# ---------------------------------------------------------------- party status


def _own_org_q(scope: Scope, field: str) -> Q:
    """Memberships (through `field`, a path to an Organization) in the viewer's own organizations."""
    from xinye.places.selectors import division_q

    return (
        Q(**{f"{field}__in": scope.org_ids})
        | Q(**{f"{field}__in": scope.member_org_ids})
        | division_q(scope, f"{field}__division")
    )


def party_status_q(scope: Scope, prefix: str = "") -> Q:
    """A filter on Membership (or, with `prefix` like "memberships__", on a model reaching it): the
    memberships the viewer may see."""
    from xinye.places.selectors import division_q

    if scope.is_admin:
        return Q()
    q = _own_org_q(scope, f"{prefix}organization")
    if scope.person_id:
        q |= Q(**{f"{prefix}person_id": scope.person_id})
    if scope.division_prefixes:
        q |= division_q(scope, f"{prefix}person__work_community")
    return q


def _in_own(scope: Scope, m) -> bool:
    if m.person_id and m.person_id == scope.person_id:
        return True
    org = m.organization if m.organization_id else None
    if org is None:
        community = m.person.work_community if m.person.work_community_id else None
        return bool(community and any(community.code.startswith(p) for p in scope.division_prefixes))
    if org.pk in scope.org_ids or org.pk in scope.member_org_ids:
        return True
    code = org.division.code if org.division_id else ""
    return bool(code and any(code.startswith(p) for p in scope.division_prefixes))


def _oversees(scope: Scope, person) -> bool:
    if scope.is_admin or (scope.person_id and person.pk == scope.person_id):
        return True
    community = person.work_community if person.work_community_id else None
    return bool(community and any(community.code.startswith(p) for p in scope.division_prefixes))


def party_status_for(scope: Scope, person, memberships: Iterable | None = None) -> list | None:
    """The person's memberships the viewer may see (`memberships`: the candidates, default all of the
    person's); None when nothing may be shown, not even that there is none."""
    if memberships is None:
        memberships = person.memberships.select_related("organization__division").order_by("-since")
    visible = []
    outside = False
    for m in memberships:
        if scope.is_admin:
            visible.append(m)
            outside = outside or not (scope.person_id and m.person_id == scope.person_id)
        elif _in_own(scope, m):
            visible.append(m)
        elif scope.division_prefixes and _oversees(scope, person):
            visible.append(m)
            outside = True
    if outside:
        audit.read(scope, PARTY_STATUS, "people.person", person.pk)
    if visible or _oversees(scope, person):
        return visible
    return None


def party_status_known(scope: Scope, person) -> bool:
    """Whether the viewer may know if `person` is a Party member or not (see the module's documentation)."""
    from xinye.people.models import Membership

    if scope.user_id is None or person is None:
        return False
    if _oversees(scope, person):
        return True
    return Membership.objects.filter(party_status_q(scope), person_id=person.pk, until__isnull=True).exists()


def is_visible_member(scope: Scope, person) -> bool:
    """The person has a current membership the viewer may see (see the module's documentation)."""
    from xinye.people.models import Membership

    if scope.user_id is None or person is None:
        return False
    current = Membership.objects.filter(person_id=person.pk, until__isnull=True)
    return (current if scope.is_admin else current.filter(party_status_q(scope))).exists()


#: consent purposes that tell party membership (people.services.PARTY_PURPOSE)
PARTY_CONSENT_PURPOSES = frozenset({"party membership reported to the community"})


def consent_visible(scope: Scope, consent, party_status) -> bool:
    """A consent the viewer may see on a person's page (see the module's documentation)."""
    return party_status is not None or consent.purpose not in PARTY_CONSENT_PURPOSES


# ---------------------------------------------------------------- demands


def _people_of(demand) -> list:
    """People whose identity a hidden demand protects: its worker and the member who entered it, and for a
    collective demand those of every merged demand."""
    people = []
    demands = [demand]
    if demand.collective and demand.pk:
        demands += list(demand.merged.select_related("person", "entered_by__person"))
    for d in demands:
        if d.person_id:
            people.append(d.person)
        user = d.entered_by if d.entered_by_id else None
        member = getattr(user, "person", None) if user is not None else None
        if member is not None:
            people.append(member)
    return people


#: a date (kept) or a phone-number-like run (redacted): 7 or more digits, optionally split by spaces or dashes
#: (+86 included), or a masked phone (138****1234)
# Digits are any decimal digits (\d: also full-width １８１ and other scripts); a phone may be split by
# spaces, dashes, dots, slashes, brackets (ASCII or full-width). Dates (2026-01-31, 2026/1/31, 2026年1月31日)
# stay; every other run of 7 or more digits is taken for a phone number.
_SEP = r"[\s\-./_·()（）．－—／]"
_DATE_OR_PHONE = re.compile(
    r"(?P<date>(?<!\d)\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?!\d))"
    rf"|(?<![\dA-Za-z])(?:[+＋]?(?:86|８６){_SEP}{{0,3}})?\d(?:{_SEP}{{0,3}}\d){{6,}}(?!\d)"
    r"|\d{3}[*＊]{2,}\d{4}"
)


def _redactor(demand):
    names = sorted({p.name.strip() for p in _people_of(demand) if len(p.name.strip()) >= 2}, key=len, reverse=True)
    rx = re.compile("|".join(re.escape(n) for n in names)) if names else None

    def phones(m: re.Match) -> str:
        return m.group(0) if m.group("date") else REDACTED

    def redact(text: str) -> str:
        if not text:
            return text
        if rx is not None:
            text = rx.sub(REDACTED, text)
        return _DATE_OR_PHONE.sub(phones, text)

    return redact


def photos_visible(scope: Scope, demand) -> bool:
    """Whether the viewer may see the demand's photos (not when its identity is hidden from them)."""
    return not identity_hidden(scope, demand)


def demand_text_for(scope: Scope | None, demand, text: str | None = None, *, machine: bool = False) -> str:
    if text is None:
        text = demand.description
    if not text:
        return text or ""
    if machine or (scope is not None and identity_hidden(scope, demand)):
        return _redactor(demand)(text)
    return text


def text_search_q(scope: Scope) -> Q:
    if not is_platform_side(scope):
        return Q()
    own = Q(entered_by_id=scope.user_id) if scope.user_id else Q(pk__in=[])
    if scope.person_id:
        own |= Q(person_id=scope.person_id)
    return Q(hide_from_platform=False, anonymous=False, collective=False) | (own & Q(collective=False))


def name_search_q(scope: Scope) -> Q:
    named = Q(anonymous=False)
    if scope.is_admin:
        return named
    return named & text_search_q(scope)


def demand_identity_for(scope: Scope, demand) -> dict | None:
    if demand.anonymous or not demand.person_id or identity_hidden(scope, demand):
        return None
    person = demand.person
    user = demand.entered_by if demand.entered_by_id and demand.channel == "member" else None
    member = getattr(user, "person", None) if user is not None else None
    if demand.hide_from_platform and not _own(scope, demand):
        audit.read(scope, HIDDEN_IDENTITY, "demands.demand", demand.pk)
    return {"name": person.name, "phone": phone_for(scope, person), "entered_by": member.name if member else ""}


def history_actor_for(scope: Scope, demand, event, *, handler: bool) -> str:
    """Who did `event`, as a page shows it: a username, or a label in the active language."""
    from xinye.demands.models import actor_label_display

    if not handler or not event.actor_id or event.actor_label == "submitter":
        return actor_label_display(event.actor_label)
    if event.actor_id in _entering_user_ids(demand) and identity_hidden(scope, demand):
        return actor_label_display(event.actor_label or "member")
    return event.actor.username


_REFERENCE = re.compile(r"(?<![A-Za-z0-9])D[0-9]+(?![0-9])")


def submitter_note(event) -> str:
    """The note of a demand's event as the submitter's side (tracking page, Open311, the member who entered
    it) sees it: only a public event's note the handler made visible. A status change is public, yet the note
    typed with it is internal unless the handler ticked "the submitter sees the note" (issue 16, item 2)."""
    return event.note if event.public and event.note_public else ""


def event_note_for(event, *, handler: bool) -> str:
    """Handlers see every note (internal ones marked); everyone else what the submitter sees."""
    return event.note if handler else submitter_note(event)


def tracking_events(demand) -> list[dict]:
    keep = {demand.reference}
    if demand.merged_into_id:
        keep.add(demand.merged_into.reference)
    out = []
    for e in demand.events.filter(public=True):
        note = submitter_note(e)
        if demand.collective and e.kind in ("merged", "submitted"):
            note = ""  # "collective demand of D1, D2, …": the other workers' demands
        note = _REFERENCE.sub(lambda m: m.group(0) if m.group(0) in keep else REDACTED, note)
        out.append(
            {
                "at": e.at,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "to": e.to_status,
                "to_label": e.to_status_label,
                "note": note,
            }
        )
    return out


# ---------------------------------------------------------------- who may give which role (issue 12, item 2)

_ORG_KINDS = ("org_staff", "secretary", "member")


def assignable_kinds(scope: Scope) -> list[str]:
    """The role kinds this user may give (in `RoleKind` order), within `may_assign`'s places."""
    from .models import RoleKind

    if scope.is_admin:
        return list(RoleKind.values)
    kinds: set[str] = set()
    if scope.division_prefixes:
        kinds |= {RoleKind.ORGANIZER, *_ORG_KINDS, RoleKind.STATION_OPERATOR}
    if scope.staff_org_ids:
        kinds |= set(_ORG_KINDS)
    if scope.org_ids and "secretary" in scope.roles:
        kinds.add(RoleKind.MEMBER)
    return [k for k in RoleKind.values if k in kinds]


def _in_divisions(scope: Scope, code: str | None) -> bool:
    return bool(code) and any(code.startswith(p) for p in scope.division_prefixes)


def may_assign(scope: Scope, kind: str, *, division=None, organization=None, operator_name: str = "") -> bool:
    """Whether this user may give (or change, or revoke) a role of `kind` at that place (see the module's
    documentation). The place a kind needs must be given: a division for an organizer, an organization for
    staff, secretaries and members, a name for an operator."""

    from .models import RoleKind

    if kind not in RoleKind.values or scope.user_id is None:
        return False
    if kind == RoleKind.ORGANIZER and division is None:
        return False
    if kind in _ORG_KINDS and organization is None:
        return False
    if kind == RoleKind.STATION_OPERATOR and not operator_name.strip():
        return False
    if scope.is_admin:
        return True
    if kind not in assignable_kinds(scope):
        return False
    if kind == RoleKind.ORGANIZER:
        return _in_divisions(scope, division.code)
    if kind == RoleKind.STATION_OPERATOR:
        return operator_name.strip() in operators_in_reach(scope)
    if kind != RoleKind.MEMBER:  # staff and secretaries see the whole subtree: it must all be in reach
        return organization.pk in _whole_subtree_in_reach(scope)
    org_division = organization.division.code if organization.division_id else None
    if _in_divisions(scope, org_division):
        return True
    if organization.pk in scope.staff_org_ids:
        return True
    return "secretary" in scope.roles and organization.pk in scope.org_ids


def operators_in_reach(scope: Scope) -> set[str]:
    """Operator names every one of whose stations lies in the user's divisions: an operator role sees and runs
    every station of its name (points redeemed, teams and activities there), so an organizer gives it only where
    that is all within their own reach, as for staff and secretaries (outsider review 2026-12-04)."""
    from xinye.places.selectors import division_q
    from xinye.stations.models import Station

    if not scope.division_prefixes:
        return set()
    inside = Station.objects.filter(division_q(scope, "division")).exclude(operator_name="")
    names = set(inside.values_list("operator_name", flat=True))
    if not names:
        return set()
    outside = Station.objects.filter(operator_name__in=names).exclude(division_q(scope, "division"))
    return names - set(outside.values_list("operator_name", flat=True))


def _whole_subtree_in_reach(scope: Scope) -> set[int]:
    """Organizations whose whole subtree the user reaches (located in their divisions, or in their staff
    subtree): a staff or secretary role given there cannot see more than the giver (a company's tree often
    crosses districts)."""
    from xinye.organizations.models import Organization
    from xinye.places.selectors import division_q

    reach = set(Organization.objects.filter(division_q(scope, "division")).values_list("pk", flat=True))
    reach |= set(scope.staff_org_ids)
    blocked: set[int] = set()
    for path in Organization.objects.with_tree_fields().exclude(pk__in=reach).values_list("tree_path", flat=True):
        blocked.update(path)  # an organization out of reach, and every organization above it
    return reach - blocked


def role_q(scope: Scope) -> Q:
    """`may_assign` as a filter of `Role` (kept equal to it by tests/test_user_admin.py over the demo)."""
    from xinye.places.selectors import division_q

    if scope.is_admin:
        return Q()
    kinds = assignable_kinds(scope)
    q = Q(pk__in=[])
    if scope.division_prefixes:
        q |= Q(kind="organizer") & division_q(scope, "division")
        q |= Q(kind="member") & division_q(scope, "organization__division")
        q |= Q(kind="station_operator", operator_name__in=sorted(operators_in_reach(scope)))
    if scope.staff_org_ids:
        q |= Q(kind="member", organization_id__in=scope.staff_org_ids)
    if scope.division_prefixes or scope.staff_org_ids:
        q |= Q(kind__in=("org_staff", "secretary"), organization_id__in=_whole_subtree_in_reach(scope))
    if "member" in kinds and "secretary" in scope.roles and scope.org_ids:
        q |= Q(kind="member", organization_id__in=scope.org_ids)
    return q


def may_manage_user(scope: Scope, user) -> bool:
    """Deactivate, reactivate or send a new sign-in link to `user` (see the module's documentation)."""
    from .models import Role

    if scope.user_id is None or user.pk == scope.user_id:
        return False
    if scope.is_admin:
        return True
    if user.is_superuser or not assignable_kinds(scope):
        return False
    roles = Role.objects.filter(user=user)
    if not roles.exists():
        return False
    return not roles.exclude(role_q(scope)).exists()


def may_manage_posts(scope: Scope, organization) -> bool:
    """Appoint and end posts and record elections of `organization` (see the module's documentation)."""
    if scope.is_admin:
        return True
    code = organization.division.code if organization.division_id else None
    return _in_divisions(scope, code) or organization.pk in scope.staff_org_ids


def recruitment_q(scope: Scope) -> Q:
    """The recruitments (people.Recruit) the viewer may see (see the module's documentation)."""
    from xinye.places.selectors import division_q

    if scope.is_admin:
        return Q()
    return division_q(scope, "organization__division") | Q(organization_id__in=scope.org_ids)


def may_manage_recruitment(scope: Scope, organization) -> bool:
    """Record the steps of people joining the Party through `organization` (a branch)."""
    if scope.is_admin or organization.pk in scope.org_ids:
        return True
    code = organization.division.code if organization.division_id else None
    return _in_divisions(scope, code)


def floating_request_q(scope: Scope) -> Q:
    """The floating-member requests (people.FloatingRequest) the viewer may see."""
    from xinye.places.selectors import division_q

    if scope.is_admin:
        return Q()
    return division_q(scope, "person__work_community") | Q(home_org_id__in=scope.org_ids)


# ---------------------------------------------------------------- volunteering (issue 14)


def _team_division_code(team) -> str:
    """The code of the division a team (saved or not) lies in: its own `division`, or its place's."""
    if getattr(team, "division_id", None):
        return team.division.code
    place = None
    if team.community_id:
        place = team.community
    elif team.station_id:
        place = team.station.division if team.station.division_id else None
    elif team.organization_id:
        place = team.organization.division if team.organization.division_id else None
    return place.code if place is not None else ""


def _work_county_code(scope: Scope) -> str:
    """The district (county, 6 digits) where the viewer's own person works, or ""."""
    if not scope.person_id:
        return ""
    from xinye.people.models import Person

    code = Person.objects.filter(pk=scope.person_id).values_list("work_community__code", flat=True).first()
    return code[:6] if code and len(code) >= 6 else ""


def teams_q(scope: Scope) -> Q:
    """The volunteer teams the viewer may see (see the module's documentation)."""
    from xinye.places.selectors import division_q
    from xinye.volunteering.models import TeamMembership

    if scope.is_admin:
        return Q()
    q = division_q(scope, "division")
    if scope.org_ids:
        q |= Q(organization_id__in=scope.org_ids)
    if scope.member_org_ids:
        q |= Q(organization_id__in=scope.member_org_ids)
    if scope.staff_company_ids:
        q |= Q(station__operator_company_id__in=scope.staff_company_ids)
    if scope.operator_names:
        q |= Q(station__operator_name__in=scope.operator_names)
    if scope.person_id:
        q |= Q(pk__in=TeamMembership.objects.filter(person_id=scope.person_id).values("team_id"))
        county = _work_county_code(scope)
        if county:
            q |= Q(division__code__startswith=county)
    return q


def may_manage_team(scope: Scope, team) -> bool:
    """Create a team like this one (saved or not), dissolve it, appoint leaders (see the module's documentation)."""
    if scope.user_id is None:
        return False
    if scope.is_admin:
        return True
    if _in_divisions(scope, _team_division_code(team)):
        return True
    if team.organization_id and team.organization_id in scope.org_ids:
        return True
    if team.station_id:
        station = team.station
        if station.operator_name and station.operator_name in scope.operator_names:
            return True
        if station.operator_company_id and station.operator_company_id in scope.staff_company_ids:
            return True
    return False


def is_team_leader(scope: Scope, team) -> bool:
    """The viewer's own person leads the team (an approved membership marked leader)."""
    from xinye.volunteering.models import TeamMembership, TeamMembershipStatus

    if not (scope.person_id and team.pk):
        return False
    return TeamMembership.objects.filter(
        team_id=team.pk, person_id=scope.person_id, status=TeamMembershipStatus.APPROVED, leader=True
    ).exists()


def may_lead_team(scope: Scope, team) -> bool:
    """Answer requests to join, run the team's activities, check people in by hand. Leading is done signed in: a
    leader in a volunteer session on a phone (no user, `phone_volunteer_scope`) volunteers like anyone else."""
    if scope.user_id is None:
        return False
    return may_manage_team(scope, team) or is_team_leader(scope, team)


def vanguard_posts_q(scope: Scope) -> Q:
    """The vanguard and model posts the viewer may see (see the module's documentation)."""
    from xinye.people.models import Membership
    from xinye.places.selectors import division_q
    from xinye.volunteering.models import Team

    if scope.is_admin:
        return Q()
    holders = Membership.objects.filter(party_status_q(scope), until__isnull=True).values("person_id")
    q = Q(person_id__in=holders) | division_q(scope, "division")
    q |= Q(team__in=Team.objects.filter(teams_q(scope)).values("pk"))
    return q


def may_manage_post(scope: Scope, post) -> bool:
    """Appoint or end a vanguard or model post like this one (saved or not)."""
    from xinye.people.models import Membership

    if scope.user_id is None:
        return False
    if scope.is_admin:
        return True
    place = post.community or (post.station.division if post.station_id else None)
    if place is None and post.business_unit_id:
        place = post.business_unit.division
    code = post.division.code if post.division_id else (place.code if place is not None else "")
    if _in_divisions(scope, code):
        return True
    if post.team_id:
        return may_manage_team(scope, post.team)
    if post.person_id and scope.org_ids:
        return Membership.objects.filter(
            person_id=post.person_id, until__isnull=True, organization_id__in=scope.org_ids
        ).exists()
    return False


def party_members_among(scope: Scope, person_ids: Iterable[int]) -> set[int]:
    """Which of these people the viewer may see marked as Party members (see the module's documentation)."""
    from xinye.people.models import Membership

    ids = list({int(i) for i in person_ids})
    if not ids:
        return set()
    current = Membership.objects.filter(person_id__in=ids, until__isnull=True)
    visible = current if scope.is_admin else current.filter(party_status_q(scope))
    shown = set(visible.values_list("person_id", flat=True))
    if scope.is_admin:
        outside = shown - {scope.person_id}
    else:
        own = set(
            current.filter(_own_org_q(scope, "organization") | Q(person_id=scope.person_id or 0)).values_list(
                "person_id", flat=True
            )
        )
        outside = shown - own
    for pid in sorted(outside):
        audit.read(scope, PARTY_STATUS, "people.person", pid)
    return shown


def activities_q(scope: Scope) -> Q:
    """The volunteer activities the viewer may see (see the module's documentation)."""
    from xinye.places.selectors import division_q
    from xinye.volunteering.models import Signup, TeamMembership, TeamMembershipStatus

    if scope.is_admin:
        return Q()
    q = division_q(scope, "division")
    if scope.org_ids:
        q |= Q(organization_id__in=scope.org_ids) | Q(team__organization_id__in=scope.org_ids)
    if scope.member_org_ids:
        q |= Q(organization_id__in=scope.member_org_ids)
    if scope.staff_company_ids:
        q |= Q(station__operator_company_id__in=scope.staff_company_ids)
        q |= Q(team__station__operator_company_id__in=scope.staff_company_ids)
    if scope.operator_names:
        q |= Q(station__operator_name__in=scope.operator_names)
        q |= Q(team__station__operator_name__in=scope.operator_names)
    if scope.person_id:
        teams = TeamMembership.objects.filter(person_id=scope.person_id, status=TeamMembershipStatus.APPROVED)
        q |= Q(team_id__in=teams.values("team_id"))
        q |= Q(pk__in=Signup.objects.filter(person_id=scope.person_id).values("shift__activity_id"))
        county = _work_county_code(scope)
        if county:
            q |= Q(open_nearby=True, division__code__startswith=county)
    return q


def may_run_activity(scope: Scope, activity) -> bool:
    """Set up, add shifts, see the roster, show the check-in code, check in by hand (module documentation)."""
    if scope.user_id is None:
        return False
    if scope.is_admin:
        return True
    place = activity.community or (activity.station.division if activity.station_id else None)
    code = activity.division.code if activity.division_id else (place.code if place is not None else "")
    if _in_divisions(scope, code):
        return True
    if activity.organization_id and activity.organization_id in scope.org_ids:
        return True
    if activity.team_id and may_lead_team(scope, activity.team):
        return True
    if activity.station_id:
        station = activity.station
        if station.operator_name and station.operator_name in scope.operator_names:
            return True
        if station.operator_company_id and station.operator_company_id in scope.staff_company_ids:
            return True
    return False


def may_organize_for(scope: Scope, *, team=None, organization=None) -> bool:
    """Set up an activity in the name of `team` or `organization` (see the module's documentation)."""
    if scope.user_id is None or (team is None and organization is None):
        return False
    if team is not None and not may_lead_team(scope, team):
        return False
    if organization is not None and not scope.is_admin:
        code = organization.division.code if organization.division_id else ""
        if not (_in_divisions(scope, code) or organization.pk in scope.org_ids):
            return False
    return True


# ---------------------------------------------------------------- volunteer hours and points (issue 14, item 4)


def activities_run_q(scope: Scope, prefix: str = "") -> Q:
    """The activities the viewer runs: `may_run_activity` as a filter (`prefix` leads from the filtered model
    to the activity, e.g. "activity__")."""
    from xinye.places.selectors import division_q
    from xinye.volunteering.models import TeamMembership, TeamMembershipStatus

    if scope.is_admin:
        return Q()
    p = prefix
    q = division_q(scope, f"{p}division") | division_q(scope, f"{p}team__division")
    if scope.org_ids:
        q |= Q(**{f"{p}organization_id__in": scope.org_ids}) | Q(**{f"{p}team__organization_id__in": scope.org_ids})
    if scope.operator_names:
        q |= Q(**{f"{p}station__operator_name__in": scope.operator_names})
        q |= Q(**{f"{p}team__station__operator_name__in": scope.operator_names})
    if scope.staff_company_ids:
        q |= Q(**{f"{p}station__operator_company_id__in": scope.staff_company_ids})
        q |= Q(**{f"{p}team__station__operator_company_id__in": scope.staff_company_ids})
    if scope.person_id and scope.user_id is not None:  # leading is done signed in (see may_lead_team)
        led = TeamMembership.objects.filter(
            person_id=scope.person_id, status=TeamMembershipStatus.APPROVED, leader=True
        ).values("team_id")
        q |= Q(**{f"{p}team_id__in": led})
    return q


def hours_q(scope: Scope) -> Q:
    """The service hours the viewer may see (see the module's documentation)."""
    if scope.is_admin:
        return Q()
    q = activities_run_q(scope, "activity__")
    if scope.person_id:
        q |= Q(person_id=scope.person_id)
    return q


def may_award_hours(scope: Scope, activity) -> bool:
    """Add hours with a reason on this activity: whoever runs it."""
    return may_run_activity(scope, activity)


def may_review_hours(scope: Scope, record, user=None) -> bool:
    """Approve or decline these hours (see the module's documentation)."""
    if scope.user_id is None:
        return False
    if scope.person_id and record.person_id == scope.person_id:
        return False  # nobody approves their own hours, administrators included
    who = getattr(user, "pk", None) if user is not None else scope.user_id
    if record.kind == "awarded" and record.created_by_id is not None and record.created_by_id == who:
        return False
    att = record.attendance if getattr(record, "attendance_id", None) else None
    if (
        att is not None
        and who is not None
        and (
            (att.check_in_method == "manual" and att.check_in_by_id == who)
            or (att.check_out_method == "manual" and att.check_out_by_id == who)
        )
    ):
        return False  # a check-in or check-out by hand says how long they served: as good as awarding them
    return may_run_activity(scope, record.activity)


def hours_review_q(scope: Scope) -> Q:
    """`may_review_hours` as a filter of pending-or-not `HoursRecord`s (the review list)."""
    q = activities_run_q(scope, "activity__")
    if scope.person_id:
        q &= ~Q(person_id=scope.person_id)
    if scope.user_id:
        q &= ~Q(kind="awarded", created_by_id=scope.user_id)
        q &= ~Q(attendance__check_in_method="manual", attendance__check_in_by_id=scope.user_id)
        q &= ~Q(attendance__check_out_method="manual", attendance__check_out_by_id=scope.user_id)
    return q


def points_stations_q(scope: Scope) -> Q:
    """A filter of `stations.Station`: where the viewer redeems volunteers' points."""
    q = Q(pk__in=[])
    if scope.operator_names:
        q |= Q(operator_name__in=scope.operator_names)
    if scope.staff_company_ids:
        q |= Q(operator_company_id__in=scope.staff_company_ids)
    return q


def may_redeem_at(scope: Scope, station) -> bool:
    if scope.user_id is None or station is None:
        return False
    if station.operator_name and station.operator_name in scope.operator_names:
        return True
    return bool(station.operator_company_id and station.operator_company_id in scope.staff_company_ids)


def redemptions_q(scope: Scope) -> Q:
    """A filter of `volunteering.PointsEntry`: the redemptions at the stations where the viewer redeems."""
    from xinye.stations.models import Station

    if scope.user_id is None:
        return Q(pk__in=[])
    stations = Station.objects.filter(points_stations_q(scope)).values("pk")
    return Q(kind="redeem", station_id__in=stations)


def phone_volunteer_scope(person) -> Scope | None:
    """The scope of a volunteer session opened with a one-time code (see the module's documentation)."""
    if person is None or person.pk is None or not person.is_processable:
        return None
    return Scope(user_id=None, person_id=person.pk)


#: the "ID type" of an hours export (the national volunteer system's words; the export is in Chinese)
EXPORT_ID_TYPE_PHONE = "手机号码"


def hours_export_identity(scope: Scope, person) -> tuple[str, str]:
    """(ID type, ID) of a volunteer in an hours export (see the module's documentation)."""
    phone = phone_for(scope, person)
    return (EXPORT_ID_TYPE_PHONE, phone) if phone else ("", "")


# ------------------------------------------------------------------------------------------- commendations


def commendations_q(scope: Scope) -> Q:
    """The commendations the viewer may see: administrators all; organizers those of their divisions (where the
    holder works, or the awarding organization's); staff and secretaries those their organizations award; a
    person their own approved ones. An "outstanding member" one is further limited by `commendation_visible`."""
    from xinye.places.selectors import division_q

    if scope.is_admin:
        return Q()
    q = division_q(scope, "division") | division_q(scope, "organization__division")
    if scope.org_ids:
        q |= Q(organization_id__in=scope.org_ids)
    if scope.person_id:
        q |= Q(person_id=scope.person_id, status="approved")
    return q


def commendation_visible(scope: Scope, commendation) -> bool:
    """One the viewer sees (`commendations_q`) that says no more than they may know: a commendation of a kind
    that tells Party membership only where the holder's party status may be seen."""
    from xinye.volunteering.recognition import PARTY_KINDS

    if commendation.kind not in PARTY_KINDS or commendation.person_id is None:
        return True
    if commendation.person_id == scope.person_id:
        return True
    return bool(party_status_for(scope, commendation.person))


def may_nominate(scope: Scope, organization) -> bool:
    """Nominate someone for a commendation awarded by `organization`: administrators, organizers of its
    division, its staff and the secretaries of it or of an organization under it."""
    if scope.is_admin:
        return True
    code = organization.division.code if organization.division_id else None
    return _in_divisions(scope, code) or organization.pk in scope.org_ids


def may_decide_commendation(scope: Scope, commendation, user=None) -> bool:
    """Approve or decline: the awarding organization decides, through its staff or the organizers of its
    division (administrators too), and never the person who nominated."""
    who = getattr(user, "pk", None) if user is not None else scope.user_id
    if who is not None and commendation.nominated_by_id == who and not scope.is_admin:
        return False
    if scope.is_admin:
        return True
    org = commendation.organization
    code = org.division.code if org.division_id else None
    return _in_divisions(scope, code) or org.pk in scope.staff_org_ids


# ------------------------------------------------------------------------------------------ indicators (issue 15)

#: the viewer may see every record an indicator of the division counts (its counts are shown as they are)
INSIDE = "inside"
#: a division that holds the viewer's own (its province, its city): shown for context, small counts suppressed
OUTSIDE = "outside"


def indicator_access(scope: Scope, division_code: str) -> str | None:
    """How the viewer may read the indicators of a division (`division_code` a statistical code, "" the whole
    country): INSIDE for administrators and for organizers of the division or a division above it; OUTSIDE for
    a division above an organizer's own (the city around their district, the country), whose counts take in
    people they may not see one by one; None for anything else (another district, another city: 404)."""
    if scope.is_admin:
        return INSIDE
    if not scope.division_prefixes:
        return None
    if _in_divisions(scope, division_code):
        return INSIDE
    if any(p.startswith(division_code) for p in scope.division_prefixes):
        return OUTSIDE
    return None


def may_read_indicators(scope: Scope) -> bool:
    """The indicator pages are for administrators and organizers (the menu and the pages ask this)."""
    return bool(scope.is_admin or scope.division_prefixes)


def suppress_small(scope: Scope, division_code: str, value):
    """A count of a division's indicator as this viewer may see it: as it is inside their own area, 1 to 4
    shown as "<5" outside it (xinye.common.disclosure). A division the viewer may not read at all raises
    PermissionDenied (a page answers 404 before it gets here)."""
    from django.core.exceptions import PermissionDenied

    from xinye.common import disclosure

    access = indicator_access(scope, division_code)
    if access is None:
        raise PermissionDenied(division_code)
    return disclosure.suppress_small(value, in_scope=access == INSIDE)


def own_divisions_inside(scope: Scope, division_code: str) -> list[str]:
    """The viewer's own divisions that lie inside a division they see from outside (a district inside the
    city, a street inside the country): those counts they also see exactly, so the rest of the outer division
    is the difference."""
    if indicator_access(scope, division_code) != OUTSIDE:
        return []
    return [p for p in scope.division_prefixes if p.startswith(division_code) and p != division_code]


def known_cuts(scope: Scope, division_code: str) -> list[list[str]]:
    """What the viewer sees exactly inside a division they see from outside, as sets of divisions that cover each
    of their own divisions inside it once: the own divisions themselves, or a division between them and this one
    (the district around their street, inside the city), which they read too. The division less the sum of any
    such set is a subtraction away, so each is checked (`indicator_figures(own=...)`). [] for a division not seen
    from outside."""
    import itertools

    from xinye.reports.indicators import LEVEL_LENGTHS

    inside = own_divisions_inside(scope, division_code)
    if not inside:
        return []
    options = [[o[:n] for n in LEVEL_LENGTHS if len(division_code) < n < len(o)] + [o] for o in inside]
    cuts = set()
    for choice in itertools.product(*options):
        chosen = set(choice)
        cuts.add(tuple(sorted(c for c in chosen if not any(o != c and c.startswith(o) for o in chosen))))
    return [list(c) for c in sorted(cuts)]


def indicator_figures(
    scope: Scope,
    division_code: str,
    numerator,
    denominator,
    *,
    numerator_counts: bool = True,
    own: tuple[int, int] | list[tuple[int, int]] | None = None,
    taken_out: Iterable[tuple[int, int]] | None = None,
    hide: bool = False,
):
    """What of an indicator's counts the viewer sees: `(numerator, denominator, value_shown)`. Inside the viewer's
    area, as they are. Outside it, a figure is either exact (its counts and the share or mean computed from them)
    or hidden: then neither its counts nor the figure are shown (None). It is hidden when a count behind it is
    small, from 0 to 4: the denominator, and for a share the
    numerator and the rest (97 of 100 would name the 3 not covered). Zero counts as small (third outsider review,
    2026-12-04): "<5" that never stood for 0 beside a "0" shown gave lower bounds that pinned counts down across
    tables; and rounded counts ("≈5", 3 to 7) of a hidden figure did the same beside an exact margin or total,
    so a hidden figure shows no count at all.

    `own`: the counts of the viewer's own divisions inside this one (`own_divisions_inside`), which they see
    exactly. The rest of the division is then a subtraction away, so a rest that is small (0 to 4 counted, or
    not counted) is protected like a small count: the figure is hidden. A list:
    the counts of each set of divisions inside this one that the viewer sees exactly (`known_cuts`: their own
    divisions, or the divisions between, such as the district around their street inside the city), each a
    subtraction away.

    `taken_out`: for a figure of a division with parts taken out (the rest of a pilot's area: the area without
    the pilots in it), the counts of each part that the viewer does not see exactly (`hidden_part`). The
    division's own figure less this one is then their sum, and less the parts shown elsewhere (a pilot they
    read) any one of them, so a small part, or a small sum, is protected the same way (second outsider review,
    2026-12-04).

    `hide`: the figure is hidden as a cell of a table whose other cells and margins would give a hidden cell
    away (`indicator_table`)."""
    from xinye.common import disclosure

    access = indicator_access(scope, division_code)
    if access == INSIDE:
        return numerator, suppress_small(scope, division_code, denominator), True
    if access is None:
        suppress_small(scope, division_code, denominator)  # PermissionDenied

    def small(value: int) -> bool:
        return 0 <= value < disclosure.THRESHOLD

    def small_part(num: int, den: int) -> bool:
        return small(den) or (numerator_counts and (small(num) or small(den - num)))

    owns = [] if own is None else [own] if isinstance(own, tuple) else list(own)
    parts = [p for p in (taken_out or ()) if p != (0, 0)]
    total = (sum(n for n, _d in parts), sum(d for _n, d in parts))
    hidden = (
        hide
        or small_part(numerator, denominator)
        or any(small_part(numerator - n, denominator - d) for n, d in owns)
        or any(small_part(*p) for p in parts)
        or (len(parts) > 1 and small_part(*total))
    )
    if not hidden:
        return numerator, denominator, True
    return None, None, False


def indicator_table(
    scope: Scope,
    division_code: str,
    table: Mapping[tuple[int | None, str], tuple[int, int]],
    *,
    own: Mapping | list[Mapping] | None = None,
    taken_out: Mapping[tuple[int | None, str], list[tuple[int, int]]] | None = None,
    numerator_counts: bool = True,
) -> dict[tuple[int | None, str], tuple]:
    """An indicator's counts of one division by platform and occupation as the viewer sees them: (platform or
    None for every platform, occupation or "" for every occupation) -> `indicator_figures` of that cell, with the
    cell's own counts (`own`: by the same keys, the viewer's own divisions inside, or a list of them for each set
    of `known_cuts`) and parts taken out (`taken_out`). A key missing from `table` counts nothing.

    Seen from outside, the cells of a line (every occupation of a platform, every platform of an occupation) and
    its margin are read together: a hidden cell would come back as the margin less the cells shown, with what the
    viewer sees exactly inside taken off. So more cells are hidden until no line gives a small count away
    (`disclosure.secondary_cells`; second outsider review, finding 4). Every figure of a division read by
    platform or occupation outside the viewer's area comes from here, over the whole table, so the cells hidden
    do not depend on the one asked for."""
    from xinye.common import disclosure

    owns = None if own is None else [own] if isinstance(own, Mapping) else list(own)

    def figures(key, hide=False):
        num, den = table.get(key, (0, 0))
        return indicator_figures(
            scope, division_code, num, den, numerator_counts=numerator_counts,
            own=[o.get(key, (0, 0)) for o in owns] if owns is not None else None,
            taken_out=taken_out.get(key, []) if taken_out is not None else None, hide=hide,
        )  # fmt: skip

    keys = set(table) | {(None, "")}
    out = {key: figures(key) for key in keys}
    if indicator_access(scope, division_code) != OUTSIDE:
        return out
    cells = {}
    for key in keys:
        num, den = table.get(key, (0, 0))
        shown_num, shown_den, _visible = out[key]
        exact = (shown_num == num and isinstance(shown_num, int), shown_den == den and isinstance(shown_den, int))
        parts = [(num - n, den - d) for n, d in (o.get(key, (0, 0)) for o in owns or [{}])]
        cells[key] = (parts, exact)
    for key in disclosure.secondary_cells(cells, numerator_counts=numerator_counts):
        out[key] = figures(key, hide=True)
    return out


def hidden_part(scope: Scope, division_code: str, counts: tuple[int, int], own):
    """What of a division's counts the viewer does not see exactly: nothing inside their own area, else the
    counts less what they see exactly inside it (`own`: their own divisions' counts, or a list of such counts
    for each of `known_cuts`, of which the largest is taken)."""
    if indicator_access(scope, division_code) == INSIDE:
        return (0, 0)
    owns = [] if own is None else [own] if isinstance(own, tuple) else list(own)
    n, d = max(owns, key=lambda c: (c[1], c[0]), default=(0, 0))
    return (counts[0] - n, counts[1] - d)


def indicator_records(scope: Scope, division_code: str, records):
    """The records behind an indicator's figure (`reports.indicators.Records`) that the viewer may list, as
    (all, counted) querysets, or None. Only inside the viewer's own area: outside it a figure is a count, never
    a list of people. Within it, only records the viewer may open one by one (people, demands, companies'
    units in their scope), and where the records say who is a Party member, only people whose membership the
    viewer may see."""
    from xinye.demands.selectors import demand_q
    from xinye.organizations.selectors import company_q
    from xinye.people.models import Membership
    from xinye.people.selectors import person_q

    if indicator_access(scope, division_code) != INSIDE:
        return None
    if records.kind == "people":
        q = person_q(scope)
        if records.membership:
            q &= Q(pk__in=Membership.objects.filter(party_status_q(scope)).values("person_id"))
    elif records.kind == "demands":
        q = demand_q(scope)
    elif records.kind == "units":
        from xinye.organizations.models import Company
        from xinye.places.selectors import division_q

        q = division_q(scope, "division") | Q(company__in=Company.objects.filter(company_q(scope)).values("pk"))
    else:
        raise ValueError(records.kind)
    return records.all.filter(q), records.counted.filter(q)


def indicator_records_shown(scope: Scope, records, person_ids: Iterable[int]) -> None:
    """A page of an indicator's records was shown: where the records say who is a Party member
    (`records.membership`), it is a read of each listed person's party status, audited as a roster's is
    (`party_members_among`: outside the viewer's own organizations). Second outsider review, 2026-12-04."""
    if records.kind == "people" and records.membership:
        party_members_among(scope, person_ids)


def may_generate_report(scope: Scope, division_code: str) -> bool:
    """A division's monthly report (issue 15, item 4) is built by those who read all of it as it is: its
    organizers (or those of a division above it) and administrators. A division seen from outside is not."""
    return bool(division_code) and indicator_access(scope, division_code) == INSIDE


def report_copy(scope: Scope, division_code: str) -> str | None:
    """Which copy of a kept monthly report the viewer gets: "kept" (the stored files, built for readers inside
    the division, who see every count and every division below it) for a reader inside; "rebuilt" (built for
    this viewer from the same snapshots, small counts suppressed and the divisions below they may not read
    left out, as on the indicators page) for a reader outside; None: not found."""
    access = indicator_access(scope, division_code)
    if access is None:
        return None
    return "kept" if access == INSIDE else "rebuilt"


def may_manage_pilots(scope: Scope) -> bool:
    """Pilots (a division and a start date) are set by administrators."""
    return scope.is_admin


# ---------------------------------------------------------------- members' flags and union applications

#: who decides on a member's flag (transfer, lost contact, removal review): organizers, organization staff,
#: administrators; a secretary proposes
FLAG_DECIDERS = frozenset({"admin", "organizer", "org_staff"})


def may_decide_member_flags(scope: Scope) -> bool:
    return scope.is_admin or bool(FLAG_DECIDERS & set(scope.roles))


def may_answer_union_applications(scope: Scope) -> bool:
    """Trade-union applications are answered by the organizers of the applicants' communities."""
    return bool(scope.is_admin or scope.division_prefixes)


def union_application_q(scope: Scope) -> Q:
    """The applications a viewer may read and answer: of people working in their divisions (administrators:
    all)."""
    from xinye.places.selectors import division_q

    return Q() if scope.is_admin else division_q(scope, "person__work_community")
