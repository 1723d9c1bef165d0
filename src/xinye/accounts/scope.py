"""The acting user's scope: which divisions, organizations, companies, people and stations they may see.

Every selector takes a `Scope` and filters by it; anything outside is treated as missing (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from .models import Role, RoleKind


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    is_admin: bool = False
    roles: tuple[str, ...] = ()
    division_prefixes: tuple[str, ...] = ()  # organizers: every division whose code starts with one of these
    org_ids: frozenset[int] = field(default_factory=frozenset)  # organizations in staff/secretary subtrees
    staff_org_ids: frozenset[int] = field(default_factory=frozenset)  # organizations in staff subtrees only
    staff_company_ids: frozenset[int] = field(default_factory=frozenset)  # companies of organization staff
    member_org_ids: frozenset[int] = field(default_factory=frozenset)  # a member's own branch(es)
    person_id: int | None = None  # the user's own person record
    operator_names: tuple[str, ...] = ()
    #: companies through which the user's access comes (see accounts.policy): of the organizations of their
    #: staff/secretary/member roles (subtree and ancestors) and of the platform bodies they handle
    platform_company_ids: frozenset[int] = field(default_factory=frozenset)
    #: handles a platform company's body that names no company
    platform_body: bool = False
    #: handles a platform company's body (any)
    platform_handler: bool = False
    #: the one role the user switched to (None: all their roles at once); see `ROLE_SESSION_KEY`
    active_role_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        return self.is_admin

    @property
    def sees_full_phone(self) -> bool:
        """The rule lives in accounts.policy (show a phone with policy.phone_for, never with this)."""
        return self.is_admin or any(r in settings.XINYE_PHONE_VISIBLE_ROLES for r in self.roles)

    @property
    def is_empty(self) -> bool:
        return not (
            self.is_admin
            or self.division_prefixes
            or self.org_ids
            or self.member_org_ids
            or self.person_id
            or self.operator_names
        )


ANONYMOUS = Scope(user_id=None)
#: the session key holding the id of the role a user with several roles switched to
ROLE_SESSION_KEY = "xinye_role"


def scope_for(user, role_id: int | None = None) -> Scope:
    """Compute the scope of a user from their roles (superusers are administrators); with `role_id`, from that
    one role only (a user with several roles who switched to one of them), if it is still theirs."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    roles = list(Role.objects.filter(user=user).select_related("division", "organization"))
    active = next((r for r in roles if r.pk == role_id), None) if role_id else None
    if active is not None:
        roles = [active]
    kinds = tuple(sorted({r.kind for r in roles}))
    is_admin = user.is_superuser or RoleKind.ADMIN in kinds
    prefixes = tuple(sorted({r.division.code for r in roles if r.kind == RoleKind.ORGANIZER and r.division}))
    org_ids: set[int] = set()
    staff_orgs: set[int] = set()
    staff_companies: set[int] = set()
    member_orgs: set[int] = set()
    platform_companies: set[int] = set()
    for r in roles:
        if r.organization_id is None:
            continue
        if r.kind in (RoleKind.ORG_STAFF, RoleKind.SECRETARY, RoleKind.MEMBER):
            above = r.organization.ancestors(include_self=True).values_list("company_id", flat=True)
            platform_companies.update(c for c in above if c)
        if r.kind in (RoleKind.ORG_STAFF, RoleKind.SECRETARY):
            subtree = list(r.organization.descendants(include_self=True).values_list("id", "company_id"))
            org_ids.update(i for i, _ in subtree)
            platform_companies.update(c for _, c in subtree if c)
            if r.kind == RoleKind.ORG_STAFF:
                staff_orgs.update(i for i, _ in subtree)
                staff_companies.update(c for _, c in subtree if c)
        elif r.kind == RoleKind.MEMBER:
            member_orgs.add(r.organization_id)
    from xinye.demands.models import BodyKind, ResponsibleBody  # the demands app imports accounts, not back

    platform_body = platform_handler = False
    for company_id in ResponsibleBody.objects.filter(kind=BodyKind.PLATFORM, handlers=user).values_list(
        "company_id", flat=True
    ):
        platform_handler = True
        if company_id:
            platform_companies.add(company_id)
        else:
            platform_body = True
    person = getattr(user, "person", None)
    operator_names = tuple(sorted({r.operator_name for r in roles if r.kind == RoleKind.STATION_OPERATOR}))
    return Scope(
        user_id=user.pk,
        is_admin=is_admin,
        roles=kinds,
        division_prefixes=prefixes,
        org_ids=frozenset(org_ids),
        staff_org_ids=frozenset(staff_orgs),
        staff_company_ids=frozenset(staff_companies),
        member_org_ids=frozenset(member_orgs),
        person_id=person.pk if person else None,
        operator_names=operator_names,
        platform_company_ids=frozenset(platform_companies),
        platform_body=platform_body,
        platform_handler=platform_handler,
        active_role_id=active.pk if active is not None else None,
    )


def request_scope(request) -> Scope:
    """The scope of the request's user, computed once per request."""
    cached = getattr(request, "_xinye_scope", None)
    if cached is None:
        session = getattr(request, "session", None)
        role_id = session.get(ROLE_SESSION_KEY) if session is not None else None
        cached = scope_for(getattr(request, "user", None), role_id if isinstance(role_id, int) else None)
        request._xinye_scope = cached
    return cached
