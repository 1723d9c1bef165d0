"""The members page narrows to members who may have a flag in SQL, then decides each flag exactly: the list is
the same as deciding every member in Python, month ends included."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from xinye.accounts.scope import scope_for
from xinye.algorithms.membership import MemberDates, membership_flags
from xinye.people.models import Membership, Person
from xinye.people.selectors import member_flag_list, membership_list

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("today", [date(2027, 2, 28), date(2028, 2, 29), date(2026, 12, 4), date(2027, 3, 31)])
def test_same_flags_as_deciding_every_member(today):
    scope = scope_for(get_user_model().objects.get(username="admin"))
    start = today - timedelta(days=200)
    for k in range(40):  # dates on both sides of six months before `today`, month ends included
        day = start + timedelta(days=k)
        p = Person.objects.create(name=f"边界{k}", occupation="courier")
        Membership.objects.create(person=p, status="formal", floating=k % 2 == 0, since=day, last_contact_on=day,
                                  certificate_until=today + timedelta(days=k - 10) if k % 3 == 0 else None)  # fmt: skip
    got = {pk: [f.code for f in flags] for pk, flags in member_flag_list(scope=scope, today=today)}
    want = {}
    for pk, fl, since, last, cert in membership_list(scope=scope).values_list(
        "pk", "floating", "since", "last_contact_on", "certificate_until"
    ):
        flags = membership_flags(MemberDates(str(pk), fl, since, last, cert), today=today)
        if flags:
            want[pk] = [f.code for f in flags]
    assert got == want
