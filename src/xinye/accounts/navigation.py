"""The main menu: the pages a user can use, and only those (issue 16, defect 7).

Each entry is shown by the same rule its page applies (the page answers 404 to everyone else), and a list
page whose scope holds nothing at all for this user (an operator's organizations, a district organizer's
companies when none is registered there) is left out rather than leading to an empty page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import RoleKind
from .scope import Scope


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url: str
    active: bool = False


def oversees(scope: Scope) -> bool:
    """Administrators, organizers, organization staff and secretaries: people above a single record."""
    return bool(scope.is_admin or scope.division_prefixes or scope.org_ids)


def handles_demands(scope: Scope) -> bool:
    """The rule of the demand queue (demands.views._handler_scope)."""
    return bool(
        scope.is_admin or scope.division_prefixes or scope.org_ids or scope.staff_company_ids or scope.platform_handler
    )


def has_own_workers(scope: Scope) -> bool:
    """A member (or anyone with a person record who keeps in touch with workers): "my workers"."""
    if not scope.person_id:
        return False
    if RoleKind.MEMBER in scope.roles:
        return True
    from xinye.demands.models import LiaisonPair  # the demands app imports accounts, not back

    return LiaisonPair.objects.filter(member_id=scope.person_id, until__isnull=True).exists()


def volunteers(scope: Scope) -> bool:
    """Volunteering (issue 14): anyone with a person on record (sign up, join a team), and everyone who sets up
    teams and posts (the rule of volunteering.selectors.may_set_up)."""
    return bool(
        scope.person_id
        or scope.is_admin
        or scope.division_prefixes
        or scope.org_ids
        or scope.operator_names
        or scope.staff_company_ids
    )


def _any_organization(scope: Scope) -> bool:
    from xinye.organizations.models import Organization
    from xinye.organizations.selectors import organization_q

    return scope.is_admin or Organization.objects.filter(organization_q(scope), dissolved_on__isnull=True).exists()


def _any_company(scope: Scope) -> bool:
    from xinye.organizations.models import Company
    from xinye.organizations.selectors import company_q

    return scope.is_admin or Company.objects.filter(company_q(scope)).exists()


def _manages_stations(scope: Scope) -> bool:
    from xinye.stations.registry import may_manage

    return may_manage(scope)


def main_menu(scope: Scope, path: str = "") -> list[NavItem]:
    """The entries of the main menu for this scope, in order; the one whose address is the longest start of
    `path` is active (the dashboard only on itself)."""
    if scope.user_id is None:
        return []
    items: list[tuple[str, str | Promise, str]] = [("dashboard", _("Dashboard"), "dashboard")]
    if _any_organization(scope):
        items.append(("organizations", _("Organizations"), "organization_index"))
    if oversees(scope) or scope.staff_company_ids:
        items.append(("people", _("People"), "person_index"))
    if oversees(scope):
        items.append(("members", _("Members"), "member_flags"))
        items.append(("liaisons", _("Liaisons"), "liaison_index"))
        items.append(("recruitment", _("Joining the Party"), "recruit_index"))
    if has_own_workers(scope):
        items.append(("my_workers", _("My workers"), "liaison_mine"))
    if _any_company(scope):
        items.append(("companies", _("Companies"), "company_index"))
    if scope.is_admin or scope.division_prefixes:
        items.append(("reports", _("Community reports"), "report_list"))
    from .policy import may_read_indicators

    if may_read_indicators(scope):
        items.append(("indicators", _("Indicators"), "indicator_index"))
    if _manages_stations(scope):
        items.append(("stations", _("Stations"), "station_index"))
    if handles_demands(scope):
        items.append(("demands", _("Demands"), "demand_queue"))
    if volunteers(scope):
        items.append(("volunteering", _("Volunteering"), "volunteering_index"))
    items.append(("places", _("Places"), "division_index"))
    from .policy import assignable_kinds

    if assignable_kinds(scope):
        items.append(("users", _("Users"), "user_index"))
    if scope.is_admin:
        items.append(("audit", _("Audit log"), "audit_log"))
    urls = [(key, label, reverse(name)) for key, label, name in items]
    matches = [url for _k, _l, url in urls if path == url or (url != "/" and path.startswith(url))]
    current = max(matches, key=len, default=None)
    return [NavItem(key=key, label=label, url=url, active=url == current) for key, label, url in urls]
