"""Writes to organizations. Every change is one transaction and leaves a history record."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import update_change_reason

from xinye.common.concurrency import save_versioned
from xinye.common.errors import XinyeError

from .models import BusinessUnit, Organization, Post, PostRole


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
    version: int | None = None,
) -> Organization:
    """Rename, move or re-anchor an organization; history records the change and the reason.

    `version`: the version the editor started from (default: the one `organization` was read at); if someone
    saved the organization since, nothing is written and `Conflict` (common.concurrency) says who changed
    what."""
    if name is not None:
        organization.name = name
    if parent is not _UNSET:
        organization.parent = parent  # type: ignore[assignment]
        try:
            organization.clean()
        except ValidationError as exc:
            raise OrganizationError(f"{organization}: {' '.join(exc.messages)}") from exc
    organization._change_reason = reason
    save_versioned(organization, expected_version=version)
    if business_units is not None:
        organization.business_units.set(list(business_units))
        if reason:
            update_change_reason(organization, reason)
    return organization


_POST_FIELDS = {"role", "start_date", "end_date", "person"}


@transaction.atomic
def post_update(*, post: Post, version: int | None = None, reason: str = "", **changes) -> Post:
    """Change a post (role, person, start or end of the term) if nobody saved it since `version` (default: the
    version `post` was read at); `Conflict` (common.concurrency) otherwise, with the other change."""
    unknown = set(changes) - _POST_FIELDS
    if unknown:
        raise OrganizationError(f"a post has no field {', '.join(sorted(unknown))}")
    if "role" in changes and changes["role"] not in PostRole.values:
        raise OrganizationError(f"unknown role {changes['role']!r}; use one of {', '.join(PostRole.values)}")
    for name, value in changes.items():
        setattr(post, name, value)
    if post.end_date is not None and post.end_date < post.start_date:
        raise OrganizationError(f"{post}: the end {post.end_date} is before the start {post.start_date}")
    post._change_reason = reason
    save_versioned(post, expected_version=version)
    return post
