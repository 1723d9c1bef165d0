"""Recognition (issue 14, item 6): commendations nominated, approved by the organization, shown on the person's
page (within the viewer's rights) and counted."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from xinye.accounts.models import Role
from xinye.accounts.scope import scope_for
from xinye.people.models import Membership, Person
from xinye.volunteering.recognition import (
    Commendation,
    NotAllowed,
    Refused,
    approved_counts,
    commendation_decide,
    commendation_nominate,
)

pytestmark = pytest.mark.django_db


def _user(name):
    return get_user_model().objects.get(username=name)


def _branch_member():
    branch = Role.objects.get(user__username="secretary").organization
    m = Membership.objects.filter(organization=branch, until__isnull=True).exclude(person__user__isnull=False)
    return branch, m.first().person


def test_nominated_by_the_secretary_approved_by_the_organizer_and_shown_on_the_person_page():
    branch, person = _branch_member()
    secretary, organizer = _user("secretary"), _user("organizer")
    c = commendation_nominate(
        scope=scope_for(secretary), user=secretary, kind="outstanding_member", title="2026年度优秀党员",
        year=2026, organization=branch, reason="风雨无阻，帮助新骑手熟悉片区", person=person,
    )  # fmt: skip
    assert c.status == "nominated"
    # the one who nominated does not decide
    with pytest.raises(NotAllowed):
        commendation_decide(scope=scope_for(secretary), user=secretary, commendation=c, approve=True)
    commendation_decide(scope=scope_for(organizer), user=organizer, commendation=c, approve=True, note="同意")
    c.refresh_from_db()
    assert c.status == "approved" and c.decided_by == organizer
    with pytest.raises(Refused):  # decided once
        commendation_decide(scope=scope_for(organizer), user=organizer, commendation=c, approve=False)
    assert [h.history_change_reason for h in c.history.order_by("history_date")] == ["nominated", "approved"]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(organizer)
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert "2026年度优秀党员" in page and "受表彰" in page
    assert approved_counts(scope=scope_for(organizer), year=2026) == {"outstanding_member": 1}


def test_an_outstanding_member_commendation_is_not_shown_where_party_status_is_hidden():
    branch, person = _branch_member()
    admin = _user("admin")
    c = commendation_nominate(scope=scope_for(admin), user=admin, kind="outstanding_member", title="优秀党员",
                              year=2026, organization=branch, reason="好", person=person)  # fmt: skip
    commendation_decide(scope=scope_for(admin), user=admin, commendation=c, approve=True)
    operator = Client()
    operator.force_login(_user("operator"))
    assert "优秀党员" not in operator.get("/volunteering/commendations/").content.decode()
    # and a worker who is not a member cannot be given one
    worker = Person.objects.filter(memberships__isnull=True).first()
    with pytest.raises(Refused):
        commendation_nominate(scope=scope_for(admin), user=admin, kind="outstanding_member", title="x", year=2026,
                              organization=branch, reason="x", person=worker)  # fmt: skip


def test_nominations_only_within_scope_and_from_the_pages():
    branch, person = _branch_member()
    member = _user("member")
    with pytest.raises(NotAllowed):
        commendation_nominate(scope=scope_for(member), user=member, kind="star_rider", title="x", year=2026,
                              organization=branch, reason="x", person=person)  # fmt: skip
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(_user("secretary"))
    form = client.get(f"/volunteering/commendations/new/?person={person.pk}")
    assert form.status_code == 200 and "提名表彰" in form.content.decode()
    done = client.post(
        "/volunteering/commendations/new/",
        {"person": person.pk, "kind": "star_rider", "title": "星级骑手", "year": "2026", "organization": branch.pk,
         "reason": "<script>alert(1)</script>"},
    )  # fmt: skip
    assert done.status_code == 302
    listing = client.get("/volunteering/commendations/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert(1)" not in listing
    c = Commendation.objects.get(title="星级骑手")
    # the member cannot decide it, even by posting
    other = Client()
    other.force_login(member)
    assert other.post(f"/volunteering/commendations/{c.pk}/decide/", {"decision": "approve"}).status_code == 404
    c.refresh_from_db()
    assert c.status == "nominated"


def test_nominations_wait_on_the_deciders_home_page_not_the_nominators():
    branch, person = _branch_member()
    secretary = _user("secretary")
    commendation_nominate(scope=scope_for(secretary), user=secretary, kind="star_rider", title="星级骑手",
                          year=2026, organization=branch, reason="x", person=person)  # fmt: skip
    from xinye.reports.todos import role_todos

    def waiting(name):
        items = {i["key"]: i for i in role_todos(scope=scope_for(_user(name)))}
        return items["commendations"]["count"] if "commendations" in items else None

    assert waiting("organizer") == 1
    assert waiting("secretary") in (None, 0)
