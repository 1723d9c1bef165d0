"""/members/ scales (issue 16, defect 8): paged and filtered, no list of every branch on every row; a transfer
is requested from its own page."""

from __future__ import annotations

import pytest

from xinye.people.models import Membership, MembershipTransfer

pytestmark = pytest.mark.django_db


def test_the_members_page_is_paged_light_and_filtered(login):
    client = login("organizer")
    page = client.get("/members/")
    html = page.content.decode()
    total = page.context["page"].paginator.count
    assert total > 0 and len(page.context["rows"]) == min(total, 50)
    assert len(page.content) < 300_000, len(page.content)
    assert html.count("<option") < 20  # the flag filter only, not the branches on every row
    lost = client.get("/members/?flag=lost_contact")
    assert all(any(f.code == "lost_contact" for f, _label in flags) for _m, flags in lost.context["rows"])
    if total > 50:
        second = client.get("/members/?page=2")
        assert second.context["page"].number == 2
    name = page.context["rows"][0][0].person.name
    found = client.get("/members/", {"q": name})
    assert found.context["rows"] and all(name in m.person.name for m, _f in found.context["rows"])


def test_a_transfer_is_requested_from_its_own_page(login):
    client = login("organizer")
    rows = client.get("/members/?flag=transfer_suggested").context["page"].paginator.object_list
    floating = next(m for m, _f in rows if m.floating)
    form = client.get(f"/members/{floating.pk}/transfer/new/")
    assert form.status_code == 200
    target = next(b for b in form.context["branches"] if b.pk != floating.organization_id)
    client.post(f"/members/{floating.pk}/transfer/", {"to": target.pk, "reason": "away"})
    assert MembershipTransfer.objects.filter(membership=floating, to_organization=target).exists()
    other = Membership.objects.exclude(pk=floating.pk).first()
    assert login("member").get(f"/members/{other.pk}/transfer/new/").status_code == 404
