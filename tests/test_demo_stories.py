"""The demo tells its stories (issue 16, item 9 and defects 11-12): every role lands on a page with something
to do, liaison pairs with contacts, reports waiting, demands in every state, a past to view "as of", station
coverage with gaps, and names that look like real places and stations."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from xinye.accounts.scope import scope_for
from xinye.demands.models import OPEN_STATUSES, Contact, Demand, DemandStatus, LiaisonPair
from xinye.organizations.models import BusinessUnit, BusinessVersion, Organization
from xinye.organizations.selectors import organization_tree
from xinye.people.models import CommunityReport, Membership, ReportStatus
from xinye.stations import coverage
from xinye.stations.models import Station

from .conftest import DEMO_CITY

pytestmark = pytest.mark.django_db
ROLES = ("admin", "organizer", "district", "staff", "secretary", "member", "operator")


def _user(username):
    return get_user_model().objects.get(username=username)


@pytest.mark.parametrize("username", ROLES)
def test_every_demo_role_lands_on_a_page_with_something_to_do(demo, login, username):
    page = login(username).get(reverse("dashboard"))
    assert page.status_code == 200
    todos = {t["key"]: t["count"] for t in page.context["todos"]}
    assert any(todos.values()), todos
    assert 'data-todo="' in page.content.decode()
    expected = {
        "admin": ["reports_pending", "demands_open"],
        "organizer": ["reports_pending", "demands_open", "demands_overdue"],
        "district": ["reports_pending"],
        "staff": ["demands_open"],
        "secretary": ["demands_open", "members_contacts"],
        "member": ["my_workers", "not_contacted"],
        "operator": ["stations"],
    }[username]
    for key in expected:
        assert todos.get(key, 0) > 0, (username, key, todos)


def test_the_member_keeps_in_touch_with_workers_and_has_logged_contacts(demo, login):
    client = login("member")
    landing = client.get(reverse("dashboard")).content.decode()
    rows = client.get(reverse("liaison_mine")).context["rows"]
    # the landing page names the workers to contact first, each a link to record a contact
    for r in rows[:3]:
        assert reverse("contact_new", args=[r["worker"].pk]) in landing
    assert len(rows) >= 3
    assert any(r["last_on"] is not None for r in rows)
    person = _user("member").person
    assert Contact.objects.filter(member=person).exists()


def test_the_secretary_sees_the_branch_contact_rates_and_its_demands(demo, login):
    top = _user("secretary").roles.get().organization
    page = login("secretary").get(reverse("liaison_branch", args=[top.pk]))
    total = page.context["total"]
    assert total["workers"] > 0 and total["c90"] > 0 and 0 < total["rate"] < 1
    queue = login("secretary").get(reverse("demand_queue"))
    assert queue.status_code == 200 and len(queue.context["rows"]) > 0


def test_liaison_pairs_started_weeks_ago_and_contacts_are_in_the_past(demo):
    today = timezone.localdate()
    pairs = LiaisonPair.objects.filter(until__isnull=True)
    assert pairs.count() > 500
    assert not pairs.filter(since__gte=today - timedelta(weeks=4)).exists()
    contacts = Contact.objects.all()
    assert contacts.count() > pairs.count()
    assert not contacts.filter(on__gt=today).exists()
    # some follow-ups are overdue, some still ahead
    assert contacts.filter(follow_up_on__lt=today).exists() and contacts.filter(follow_up_on__gte=today).exists()
    # every contact is between a member and one of their workers
    pair_keys = set(LiaisonPair.objects.values_list("member_id", "worker_id"))
    assert set(contacts.values_list("member_id", "worker_id")) <= pair_keys


def test_demands_are_in_every_state(demo):
    now = timezone.now()
    statuses = set(Demand.objects.values_list("status", flat=True))
    assert statuses == set(DemandStatus.values)
    assert Demand.objects.filter(rating__isnull=False).exists()
    assert Demand.objects.filter(escalation_level__gt=0).exists()
    assert Demand.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now).exists()  # overdue right now
    collective = Demand.objects.filter(collective=True)
    assert collective.exists() and all(c.merged.count() >= 2 for c in collective)
    assert not Demand.objects.filter(
        status=DemandStatus.REJECTED, events__to_status="rejected", events__note=""
    ).exists()


def test_reports_to_communities_wait_for_the_organizer(demo, login):
    assert CommunityReport.objects.filter(status=ReportStatus.PENDING).count() >= 5
    assert CommunityReport.objects.filter(status=ReportStatus.CONFIRMED).exists()
    assert CommunityReport.objects.filter(status=ReportStatus.REJECTED).exists()
    page = login("district").get(reverse("report_list"))
    assert page.status_code == 200
    district = scope_for(_user("district")).division_prefixes[0]
    assert CommunityReport.objects.filter(status=ReportStatus.PENDING, community__code__startswith=district).exists()


def test_some_stations_are_due_for_a_check(demo):
    today = timezone.localdate()
    assert Station.objects.filter(verified_on__lt=today - timedelta(days=365)).exists()
    assert Station.objects.filter(verified_on__gte=today - timedelta(days=365)).count() > Station.objects.count() / 2


def test_station_coverage_leaves_real_gaps(demo):
    report = coverage.coverage_report(division_code=DEMO_CITY)
    assert 0.5 < report["share"] < 0.9, report["share"]
    # the gaps are clusters of workers, not a scatter of single cells
    assert report["uncovered_cells"][0][1] >= 10
    assert demo.summary["imperfections"]["station_gaps"]


def test_the_tree_as_of_a_past_date_differs_from_today(demo, login):
    scope = scope_for(_user("admin"))
    today = timezone.localdate()

    def names(tree):
        out = set()
        stack = list(tree)
        while stack:
            node = stack.pop()
            out.add(node["org"].name)
            stack += node["children"]
        return out

    now, past = (
        names(organization_tree(scope=scope)),
        names(organization_tree(scope=scope, as_of=today - timedelta(days=400))),
    )
    assert past and now != past
    story = demo.summary["stories"]["organizations"]
    assert story["renamed"]["from"] in past and story["renamed"]["to"] in now
    assert story["dissolved"]["name"] in past and story["dissolved"]["name"] not in now
    page = login("admin").get(reverse("organization_index"), {"as_of": (today - timedelta(days=400)).isoformat()})
    assert story["renamed"]["from"] in page.content.decode()


def test_business_architecture_has_versions_in_the_past(demo):
    today = timezone.localdate()
    second = BusinessVersion.objects.filter(number=2)
    assert second.exists() and all(v.effective_on < today and v.summary for v in second)
    assert not BusinessVersion.objects.filter(effective_on__gte=today).exists()
    merged = BusinessUnit.objects.filter(merged_into__isnull=False)
    assert merged.exists() and all(u.valid_until < today for u in merged)
    assert BusinessUnit.objects.filter(since_version=2, valid_from__lt=today).exists()


def _division_names():
    data = Path(settings.DIVISION_DATA_DIR)

    def rows(name):
        with open(data / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    provinces = {r["code"]: r["name"].strip() for r in rows("provinces.csv")}
    places: dict[str, set[str]] = {p: set() for p in provinces.values()}  # province -> its cities and counties
    for r in rows("cities.csv"):
        places[provinces[r["provinceCode"]]].add(r["name"].strip())
    for r in rows("areas.csv"):
        places[provinces[r["provinceCode"]]].add(r["name"].strip())
    return places


def test_names_look_like_real_places_and_stations(demo):
    assert not [n for n in Station.objects.values_list("name", flat=True) if re.search(r"驿站\d+|\d", n)]
    assert Station.objects.filter(name__endswith="骑手之家").exists()
    assert Station.objects.filter(name__endswith="户外劳动者服务站").exists()
    assert Station.objects.filter(name__endswith="暖心驿站").exists()
    # every station has a street address a rider can follow (issue 16, item 4)
    addresses = list(Station.objects.values_list("address", flat=True))
    assert all(re.search(r"(路|大道)\d+号", a) for a in addresses), [a for a in addresses if not a][:3]
    places = _division_names()
    names = list(Organization.objects.values_list("name", flat=True))
    names += list(Membership.objects.exclude(home_organization="").values_list("home_organization", flat=True))
    wrong = []
    for name in names:
        for province, own in places.items():
            if province not in name:
                continue
            after = name[name.index(province) + len(province) :]
            # the next place named is one of the province's own cities or counties
            if not any(after.startswith(p) for p in own if p not in ("市辖区", "县")):
                wrong.append(name)
    assert not wrong, wrong[:5]


def test_a_province_followed_by_another_provinces_city_is_caught():
    # the check above, on the name the old demo made
    places = _division_names()
    after = "河北省台北杨家村党支部".removeprefix("河北省")
    assert not any(after.startswith(p) for p in places["河北省"] if p not in ("市辖区", "县"))


def test_the_demo_resets_although_some_units_were_merged_into_others(demo):
    from xinye.demo import services

    assert BusinessUnit.objects.filter(merged_into__isnull=False).exists()
    services.demo_reset()
    assert not BusinessUnit.objects.exists() and not Organization.objects.exists()
    assert not CommunityReport.objects.exists() and not Contact.objects.exists()


def test_volunteering_has_posts_teams_and_past_and_future_activities(demo, login):
    """Issue 14, item 8: the demo city has posts, teams, past and future activities with check-ins and hours."""
    from django.utils import timezone

    from xinye.volunteering.models import Activity, Attendance, Shift, Signup, Team, VanguardPost

    assert Team.objects.count() >= 2 and VanguardPost.objects.filter(kind="vanguard").exists()
    assert VanguardPost.objects.filter(kind="model", team__isnull=False).exists()
    now = timezone.now()
    assert Shift.objects.filter(ends_at__lt=now).exists() and Shift.objects.filter(starts_at__gt=now).exists()
    counted = Attendance.objects.filter(counted=True)
    assert counted.exists() and all(a.minutes > 0 for a in counted)
    assert Attendance.objects.filter(checked_out_at__isnull=True, counted=False).exists()  # in, never out
    assert Attendance.objects.filter(check_in_method="manual").exclude(check_in_reason="").exists()
    assert Signup.objects.filter(status="waitlisted").exists()
    assert Activity.objects.values("kind").distinct().count() >= 3
    # the member sees their team and shifts on a phone-sized page
    page = login("member").get("/volunteering/")
    assert page.status_code == 200
    assert any(t.name in page.content.decode() for t in Team.objects.all())


def test_volunteering_has_approved_hours_points_and_redemptions_on_every_page(demo, login):
    """Issue 14, item 8: after `make demo` every volunteering page shows something: reviewed hours (approved and
    one declined with a reason), hours still waiting, points earned and some redeemed at the operator's station."""
    from django.db.models import Sum

    from xinye.volunteering import hours
    from xinye.volunteering.models import HoursRecord, PointsEntry

    assert HoursRecord.objects.filter(status="approved", kind="recorded", reviewed_by__username="operator").exists()
    assert HoursRecord.objects.filter(status="declined").exclude(review_note="").exists()
    assert HoursRecord.objects.filter(status="pending", kind="recorded").exists()
    assert HoursRecord.objects.filter(status="pending", kind="awarded").exclude(reason="").exists()
    redeemed = PointsEntry.objects.filter(kind="redeem", created_by__username="operator", station__isnull=False)
    assert PointsEntry.objects.filter(kind="earn").exists() and redeemed.count() >= 1
    for person_id in PointsEntry.objects.values_list("person_id", flat=True).distinct():
        total = PointsEntry.objects.filter(person_id=person_id).aggregate(s=Sum("points"))["s"]
        assert hours.points_balance(person_id) == total > 0  # the balance is the ledger's sum, some left
    member = login("member")
    mine = member.get("/volunteering/my-hours/")
    assert mine.status_code == 200 and any(r.status == "approved" for r in mine.context["page"].object_list)
    points = member.get("/volunteering/my-points/")
    assert points.context["balance"] > 0 and any(e.kind == "redeem" for e in points.context["ledger"])
    certificate = member.get("/volunteering/my-hours/certificate/").content.decode()
    assert "午高峰交通安全劝导" in certificate
    operator = login("operator")
    page = operator.get("/volunteering/redeem/")
    assert page.status_code == 200 and len(page.context["recent"]) >= 1
    assert operator.get("/volunteering/hours/review/").context["page"].paginator.count >= 1
    secretary = login("secretary")
    assert secretary.get("/volunteering/hours/review/").context["page"].paginator.count >= 1
