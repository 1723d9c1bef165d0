"""Liaisons on the database: the assignment job on a demo district, contacts, a member's page, a branch's
contact rates, and who may see what. Issue #6, items 1 and 2."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone

from xinye.accounts.models import Role
from xinye.algorithms.geo import h3_cell
from xinye.common.models import Job
from xinye.demands import liaison
from xinye.demands.models import Contact, LiaisonPair, LiaisonQuota
from xinye.organizations.models import AnchorKind, Organization, OrgKind
from xinye.people.models import WORK_CELL_RESOLUTION, Membership, Person
from xinye.places.models import Division

pytestmark = pytest.mark.django_db

DISTRICT = "440306"


@pytest.fixture(autouse=True)
def inline_jobs(settings):
    settings.XINYE_JOBS_INLINE = True


@pytest.fixture(autouse=True)
def no_demo_liaisons():
    """These tests follow runs from the start: the demo's own pairs and contacts (issue 16) are set aside."""
    Contact.objects.all().delete()
    LiaisonPair.objects.all().delete()
    LiaisonPair.history.all().delete()


def _open_pairs(area):
    members = Membership.objects.filter(until__isnull=True, organization_id__in=area.organizations)
    return LiaisonPair.objects.filter(until__isnull=True, member__in=members.values("person_id"))


def _run(client, code=DISTRICT):
    response = client.post(f"/liaison/division/{code}/run/", {"max_km": "5"}, follow=True)
    assert response.status_code == 200, response.content[:500]
    return response.context["result"]


def _person(name: str, community: Division, *, phone: str = "13812345678", occupation: str = "courier") -> Person:
    return Person.objects.create(
        name=name,
        phone=phone,
        occupation=occupation,
        work_community=community,
        work_cell=h3_cell(community.lat, community.lon, WORK_CELL_RESOLUTION),
    )


def _community(prefix: str = DISTRICT) -> Division:
    return Division.objects.filter(level="community", code__startswith=prefix, lat__isnull=False).order_by("code")[0]


def _my_person(username: str) -> Person:
    return Person.objects.get(user__username=username)


# ----------------------------------------------------------------------------------------------- the job


def test_assignment_job_on_a_district_is_stable_and_moves_only_what_changed(login):
    client = login("organizer")
    page = client.get(f"/liaison/division/{DISTRICT}/")
    assert page.status_code == 200
    counts = page.context["counts"]
    assert counts["members"] > 5 and counts["workers"] > 500 and counts["pairs"] == 0
    area = page.context["area"]

    first = _run(client)
    pairs = list(_open_pairs(area))
    assert first["new"] == len(pairs) > 0 and first["kept"] == 0 and first["ended"] == 0
    assert first["pairs"] + first["unassigned_count"] == first["workers"]
    assert set(first["unassigned"]) <= {liaison.REASON_FAR, liaison.REASON_FULL}
    assert sum(int(k) * v for k, v in first["load_histogram"].items()) == len(pairs)
    # within the quota (default 5 to 10), one liaison per worker, every pair begins today
    load = Counter(p.member_id for p in pairs)
    assert max(load.values()) <= liaison.DEFAULT_MAX_LOAD
    assert len({p.worker_id for p in pairs}) == len(pairs)
    assert {p.since for p in pairs} == {timezone.localdate()}
    assert LiaisonPair.history.filter(history_type="+").count() >= len(pairs)
    assert LiaisonPair.history.first().history_user.username == "organizer"

    # a second run with nothing changed changes nothing
    second = _run(client)
    assert (second["kept"], second["new"], second["ended"]) == (len(pairs), 0, 0)
    assert sorted(p.pk for p in _open_pairs(area)) == sorted(p.pk for p in pairs)
    assert LiaisonPair.history.count() == len(pairs)  # no row was saved again

    # a worker who now works far away loses (only) their liaison
    moved = pairs[0]
    far = Person.objects.get(pk=moved.worker_id)
    far.work_cell = h3_cell(far.work_community.lat + 0.5, far.work_community.lon + 0.5, WORK_CELL_RESOLUTION)
    far.save()
    third = _run(client)
    assert third["ended"] == 1 and third["ended_ids"] == [moved.pk]
    moved.refresh_from_db()
    assert moved.until == timezone.localdate()
    assert far.pk in third["unassigned"][liaison.REASON_FAR]
    still = {p.pk for p in _open_pairs(area)}
    assert {p.pk for p in pairs[1:]} <= still  # everyone else keeps their liaison
    assert third["kept"] == len(pairs) - 1

    # the result page lists the numbers and the workers left without a liaison
    page = client.get(f"/liaison/runs/{Job.objects.filter(kind='liaison_assign').first().pk}/")
    assert page.status_code == 200 and page.context["histogram"]
    assert page.context["ended_pairs"][0].pk == moved.pk
    far_group = next(g for g in page.context["unassigned"] if g["code"] == liaison.REASON_FAR)
    assert far.pk in [w.pk for w in far_group["workers"]] and 'data-reason="far"' in page.content.decode()


def test_a_branch_quota_limits_its_members(login):
    client = login("organizer")
    area = liaison.area_for_division(Division.objects.get(code=DISTRICT))
    org = Organization.objects.get(pk=liaison.quota_rows(area)[0]["organization"].pk)
    response = client.post(
        f"/liaison/quota/{org.pk}/", {"min_load": "1", "max_load": "2", "next": f"/liaison/division/{DISTRICT}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/liaison/division/{DISTRICT}/"
    assert (
        LiaisonQuota.objects.get(organization=org).min_load,
        LiaisonQuota.objects.get(organization=org).max_load,
    ) == (
        1,
        2,
    )
    client.post(f"/liaison/quota/{org.pk}/", {"min_load": "4", "max_load": "3"})  # refused: min above max
    assert LiaisonQuota.objects.get(organization=org).max_load == 2
    _run(client)
    members = Membership.objects.filter(until__isnull=True, organization=org).values("person_id")
    load = Counter(LiaisonPair.objects.filter(until__isnull=True, member__in=members).values_list("member", flat=True))
    assert load and max(load.values()) <= 2


def test_workers_of_members_outside_the_run_are_left_alone(login):
    """A worker whose liaison belongs to another branch keeps it; a pair whose member left is ended."""
    community = _community()
    other_branch = Organization.objects.create(
        name="别处支部", kind=OrgKind.BRANCH, anchor_kind=AnchorKind.COMMUNITY, community=_community("440303")
    )
    outsider, gone, worker1, worker2, nowhere = (
        _person(n, community) for n in ("外人", "已离开", "工人一", "工人二", "无网格")
    )
    Person.objects.filter(pk=nowhere.pk).update(work_cell=None)
    Membership.objects.create(person=outsider, organization=other_branch, status="formal", since=date(2020, 1, 1))
    Membership.objects.create(
        person=gone, organization=other_branch, status="formal", since=date(2020, 1, 1), until=date(2024, 1, 1)
    )
    kept = LiaisonPair.objects.create(member=outsider, worker=worker1, since=date(2024, 1, 1))
    stale = LiaisonPair.objects.create(member=gone, worker=worker2, since=date(2024, 1, 1))
    result = _run(login("organizer"))
    kept.refresh_from_db()
    stale.refresh_from_db()
    assert kept.until is None and stale.until == timezone.localdate()
    assert stale.pk in result["ended_ids"] and result["paired_elsewhere"] == 1
    assert result["unassigned"][liaison.REASON_NO_CELL] == [nowhere.pk]


def test_a_run_is_refused_when_the_pairs_changed_meanwhile(monkeypatch):
    area = liaison.area_for_division(Division.objects.get(code=DISTRICT))
    liaison.liaison_assign_run(area=area)
    before = sorted(LiaisonPair.objects.values_list("pk", "until"))
    real = liaison.algorithm.assign

    def meanwhile(*args, **kwargs):
        LiaisonPair.objects.filter(pk=before[0][0]).update(until=date(2024, 1, 1))  # someone ends a pair
        return real(*args, **kwargs)

    monkeypatch.setattr(liaison.algorithm, "assign", meanwhile)
    with pytest.raises(liaison.LiaisonError):
        liaison.liaison_assign_run(area=area)
    assert LiaisonPair.objects.count() == len(before)


# ----------------------------------------------------------------------------------------------- contacts


@pytest.fixture
def my_workers():
    """Three workers of the demo user "member": one with a follow-up soon, one overdue, one never contacted."""
    me = _my_person("member")
    community = _community()
    today = timezone.localdate()
    soon, overdue, never = (
        _person("甲", community, phone="13900001111"),
        _person("乙", community),
        _person("丙", community),
    )
    for w in (soon, overdue, never):
        LiaisonPair.objects.create(member=me, worker=w, since=today - timedelta(days=60))
    Contact.objects.create(
        member=me, worker=soon, on=today - timedelta(days=3), channel="phone", follow_up_on=today + timedelta(days=5)
    )
    Contact.objects.create(
        member=me,
        worker=overdue,
        on=today - timedelta(days=40),
        channel="phone",
        follow_up_on=today - timedelta(days=10),
    )
    return {"me": me, "soon": soon, "overdue": overdue, "never": never}


def test_member_page_lists_overdue_follow_ups_first_with_masked_phones(login, my_workers):
    page = login("member").get("/liaison/mine/")
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r["worker"].pk for r in rows] == [my_workers[k].pk for k in ("overdue", "soon", "never")]
    assert [r["overdue"] for r in rows] == [True, False, False]
    assert rows[1]["phone"] == "139****1111"
    html = page.content.decode()
    assert "13900001111" not in html and f"/demands/new/?worker={my_workers['soon'].pk}" in html


def test_contact_form_records_a_contact_and_explains_errors(login, my_workers):
    client = login("member")
    worker = my_workers["never"]
    today = timezone.localdate()
    page = client.get(f"/liaison/mine/{worker.pk}/")
    assert page.status_code == 200 and page.context["form"].initial["on"] == today

    bad = client.post(
        f"/liaison/mine/{worker.pk}/",
        {
            "on": today.isoformat(),
            "channel": "phone",
            "note": "",
            "follow_up_on": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert bad.status_code == 400 and "follow_up_on" in bad.context["form"].errors
    future = client.post(
        f"/liaison/mine/{worker.pk}/", {"on": (today + timedelta(days=1)).isoformat(), "channel": "phone"}
    )
    assert future.status_code == 400 and "on" in future.context["form"].errors
    long_note = client.post(
        f"/liaison/mine/{worker.pk}/", {"on": today.isoformat(), "channel": "phone", "note": "x" * 501}
    )
    assert long_note.status_code == 400 and "note" in long_note.context["form"].errors
    assert not Contact.objects.filter(worker=worker).exists()

    ok = client.post(
        f"/liaison/mine/{worker.pk}/",
        {
            "on": today.isoformat(),
            "channel": "in_person",
            "note": "送了防暑包",
            "follow_up_on": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert ok.status_code == 302 and ok["Location"] == "/liaison/mine/"
    contact = Contact.objects.get(worker=worker)
    assert (contact.member, contact.note, contact.created_by.username) == (my_workers["me"], "送了防暑包", "member")
    rows = client.get("/liaison/mine/").context["rows"]
    assert next(r for r in rows if r["worker"].pk == worker.pk)["next_on"] == today + timedelta(days=7)


def test_branch_contact_rates(login):
    """A hand-made branch under the secretary's: two members, three workers, contacts on known dates."""
    branch = Role.objects.get(user__username="secretary").organization
    small = Organization.objects.create(
        name="测试小组", kind=OrgKind.BRANCH, anchor_kind=AnchorKind.COMMUNITY, parent=branch, community=_community()
    )
    community = _community()
    a, b = _person("党员甲", community), _person("党员乙", community)
    for m in (a, b):
        Membership.objects.create(person=m, organization=small, status="formal", since=date(2020, 1, 1))
    w1, w2, w3, w4 = (_person(f"工人{i}", community) for i in range(4))
    today = timezone.localdate()
    for w in (w1, w2, w3):
        LiaisonPair.objects.create(member=a, worker=w, since=date(2024, 1, 1))
    LiaisonPair.objects.create(member=b, worker=w4, since=date(2024, 1, 1), until=date(2024, 6, 1))  # ended

    def contact(member, worker, days_ago, follow=None):
        Contact.objects.create(
            member=member,
            worker=worker,
            on=today - timedelta(days=days_ago),
            channel="phone",
            follow_up_on=None if follow is None else today + timedelta(days=follow),
        )

    contact(a, w1, 5)
    contact(a, w1, 20)  # two contacts with w1 in 30 days: counts twice, w1 once in the rate
    contact(a, w2, 60, follow=-3)  # in 90 days only; its follow-up is overdue
    contact(a, w3, 120)  # too old to count
    contact(b, w4, 10)  # a contact with a worker no longer theirs still counts as a contact
    page = login("secretary").get(f"/liaison/branch/{small.pk}/")
    assert page.status_code == 200
    rows = {r["member"].pk: r for r in page.context["rows"]}
    ra, rb = rows[a.pk], rows[b.pk]
    assert (ra["workers"], ra["c30"], ra["c90"], ra["overdue"]) == (3, 2, 3, 1)
    assert ra["rate"] == pytest.approx(1 / 3)
    assert (rb["workers"], rb["c30"], rb["c90"], rb["overdue"], rb["rate"]) == (0, 1, 1, 0, None)
    total = page.context["total"]
    assert (total["members"], total["workers"], total["overdue"]) == (2, 3, 1)
    assert total["rate"] == pytest.approx(1 / 3)
    assert "33.3%" in page.content.decode()


# ----------------------------------------------------------------------------------------------- scope


def test_a_member_sees_only_their_own_workers(login, my_workers):
    secretary = _my_person("secretary")
    theirs = _person("别人的工人", _community())
    LiaisonPair.objects.create(member=secretary, worker=theirs, since=date(2024, 1, 1))
    client = login("member")
    assert client.get(f"/liaison/mine/{theirs.pk}/").status_code == 404
    assert client.post(f"/liaison/mine/{theirs.pk}/", {"on": "2024-05-01", "channel": "phone"}).status_code == 404
    assert not Contact.objects.filter(worker=theirs).exists()
    assert theirs.pk not in [r["worker"].pk for r in client.get("/liaison/mine/").context["rows"]]
    # a member runs no assignment and sees no branch's rates
    branch = Role.objects.get(user__username="member").organization
    assert client.get(f"/liaison/branch/{branch.pk}/").status_code == 404
    assert client.get(f"/liaison/division/{DISTRICT}/").status_code == 404
    assert client.post(f"/liaison/division/{DISTRICT}/run/").status_code == 404
    assert client.get("/liaison/").status_code == 302


def test_secretaries_and_organizers_see_only_what_they_oversee(login):
    own = Role.objects.get(user__username="secretary").organization
    other = Organization.objects.filter(kind=OrgKind.BRANCH).exclude(pk=own.pk).exclude(parent=own).first()
    secretary = login("secretary")
    index = secretary.get("/liaison/")
    assert index.status_code == 200 and [o.pk for o in index.context["organizations"]] == [own.pk]
    assert secretary.get(f"/liaison/branch/{own.pk}/").status_code == 200
    assert secretary.get(f"/liaison/organization/{own.pk}/").status_code == 200
    assert secretary.get(f"/liaison/branch/{other.pk}/").status_code == 404
    assert secretary.get(f"/liaison/organization/{other.pk}/").status_code == 404
    assert secretary.post(f"/liaison/quota/{other.pk}/", {"min_load": 1, "max_load": 2}).status_code == 404
    assert not LiaisonQuota.objects.filter(organization=other).exists()
    assert secretary.get(f"/liaison/division/{DISTRICT}/").status_code == 404

    district = Role.objects.get(user__username="district").division
    organizer = login("district")
    assert [d.code for d in organizer.get("/liaison/").context["divisions"]] == [district.code]
    assert organizer.get(f"/liaison/division/{district.code}/").status_code == 200
    assert organizer.get(f"/liaison/division/{DISTRICT}/").status_code == 404
    # the result of a run is shown only to those who oversee its area
    result = _run(login("organizer"))
    assert result["area"] == {"division_code": DISTRICT}
    job = Job.objects.filter(kind="liaison_assign").first()
    assert login("district").get(f"/liaison/runs/{job.pk}/").status_code == 404
    assert login("admin").get(f"/liaison/runs/{job.pk}/").status_code == 200


def test_a_secretary_runs_the_assignment_for_their_branch(login):
    own = Role.objects.get(user__username="secretary").organization
    client = login("secretary")
    response = client.post(f"/liaison/organization/{own.pk}/run/", {"max_km": "3"}, follow=True)
    assert response.status_code == 200
    result = response.context["result"]
    assert result["area"] == {"organization_id": own.pk} and result["max_km"] == 3.0
    assert result["new"] > 0
    members = Membership.objects.filter(until__isnull=True, organization=own).values("person_id")
    assert LiaisonPair.objects.filter(until__isnull=True, member__in=members).count() == result["new"]
    assert client.get("/liaison/mine/").status_code == 200
