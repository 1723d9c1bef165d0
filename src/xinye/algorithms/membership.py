"""Rules on floating members and contact, by date. Pure Python.

- A member away from their home organization for `transfer_after_months` (6) or more at a relatively fixed
  place should transfer their membership there.
- A member out of contact for `lost_after_months` (6) or more is flagged "lost contact"; after a further
  `removal_after_months` (24) the organization considers removal.
- A floating member's activity certificate has an end date; one that has ended or ends within 30 days is flagged.

References: Regulations on Party Member Education and Management (2019), art. 24 (transfer after six
months away), art. 33 (members out of contact). See docs/domain.md section 1.

>>> from datetime import date
>>> add_months(date(2026, 8, 31), 6)
datetime.date(2027, 2, 28)
>>> [f.code for f in membership_flags(MemberDates("m", True, date(2026, 1, 10), date(2026, 11, 1), None),
...                                   today=date(2026, 11, 29))]
['transfer_suggested']
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MemberDates:
    id: str
    floating: bool
    since: date | None  # here (in this organization, or in this place for a floating member) since
    last_contact: date | None
    certificate_until: date | None


@dataclass(frozen=True)
class Flag:
    code: str  # transfer_suggested | lost_contact | removal_review | certificate_expired | certificate_expiring
    since: date  # the date from which the flag applies
    severity: str


def membership_flags(
    m: MemberDates,
    *,
    today: date,
    transfer_after_months: int = 6,
    lost_after_months: int = 6,
    removal_after_months: int = 24,
    certificate_warning_days: int = 30,
) -> list[Flag]:
    out = []
    if m.floating and m.since is not None:
        due = add_months(m.since, transfer_after_months)
        if due <= today:
            out.append(Flag("transfer_suggested", due, "warning"))
    if m.last_contact is not None:
        lost = add_months(m.last_contact, lost_after_months)
        if lost <= today:
            removal = add_months(lost, removal_after_months)
            if removal <= today:
                out.append(Flag("removal_review", removal, "error"))
            else:
                out.append(Flag("lost_contact", lost, "error"))
    if m.floating and m.certificate_until is not None:
        if m.certificate_until < today:
            out.append(Flag("certificate_expired", m.certificate_until, "warning"))
        elif (m.certificate_until - today).days <= certificate_warning_days:
            out.append(Flag("certificate_expiring", m.certificate_until, "info"))
    return out
