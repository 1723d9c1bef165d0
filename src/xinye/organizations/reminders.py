"""Daily reminders (issue 11, schedules without cron): terms falling due and members' flags, per organization.

`reminders_refresh` runs daily in the worker (a schedule an administrator can change); the home page shows
the reminders of the organizations a user may see.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Organization, Reminder, ReminderKind
from .planning import rules_for


def reminders_refresh(*, today=None) -> dict:
    """Replace every reminder: organizations whose term ended or ends within the rule set's warning period, and
    organizations with flagged members (floating members due to transfer, out of contact, certificates)."""
    from xinye.algorithms.membership import MemberDates, membership_flags
    from xinye.people.models import Membership

    today = today or timezone.localdate()
    now = timezone.now()
    soon = today + timedelta(days=rules_for("cpc").expiring_days)
    rows = []
    for org in Organization.objects.filter(dissolved_on__isnull=True, term_ends_on__lte=soon).only(
        "pk", "term_ends_on"
    ):
        kind = ReminderKind.TERM_EXPIRED if org.term_ends_on < today else ReminderKind.TERM_DUE
        rows.append(Reminder(organization=org, kind=kind, due_on=org.term_ends_on, refreshed_at=now))
    flagged: Counter = Counter()
    since: dict[int, object] = {}
    members = Membership.objects.filter(until__isnull=True, organization__isnull=False).only(
        "pk", "organization_id", "floating", "since", "last_contact_on", "certificate_until"
    )
    for m in members.iterator(chunk_size=5000):
        flags = membership_flags(
            MemberDates(str(m.pk), m.floating, m.since, m.last_contact_on, m.certificate_until), today=today
        )
        if flags:
            flagged[m.organization_id] += 1
            first = min(f.since for f in flags)
            since[m.organization_id] = min(first, since.get(m.organization_id, first))
    for org_id, n in flagged.items():
        rows.append(
            Reminder(
                organization_id=org_id,
                kind=ReminderKind.MEMBERS_FLAGGED,
                due_on=since[org_id],
                count=n,
                refreshed_at=now,
            )
        )
    with transaction.atomic():
        Reminder.objects.all().delete()
        Reminder.objects.bulk_create(rows, batch_size=2000)
    return {k: sum(1 for r in rows if r.kind == k) for k in ReminderKind.values}


def reminders_for(*, scope, limit: int = 20):
    """The reminders of organizations the scope may see, most urgent first."""
    from .selectors import organization_q

    return (
        Reminder.objects.filter(organization__in=Organization.objects.filter(organization_q(scope)))
        .select_related("organization")
        .order_by("due_on", "organization__name")[:limit]
    )
