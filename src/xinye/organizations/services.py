"""Writes to organizations. Every change is one transaction and leaves a history record."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import update_change_reason

from xinye.common.errors import XinyeError

from .models import BusinessUnit, Organization


class OrganizationError(XinyeError):
    pass


_UNSET = object()


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    name: str | None = None,
    parent: Organization | None | object = _UNSET,
    business_units: Iterable[BusinessUnit] | None = None,
    reason: str = "",
) -> Organization:
    """Rename, move or re-anchor an organization; history records the change and the reason."""
    if name is not None:
        organization.name = name
    if parent is not _UNSET:
        organization.parent = parent  # type: ignore[assignment]
        try:
            organization.clean()
        except ValidationError as exc:
            raise OrganizationError(f"{organization}: {' '.join(exc.messages)}") from exc
    organization._change_reason = reason
    organization.save()
    if business_units is not None:
        organization.business_units.set(list(business_units))
        if reason:
            update_change_reason(organization, reason)
    return organization
