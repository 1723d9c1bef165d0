"""Counts shown outside a user's scope suppress values below 5 (issue 10, "what must be true" 10)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from xinye.accounts.models import Role
from xinye.accounts.scope import scope_for
from xinye.common.disclosure import round_total, suppress_small, suppress_table
from xinye.demands import liaison
from xinye.people.models import Membership


def test_small_values_are_suppressed_only_outside_the_scope():
    assert [suppress_small(n, in_scope=False) for n in (0, 1, 4, 5, 120)] == [0, "<5", "<5", 5, 120]
    assert [suppress_small(n, in_scope=True) for n in (0, 1, 4, 5)] == [0, 1, 4, 5]
    assert suppress_small(2, in_scope=False, threshold=3) == "<3"


def test_one_suppressed_cell_of_a_table_with_a_total_takes_a_second_one_with_it():
    shown = suppress_table({"far": 3, "full": 40, "no_cell": 12}, in_scope=False)
    assert shown["far"] == "<5" and shown["no_cell"] == "≥5" and shown["full"] == 40
    assert suppress_table({"a": 1, "b": 2, "c": 9}, in_scope=False) == {"a": "<5", "b": "<5", "c": 9}
    assert suppress_table({"a": 1, "b": 9}, in_scope=True) == {"a": 1, "b": 9}


def test_a_total_with_a_hidden_part_is_rounded():
    assert round_total(123, in_scope=False, part_hidden=True) == "≈125"
    assert round_total(123, in_scope=False, part_hidden=False) == 123
    assert round_total(3, in_scope=False, part_hidden=True) == "<5"
    assert round_total(123, in_scope=True, part_hidden=True) == 123


@pytest.fixture
def tiny_branch(db):
    """The demo member's branch, down to 3 current members (the member among them)."""
    branch = Role.objects.get(user__username="member").organization
    keep = Membership.objects.filter(organization=branch, until__isnull=True).order_by("-person__user__username", "pk")
    member_person = Membership.objects.get(person__user__username="member", until__isnull=True)
    ids = [member_person.pk] + [m.pk for m in keep if m.pk != member_person.pk][:2]
    Membership.objects.filter(organization=branch, until__isnull=True).exclude(pk__in=ids).update(
        until=timezone.localdate()
    )
    return branch


@pytest.mark.django_db
def test_a_member_sees_their_small_branch_counted_as_fewer_than_5(login, tiny_branch):
    client = login("member")
    html = client.get("/organizations/").content.decode()
    assert f'href="/organizations/{tiny_branch.pk}/"' in html and "&lt;5" in html
    [row] = [o for o in client.get("/api/organizations/").json()["results"] if o["id"] == tiny_branch.pk]
    assert row["member_count"] == "<5"


@pytest.mark.django_db
def test_the_branch_secretary_and_the_organizer_see_the_exact_count(login, tiny_branch, client):
    for user in ("secretary", "organizer"):
        client = login(user)
        [row] = [o for o in client.get(f"/api/organizations/?q={tiny_branch.name}").json()["results"]]
        assert row["member_count"] == 3, user


@pytest.mark.django_db
def test_workers_of_a_branch_area_are_counted_with_suppression_for_its_secretary(login, monkeypatch):
    own = Role.objects.get(user__username="secretary").organization
    area = liaison.area_for_organization(own)
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.filter(username__in=["secretary", "organizer"])}
    assert not liaison.area_in_scope(scope_for(users["secretary"]), area)
    assert liaison.area_in_scope(scope_for(users["organizer"]), area)
    small = {
        "members": 4,
        "members_without_location": 0,
        "workers": 42,
        "pairs": 40,
        "without_liaison": 2,
        "paired_elsewhere": 3,
        "workers_without_cell": 1,
    }
    monkeypatch.setattr(liaison, "area_counts", lambda _area: dict(small))
    page = login("secretary").get(f"/liaison/organization/{own.pk}/")
    counts = page.context["counts"]
    assert counts["without_liaison"] == "<5" and counts["workers"] == "≈40" and counts["pairs"] == 40
    assert counts["paired_elsewhere"] == "<5" and counts["workers_without_cell"] == "<5"
    assert counts["members"] == 4  # members and their pairs are the secretary's own
    page = login("organizer").get(f"/liaison/organization/{own.pk}/")
    assert page.context["counts"] == small


@pytest.mark.django_db
def test_an_assignment_result_hides_small_counts_of_unseen_workers_from_the_secretary(login):
    from xinye.common.models import Job

    own = Role.objects.get(user__username="secretary").organization
    result = {
        "area": {"organization_id": own.pk},
        "on": "2026-01-01",
        "max_km": 5.0,
        "members": 4,
        "members_without_location": 0,
        "workers": 43,
        "paired_elsewhere": 0,
        "pairs": 40,
        "kept": 0,
        "new": 40,
        "ended": 0,
        "new_ids": [],
        "ended_ids": [],
        "unassigned": {"far": [1, 2], "full": [3]},
        "unassigned_count": 3,
        "load_histogram": {"10": 4},
        "members_below_min": 0,
        "mean_distance_m": 800.0,
        "same_occupation": 30,
    }
    job = Job.objects.create(
        kind="liaison_assign", status=Job.Status.DONE, params={"organization_id": own.pk, "result": result}
    )
    page = login("secretary").get(f"/liaison/runs/{job.pk}/")
    assert page.status_code == 200
    shown = page.context["result"]
    assert shown["unassigned_count"] == "<5" and shown["workers"] == "≈45" and shown["new"] == 40
    assert [g["count"] for g in page.context["unassigned"]] == ["<5", "<5"]
    page = login("organizer").get(f"/liaison/runs/{job.pk}/")
    assert page.context["result"]["unassigned_count"] == 3 and page.context["result"]["workers"] == 43
