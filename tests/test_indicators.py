"""Indicators (issue 15, items 1-2): definitions in both languages, values on a small world counted by hand,
small counts suppressed outside the viewer's area (not inside), monthly snapshots taken twice giving one set of
rows, the difference of differences on hand numbers, the pages in Chinese, and divisions out of reach.

The small world lies in a made-up province 99 (the demo city is Shenzhen, 4403), far from every demo station:

    city 9901, district 990101; street A 990101001 (community A1 990101001001), street B 990101002 (B1 ...002001)
    platforms P1, P2; stations S1 (weekdays 08-18) at the centre of cell c1, S2 (24/7) at the centre of cell c2

    person  street occupation      platforms union  cell  membership                unit
    w1      A      courier         P1        yes    c1    -                         -
    w2      A      courier         P1 P2            c1    -                         -
    w3      A      delivery_rider  P2               far   -                         -
    m1      A      delivery_rider  P1               c1    formal, branch B          U1
    m3      A      courier         -         (later) -    formal, branch B          U1
    m4      A      courier         -                 -    formal, branch B          U1
    w4      B      ride_hailing    P2        yes    c2    -                         -
    w5      B      courier         -                 -    -                         -
    m2      B      courier         P1                -    formal, no branch         U3
    m5      B      truck_driver    P2                -    formal, no branch         U3
    m6      B      truck_driver    -                 -    formal, branch B          U3
    m7      B      truck_driver    -                 -    probationary, branch B    -

    units: U1 (P1, street A; organization B), U3 (P2, street B; none) -> organization coverage 1 of 2
    liaison: m1-w1 and m1-w4 open, m2-w3 ended 100 days ago; contacts: w1 10 days ago, w4 120 days ago
    demands: d1 (A, P1) resolved a day before due, rated 5; d2 (A, P2) overdue; d3 (B, P2, anonymous) resolved
    a day late, rated 2; d4 not due yet; d5 declined
    volunteering: m1 120 minutes and w1 90 minutes counted; w4 60 minutes not counted
    reports: w2 confirmed; one pending
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import count

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone, translation

from tests.test_i18n_pages import english_words, visible_text
from xinye.accounts import policy
from xinye.accounts.models import Role, RoleKind
from xinye.accounts.scope import scope_for
from xinye.algorithms import geo
from xinye.algorithms.diff_in_diff import Ratio, diff_in_diff, rest_of
from xinye.algorithms.errors import InputError
from xinye.reports import indicators as ind
from xinye.reports import selectors, services
from xinye.reports.models import IndicatorSnapshot, Pilot
from xinye.reports.sparkline import sparkline_svg

pytestmark = pytest.mark.django_db

_codes = count(1)


def _division(code, name, level, parent=None):
    from xinye.places.models import Division

    return Division.objects.create(code=code, name=name, level=level, parent=parent)


@pytest.fixture
def world(settings):
    """The small world of the module's docstring; returns its objects by name."""
    from xinye.demands.models import Category, Contact, Demand, DemandEvent, LiaisonPair
    from xinye.organizations.models import AnchorKind, BusinessUnit, Company, CompanyKind, Organization, OrgKind
    from xinye.people.models import CommunityReport, Membership, Person
    from xinye.stations.models import Station, StationKind
    from xinye.volunteering.models import Activity, Attendance, Shift

    settings.XINYE_INDICATOR_CACHE_SECONDS = 0
    now = timezone.now()
    today = timezone.localdate()
    w: dict = {"now": now, "today": today}
    province = _division("99", "试验省", "province")
    city = _division("9901", "试验市", "city", province)
    district = _division("990101", "试验区", "county", city)
    street_a = _division("990101001", "甲街道", "street", district)
    street_b = _division("990101002", "乙街道", "street", district)
    a1 = _division("990101001001", "甲一社区", "community", street_a)
    b1 = _division("990101002001", "乙一社区", "community", street_b)
    w.update(province=province, city=city, district=district, street_a=street_a, street_b=street_b, a1=a1, b1=b1)
    p1 = Company.objects.create(name="试验平台甲", kind=CompanyKind.FOOD_DELIVERY)
    p2 = Company.objects.create(name="试验平台乙", kind=CompanyKind.RIDE_HAILING)
    w.update(p1=p1, p2=p2)

    c1 = geo.h3_cell(30.0, 100.0, 8)
    c2 = geo.h3_cell(30.0, 100.2, 8)
    far = geo.h3_cell(30.3, 100.0, 8)
    for name, cell, hours in (("S1", c1, "Mo-Fr 08:00-18:00"), ("S2", c2, "24/7")):
        lat, lon = geo.h3_center(cell)
        Station.objects.create(
            name=f"试验站{name}", kind=StationKind.UNION, operator_name="试验工会", lat=lat, lon=lon,
            h3_cell=geo.h3_cell(lat, lon, 9), division=a1 if name == "S1" else b1, opening_hours=hours,
        )  # fmt: skip

    def person(name, community, occupation, platforms=(), cell=None, union=""):
        p = Person.objects.create(name=name, occupation=occupation, work_community=community, work_cell=cell,
                                  union_name=union)  # fmt: skip
        p.platforms.set(platforms)
        w[name] = p
        return p

    person("w1", a1, "courier", [p1], c1, union="试验工会")
    person("w2", a1, "courier", [p1, p2], c1)
    person("w3", a1, "delivery_rider", [p2], far)
    person("m1", a1, "delivery_rider", [p1], c1)
    person("m3", a1, "courier")
    person("m4", a1, "courier")
    person("w4", b1, "ride_hailing_driver", [p2], c2, union="试验工会")
    person("w5", b1, "courier")
    person("m2", b1, "courier", [p1])
    person("m5", b1, "truck_driver", [p2])
    person("m6", b1, "truck_driver")
    person("m7", b1, "truck_driver")
    # m3 joins the union next month: not a member yet
    Person.objects.filter(pk=w["m3"].pk).update(union_name="试验工会", union_since=today + dt.timedelta(days=40))

    u1 = BusinessUnit.objects.create(company=p1, key="u1", name="甲站", kind="station", division=street_a)
    u3 = BusinessUnit.objects.create(company=p2, key="u3", name="乙车队", kind="fleet", division=street_b)
    branch = Organization.objects.create(name="试验支部", kind=OrgKind.BRANCH, anchor_kind=AnchorKind.BUSINESS_UNITS,
                                         company=p1, division=street_a)  # fmt: skip
    branch.business_units.set([u1])
    w.update(u1=u1, u3=u3, branch=branch)
    long_ago = dt.date(2020, 1, 1)
    for name, org, status, unit in (
        ("m1", branch, "formal", u1), ("m3", branch, "formal", u1), ("m4", branch, "formal", u1),
        ("m2", None, "formal", u3), ("m5", None, "formal", u3), ("m6", branch, "formal", u3),
        ("m7", branch, "probationary", None),
    ):  # fmt: skip
        Membership.objects.create(person=w[name], organization=org, status=status, since=long_ago)
        if unit is not None:
            Person.objects.filter(pk=w[name].pk).update(business_unit=unit)

    LiaisonPair.objects.create(member=w["m1"], worker=w["w1"], since=today - dt.timedelta(days=200))
    LiaisonPair.objects.create(member=w["m1"], worker=w["w4"], since=today - dt.timedelta(days=200))
    LiaisonPair.objects.create(member=w["m2"], worker=w["w3"], since=today - dt.timedelta(days=300),
                               until=today - dt.timedelta(days=100))  # fmt: skip
    Contact.objects.create(member=w["m1"], worker=w["w1"], on=today - dt.timedelta(days=10), channel="phone")
    Contact.objects.create(member=w["m1"], worker=w["w4"], on=today - dt.timedelta(days=120), channel="phone")

    CommunityReport.objects.create(person=w["w2"], community=a1, status="confirmed", decided_at=now,
                                   tracking_code=f"TI{next(_codes):06d}")  # fmt: skip
    CommunityReport.objects.create(community=a1, tracking_code=f"TI{next(_codes):06d}")  # pending

    category = Category.objects.order_by("pk").first()
    day = dt.timedelta(days=1)

    def demand(community, company, person, due, status, resolved=None, rating=None, **kw):
        d = Demand.objects.create(
            tracking_code=f"TD{next(_codes):06d}", category=category, description="试验", community=community,
            company=company, person=person, due_at=due, status=status, resolved_at=resolved, rating=rating, **kw,
        )  # fmt: skip
        if rating is not None:
            DemandEvent.objects.create(demand=d, kind="rated", at=now - day, note=f"{rating}/5")
        return d

    demand(a1, p1, w["w1"], now - 5 * day, "resolved", resolved=now - 6 * day, rating=5)
    demand(a1, p2, w["w3"], now - 3 * day, "accepted")
    demand(b1, p2, None, now - 2 * day, "resolved", resolved=now - day, rating=2, anonymous=True)
    demand(a1, p1, w["w2"], now + 3 * day, "submitted")
    demand(b1, p1, w["w5"], now - day, "rejected")

    activity = Activity.objects.create(title="试验巡逻", kind="safety_patrol", community=a1, division=a1,
                                       organization=branch)  # fmt: skip
    start = now - 10 * day
    shift = Shift.objects.create(activity=activity, starts_at=start, ends_at=start + dt.timedelta(hours=3), capacity=5)
    for name, minutes, counted in (("m1", 120, True), ("w1", 90, True), ("w4", 60, False)):
        Attendance.objects.create(shift=shift, person=w[name], checked_in_at=start, check_in_method="manual",
                                  checked_out_at=start + dt.timedelta(minutes=minutes), check_out_method="manual",
                                  minutes=minutes, counted=counted)  # fmt: skip
    return w


def _counts(code, ctx):
    got = ind.compute(ind.BY_CODE[code], ctx)
    return got if got is not None else None


def _organizer(django_user_model, division, username):
    user = django_user_model.objects.create_user(username=username, password="x")
    Role.objects.create(user=user, kind=RoleKind.ORGANIZER, division=division)
    return user


# ------------------------------------------------------------------------------------------ definitions


def test_every_indicator_is_defined_in_both_languages():
    assert len(ind.INDICATORS) == len(ind.BY_CODE) >= 12  # codes are unique
    texts = ("label", "numerator", "denominator", "source", "explanation")
    for i in ind.INDICATORS:
        assert re.fullmatch(r"[a-z_]+", i.code) and i.unit in ind.UNITS and callable(i.compute), i.code
        with translation.override("en"):
            english = {t: i.text(t) for t in texts}
            assert all(len(v) > 3 and "%(" not in v for v in english.values()), i.code
        with translation.override("zh-hans"):
            chinese = {t: i.text(t) for t in texts}
            unit = i.unit_label
        for t in texts:
            assert chinese[t] != english[t] and re.search(r"[\u4e00-\u9fff]", chinese[t]), (i.code, t)
        assert re.search(r"[\u4e00-\u9fff]", unit), i.code
    # the figures the texts name are the ones counted with
    with translation.override("en"):
        assert "1.5 km" in ind.BY_CODE["station_covered"].text("numerator")
        assert "90 days" in ind.BY_CODE["liaison_contacted"].text("numerator")


# ---------------------------------------------------------------------------------------- values by hand


def test_every_indicator_of_the_small_world_equals_the_count_by_hand(world):
    ctx = ind.Context(as_of=world["today"], prefix="99", cross=True)
    p1, p2 = world["p1"].pk, world["p2"].pk
    expected = {
        # indicator: {(division, occupation, platform): (numerator, denominator)}
        "org_units": {("9901", "", None): (1, 2), ("990101001", "", None): (1, 1), ("990101002", "", None): (0, 1),
                      ("990101", "", p1): (1, 1), ("990101", "", p2): (0, 1)},
        "members_in_branch": {("99", "", None): (5, 7), ("990101001", "", None): (3, 3),
                              ("990101002", "", None): (2, 4), ("990101", "truck_driver", None): (2, 3),
                              ("990101", "", p1): (1, 2)},
        "liaison_paired": {("990101", "", None): (2, 5), ("990101001", "", None): (1, 3),
                           ("990101002", "", None): (1, 2), ("990101", "courier", p1): (1, 2)},
        "liaison_contacted": {("990101", "", None): (1, 2), ("990101002", "", None): (0, 1)},
        "station_covered": {("990101", "", None): (4, 5), ("990101001", "", None): (3, 4),
                            ("990101002", "", None): (1, 1), ("990101", "", p1): (3, 3),
                            ("990101", "", p2): (2, 3), ("990101", "delivery_rider", None): (1, 2)},
        "station_night": {("990101", "", None): (1, 5), ("990101001", "", None): (0, 4)},
        "union_members": {("990101", "", None): (2, 12), ("990101002", "", None): (1, 6)},
        "community_reported": {("990101", "", None): (1, 12), ("990101001", "courier", None): (1, 4)},
        "demands_on_time": {("990101", "", None): (1, 3), ("990101001", "", None): (1, 2),
                            ("990101", "", p2): (0, 2), ("990101", "", p1): (1, 1)},
        "demand_rating": {("990101", "", None): (7, 2), ("990101002", "", None): (2, 1)},
        "volunteer_hours": {("990101", "", None): (210, 2), ("990101", "courier", None): (90, 1)},
        "volunteers_active": {("990101", "", None): (2, 12), ("990101002", "", None): (0, 6)},
    }  # fmt: skip
    for code, cells in expected.items():
        got = _counts(code, ctx)
        for key, value in cells.items():
            assert got.get(key, (0, 0)) == value, (code, key, got.get(key))
    # the figures: 1.75 hours per volunteer, a mean rating of 3.5, 80 % within reach
    assert ind.BY_CODE["volunteer_hours"].value(210, 2) == pytest.approx(1.75)
    assert ind.BY_CODE["demand_rating"].value(7, 2) == pytest.approx(3.5)
    assert ind.BY_CODE["station_covered"].value(4, 5) == pytest.approx(80.0)
    assert ind.BY_CODE["station_covered"].value(0, 0) is None


def test_a_page_counts_one_platform_and_one_occupation_as_the_snapshot_does(world):
    p1 = world["p1"].pk
    for code in ("members_in_branch", "liaison_paired", "station_covered", "demands_on_time", "volunteer_hours"):
        cross = _counts(code, ind.Context(as_of=world["today"], prefix="99", cross=True))
        for platform, occupation in ((None, ""), (p1, ""), (None, "courier"), (p1, "courier")):
            page = _counts(code, ind.Context(as_of=world["today"], prefix="990101", platform=platform,
                                             occupation=occupation))  # fmt: skip
            for div in ("990101", "990101001", "990101002"):
                if platform is not None and occupation:
                    continue  # a snapshot keeps platform and occupation apart, a page may ask for both
                assert page.get((div, occupation, platform), (0, 0)) == cross.get((div, occupation, platform), (0, 0))
    # both at once: P1's couriers with a liaison are w1 (paired) and w2 (not)
    both = _counts("liaison_paired", ind.Context(as_of=world["today"], prefix="990101", platform=p1,
                                                 occupation="courier"))  # fmt: skip
    assert both[("990101", "courier", p1)] == (1, 2)
    # a unit has no occupation: not counted by one
    assert _counts("org_units", ind.Context(as_of=world["today"], prefix="990101", occupation="courier")) is None


def test_a_past_month_reads_dated_records_as_they_stood(world):
    # 150 days ago the pair m2-w3 (ended 100 days ago) was still open, w1's contact was not made yet
    before = world["today"] - dt.timedelta(days=150)
    ctx = ind.Context(as_of=before, prefix="99", cross=True)
    assert _counts("liaison_paired", ctx)[("990101", "", None)] == (3, 5)
    assert _counts("liaison_contacted", ctx)[("990101", "", None)] == (0, 3)
    assert _counts("demands_on_time", ctx).get(("990101", "", None), (0, 0)) == (0, 0)
    # m3 joins the union in 40 days: counted then, not now
    later = ind.Context(as_of=world["today"] + dt.timedelta(days=41), prefix="99", cross=True)
    assert _counts("union_members", later)[("990101", "", None)] == (3, 12)


# ------------------------------------------------------------------------------------------ suppression


def test_small_counts_are_suppressed_outside_the_viewers_area_and_not_inside(world, django_user_model):
    district = scope_for(_organizer(django_user_model, world["district"], "inddistrict"))
    street = scope_for(_organizer(django_user_model, world["street_a"], "indstreet"))
    assert policy.indicator_access(district, "990101") == policy.INSIDE
    assert policy.indicator_access(district, "990101001") == policy.INSIDE
    assert policy.indicator_access(street, "990101") == policy.OUTSIDE  # the district around the street
    assert policy.indicator_access(street, "") == policy.OUTSIDE
    assert policy.indicator_access(street, "990101002") is None
    # the one function: as it is inside, "<5" outside; zero stays zero
    assert policy.suppress_small(district, "990101", 2) == 2
    assert policy.suppress_small(street, "990101", 2) == "<5"
    assert policy.suppress_small(street, "990101", 0) == 0
    assert policy.suppress_small(street, "990101", 12) == 12
    # figures: 2 of 5 with a liaison (inside exact; outside the 2 is small, so the figure is hidden, counts and all:
    # rounded counts beside exact totals pinned counts down, third outsider review)
    assert policy.indicator_figures(district, "990101", 2, 5) == (2, 5, True)
    assert policy.indicator_figures(street, "990101", 2, 5) == (None, None, False)
    # 5 of 7 members in a branch: the 2 who are not would be named by the share
    assert policy.indicator_figures(street, "990101", 5, 7) == (None, None, False)
    assert policy.indicator_figures(street, "990101", 40, 100) == (40, 100, True)
    # zero is small too outside: 0 of 100 would say nobody, and "hidden" would then mean 1 to 4
    assert policy.indicator_figures(street, "990101", 0, 100) == (None, None, False)
    assert policy.indicator_figures(street, "990101", 100, 100) == (None, None, False)
    # a mean of 2 ratings: hidden with its denominator; the sum is not a count of people
    assert policy.indicator_figures(street, "990101", 7, 2, numerator_counts=False) == (None, None, False)
    assert policy.indicator_figures(street, "990101", 31, 8, numerator_counts=False) == (31, 8, True)

    # the page: the district organizer sees 2 of 5 at the district, the street's organizer "<5" there
    inside = selectors.board(scope=district, code="990101", chosen=ind.BY_CODE["liaison_paired"])
    outside = selectors.board(scope=street, code="990101", chosen=ind.BY_CODE["liaison_paired"])
    f_in = {f.indicator.code: f for f in inside["figures"]}
    f_out = {f.indicator.code: f for f in outside["figures"]}
    assert (f_in["liaison_paired"].numerator, f_in["liaison_paired"].denominator) == (2, 5)
    assert f_in["liaison_paired"].value == pytest.approx(40.0)
    assert (f_out["liaison_paired"].numerator, f_out["liaison_paired"].value) == (None, None)
    assert f_out["liaison_paired"].suppressed and not f_in["liaison_paired"].suppressed
    assert f_out["station_covered"].suppressed and f_out["union_members"].suppressed
    # the street's own row under its district is inside: exact; its sibling is not listed at all
    rows = {r["division"].code: r["figure"] for r in outside["rows"]}
    assert list(rows) == ["990101001"] and (rows["990101001"].numerator, rows["990101001"].denominator) == (1, 3)
    assert {r["division"].code for r in inside["rows"]} == {"990101001", "990101002"}


def test_the_export_and_the_page_take_their_counts_through_the_policy(world, django_user_model, client):
    client.force_login(_organizer(django_user_model, world["street_a"], "indstreet"))
    csv = client.get("/indicators/?division=990101&indicator=liaison_paired&format=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = {(r.split(",")[0], r.split(",")[2]): r.split(",") for r in csv.content.decode("utf-8-sig").splitlines()[1:]}
    # 5 workers in the district, 3 of them in their own street: the 2 of street B would follow by subtraction
    assert lines[("990101", "liaison_paired")][4:7] == ["", "", ""]
    assert lines[("990101001", "liaison_paired")][4:7] == ["1", "3", "33.3333"]
    page = client.get("/indicators/?division=990101").content.decode()
    assert "不予显示" in page or "not shown" in page
    assert "data-outside" in page


# ------------------------------------------------------------------------------------------ out of reach


def test_another_division_outside_scope_cannot_be_read(world, django_user_model, client, login):
    client.force_login(_organizer(django_user_model, world["street_a"], "indstreet"))
    assert client.get("/indicators/?division=990101001").status_code == 200
    for url in (
        "/indicators/?division=990101002",
        "/indicators/?division=990101002&format=csv",
        "/indicators/?division=4403",
        "/indicators/?division=nonsense",
        "/indicators/?division=9901010010",
    ):
        assert client.get(url).status_code == 404, url  # fmt: skip
    street = scope_for(django_user_model.objects.get(username="indstreet"))
    with pytest.raises(PermissionDenied):
        policy.suppress_small(street, "990101002", 12)
    # a pilot elsewhere is not listed, and its page is not found
    admin = scope_for(django_user_model.objects.get(username="admin"))
    pilot = services.pilot_create(scope=admin, division=world["street_b"], start_on=world["today"])
    assert pilot not in selectors.pilot_list(scope=street)
    assert pilot in selectors.pilot_list(scope=admin)
    # the demo's Shenzhen organizer reads nothing of province 99; staff and members have no indicator pages
    assert login("organizer").get("/indicators/?division=990101").status_code == 404
    for role in ("staff", "secretary", "member", "operator"):
        c = login(role)
        assert c.get("/indicators/").status_code == 404, role
        assert c.get("/indicators/pilots/").status_code == 404, role
        assert 'href="/indicators/"' not in c.get("/").content.decode(), role


def test_the_menu_offers_indicators_to_administrators_and_organizers(login):
    for role in ("admin", "organizer", "district"):
        home = login(role).get("/").content.decode()
        assert 'href="/indicators/" data-nav="indicators"' in home, role


# -------------------------------------------------------------------------------------------- snapshots


def test_a_months_snapshot_taken_twice_holds_one_set_of_rows(world):
    period = world["today"].replace(day=1)
    call_command("indicators", "snapshot", "--period", f"{period:%Y-%m}", verbosity=0)
    first = sorted(
        IndicatorSnapshot.objects.filter(period=period).values_list(
            "indicator", "division", "occupation", "platform_id", "numerator", "denominator", "as_of"
        ),
        key=str,
    )
    call_command("indicators", "snapshot", "--period", f"{period:%Y-%m}", verbosity=0)
    again = sorted(
        IndicatorSnapshot.objects.filter(period=period).values_list(
            "indicator", "division", "occupation", "platform_id", "numerator", "denominator", "as_of"
        ),
        key=str,
    )
    assert first == again and len(first) > 100
    rows = {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in first}
    assert rows[("station_covered", "990101", "", None)] == (4, 5)
    assert rows[("station_covered", "990101", "", world["p2"].pk)] == (2, 3)
    assert rows[("members_in_branch", "990101", "truck_driver", None)] == (2, 3)
    assert ("org_units", "990101", "courier", None) not in rows  # units have no occupation
    # the demo city is in the same snapshot, and the whole country sums both
    assert rows[("union_members", "", "", None)][1] == rows[("union_members", "4403", "", None)][1] + 12
    # another month is its own set; the current month's rows describe today
    previous = services.previous_month(world["today"])
    result = services.indicator_snapshot_take(period=previous)
    assert result.as_of == services.month_end(previous) and result.replaced == 0
    assert IndicatorSnapshot.objects.filter(period=period).count() == len(first)
    assert {r[6] for r in first} == {world["today"]}


def test_the_snapshot_command_refuses_a_bad_or_future_month(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("indicators", "snapshot", "--period", "2026-13", verbosity=0)
    future = (world["today"].replace(day=1) + dt.timedelta(days=40)).replace(day=1)
    with pytest.raises(CommandError, match="not begun"):
        call_command("indicators", "snapshot", "--period", f"{future:%Y-%m}", verbosity=0)
    with pytest.raises(CommandError, match="after"):
        call_command("indicators", "snapshot", "--period", "2026-01", "--since", "2026-03", verbosity=0)
    assert not IndicatorSnapshot.objects.exists()


def test_the_monthly_snapshot_is_on_the_workers_schedule():
    from xinye.common.schedules import planned

    plan = {p.func: p for p in planned()}
    assert plan["xinye.reports.services.indicator_snapshots_monthly"].schedule_type == "M"


# ------------------------------------------------------------------------------------ pilots, by hand


def test_difference_of_differences_on_hand_numbers():
    # the pilot goes from 5 of 40 (12.5 %) to 25 of 40 (62.5 %): +50 points; the rest from 15 of 60 (25 %) to
    # 25 of 60 (41.67 %): +16.67 points; the difference of the differences is 33.33 points
    area_before, area_after = Ratio(20, 100), Ratio(50, 100)
    pilot_before, pilot_after = Ratio(5, 40), Ratio(25, 40)
    rest_before, rest_after = rest_of(area_before, [pilot_before]), rest_of(area_after, [pilot_after])
    assert (rest_before, rest_after) == (Ratio(15, 60), Ratio(25, 60))
    d = diff_in_diff(pilot_before, pilot_after, rest_before, rest_after)
    assert (d.pilot_before_value, d.pilot_after_value) == (12.5, 62.5)
    assert d.rest_before_value == 25.0 and d.rest_after_value == pytest.approx(125 / 3)
    assert d.pilot_change == 50.0
    assert d.rest_change == pytest.approx(50 / 3)
    assert d.difference == pytest.approx(100 / 3)
    # a mean rating (scale 1): 3.0 -> 4.0 in the pilot, 3.5 -> 3.75 in the rest: +1 - 0.25 = 0.75
    m = diff_in_diff(Ratio(30, 10), Ratio(40, 10), Ratio(35, 10), Ratio(75, 20), scale=1)
    assert (m.pilot_change, m.rest_change, m.difference) == (1.0, 0.25, 0.75)
    # nothing counted before: no change, no difference (not a change from 0 %)
    e = diff_in_diff(Ratio(0, 0), Ratio(3, 4), Ratio(1, 2), Ratio(1, 2))
    assert e.pilot_change is None and e.difference is None and e.rest_change == 0.0


def test_rest_of_refuses_pilots_larger_than_their_area_and_bad_counts():
    assert rest_of(Ratio(10, 20), [Ratio(1, 5), Ratio(2, 5)]) == Ratio(7, 10)
    with pytest.raises(InputError, match="pilots hold more"):
        rest_of(Ratio(10, 20), [Ratio(11, 15)])
    with pytest.raises(InputError, match="pilot_after"):
        diff_in_diff(Ratio(1, 2), Ratio(-1, 2), Ratio(1, 2), Ratio(1, 2))


def _snap(indicator, period, division, num, den):
    IndicatorSnapshot.objects.create(indicator=indicator, period=period, division=division, numerator=num,
                                     denominator=den, as_of=services.month_end(period),
                                     taken_at=timezone.now())  # fmt: skip


def test_a_pilot_is_compared_with_the_rest_with_the_counts_behind_every_figure(world, django_user_model):
    # given snapshots of the district (the area) and of street A (the pilot, from March) for February and April
    feb, mar, apr = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)
    for period, area, pilot in ((feb, (20, 100), (5, 40)), (mar, (30, 100), (12, 40)), (apr, (50, 100), (25, 40))):
        _snap("liaison_paired", period, "990101", *area)
        _snap("liaison_paired", period, "990101001", *pilot)
    admin = scope_for(django_user_model.objects.get(username="admin"))
    pilot = services.pilot_create(scope=admin, division=world["street_a"], start_on=dt.date(2026, 3, 15), note="先行")
    c = selectors.pilot_comparison(scope=admin, pilot=pilot, indicator=ind.BY_CODE["liaison_paired"])
    assert (c["area"], c["before"], c["after"]) == ("990101", feb, apr)
    t = c["table"]
    before = t["pilot_before"]
    assert (before["numerator"], before["denominator"], before["value"]) == (5, 40, 12.5)
    assert (t["rest_before"]["numerator"], t["rest_before"]["denominator"]) == (15, 60)
    assert (t["rest_after"]["numerator"], t["rest_after"]["denominator"]) == (25, 60)
    assert t["pilot_change"] == 50.0 and t["difference"] == pytest.approx(100 / 3)
    assert [v for _p, v in c["series"]["rest"]] == pytest.approx([25.0, 30.0, 125 / 3])
    # the page shows it, with the counts
    from django.test import Client

    client = Client()
    client.force_login(django_user_model.objects.get(username="admin"))
    html = client.get("/indicators/pilots/?indicator=liaison_paired", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    section = html[html.index('data-pilot="990101001"') :]
    assert "5 of 40" in section and "15 of 60" in section and "25 of 60" in section and "+33.3" in section
    # the organizer of street B sees the district from outside: the rest's counts are large enough, the pilot's
    # 5 of 40 too; a small count would be "<5" and its change not shown
    other = scope_for(_organizer(django_user_model, world["street_b"], "indstreetb"))
    assert selectors.pilot_list(scope=other) == []  # street A is not theirs, nor above it
    own = scope_for(_organizer(django_user_model, world["street_a"], "indstreeta"))
    IndicatorSnapshot.objects.filter(period=apr, division="990101001").update(numerator=3)
    c2 = selectors.pilot_comparison(scope=own, pilot=pilot, indicator=ind.BY_CODE["liaison_paired"])
    assert c2["table"]["pilot_after"]["numerator"] == 3  # inside the street organizer's own area: exact
    assert (c2["table"]["rest_after"]["numerator"], c2["table"]["rest_after"]["denominator"]) == (47, 60)
    assert c2["table"]["difference"] is not None
    # the rest lies outside their area: a rest of 3 of 60 is hidden and no change or difference is shown
    IndicatorSnapshot.objects.filter(period=apr, division="990101").update(numerator=6)
    c3 = selectors.pilot_comparison(scope=own, pilot=pilot, indicator=ind.BY_CODE["liaison_paired"])
    assert c3["table"]["rest_after"]["numerator"] is None and c3["table"]["rest_after"]["value"] is None
    # the pilots page says a hidden cell is not shown, never "nothing to count"
    from xinye.reports.indicator_views import _comparison_rows

    rows = _comparison_rows(own, pilot, ind.BY_CODE["liaison_paired"], None, "")
    assert rows["cells"]["rest_after"]["counts"] in ("not shown", "不予显示")
    assert c3["table"]["rest_change"] is None and c3["table"]["difference"] is None
    assert c3["table"]["pilot_change"] is not None
    full = selectors.pilot_comparison(scope=admin, pilot=pilot, indicator=ind.BY_CODE["liaison_paired"])
    assert full["table"]["rest_after"]["numerator"] == 3 and full["table"]["difference"] is not None


def test_pilots_are_set_by_administrators_only(world, django_user_model):
    from django.test import Client

    organizer, admin = Client(), Client()
    organizer.force_login(django_user_model.objects.get(username="organizer"))
    admin.force_login(django_user_model.objects.get(username="admin"))
    assert organizer.post("/indicators/pilots/", {"division": "440305", "start_on": "2026-03-01"}).status_code == 404
    assert not Pilot.objects.exists()
    bad = admin.post("/indicators/pilots/", {"division": "990101001001", "start_on": "2026-03-01"})
    assert bad.status_code == 200 and not Pilot.objects.exists()  # a community is too small
    ok = admin.post("/indicators/pilots/", {"division": "990101", "start_on": "2026-03-01", "note": "试点"})
    assert ok.status_code == 302 and Pilot.objects.get().division.code == "990101"
    again = admin.post("/indicators/pilots/", {"division": "990101", "start_on": "2026-04-01"})
    assert again.status_code == 200 and Pilot.objects.count() == 1
    pilot = Pilot.objects.get()
    assert admin.post(f"/indicators/pilots/{pilot.pk}/", {"start_on": "2026-05-01", "note": ""}).status_code == 302
    pilot.refresh_from_db()
    assert pilot.start_on == dt.date(2026, 5, 1) and pilot.history.count() == 2
    assert organizer.post(f"/indicators/pilots/{pilot.pk}/delete/").status_code == 404
    assert admin.post(f"/indicators/pilots/{pilot.pk}/delete/").status_code == 302 and not Pilot.objects.exists()
    with pytest.raises(PermissionDenied):
        services.pilot_create(scope=scope_for(django_user_model.objects.get(username="organizer")),
                              division=world["district"], start_on=world["today"])  # fmt: skip


# ---------------------------------------------------------------------------------------- the pages


def test_the_indicators_page_reads_chinese_for_an_organizer(world, django_user_model, client):
    from tests.test_i18n_pages import _data_words

    client.force_login(_organizer(django_user_model, world["district"], "inddistrict"))
    services.indicator_snapshot_take(period=services.previous_month(world["today"]))
    services.indicator_snapshot_take(period=world["today"].replace(day=1))
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/indicators/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["code"] == "990101"  # their own division first
    assert "指标" in html and "试验区" in html and "甲街道" in html and "乙街道" in html
    assert "共 5，其中 2" in html  # 2 of 5 workers with a liaison
    assert "40.0%" in html and "80.0%" in html  # with a liaison; within reach of a station
    assert "3.5" in html and "1.8" in html  # the mean rating; hours per volunteer (1.75)
    assert english_words(visible_text(html), _data_words()) == set()
    assert html.count('<svg class="spark"') >= 10  # a trend per indicator from the two snapshots
    # drill down to a street, filtered by platform and occupation, still in Chinese
    street = client.get(f"/indicators/?division=990101001&platform={world['p1'].pk}&occupation=courier",
                        HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip
    text = street.content.decode()
    assert street.status_code == 200 and "甲街道" in text and "不按职业统计" in text
    assert english_words(visible_text(text), _data_words()) == set()
    pilots = client.get("/indicators/pilots/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert english_words(visible_text(pilots), _data_words()) == set()


def test_the_indicators_page_of_the_demo_city_in_english(login):
    page = login("organizer").get("/indicators/?indicator=station_covered", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page.context["code"] == "4403"
    html = page.content.decode()
    assert "Workers within reach of a station" in html and "What the indicators count" in html
    assert len(page.context["rows"]) >= 5  # the districts of Shenzhen, each a link one level down
    assert 'href="?division=440305' in html


def test_a_sparkline_is_inline_svg_without_style_and_breaks_at_a_gap():
    svg = str(sparkline_svg([10.0, None, 30.0, 20.0], label="趋势 <b>"))
    assert svg.startswith('<svg class="spark"') and "style" not in svg and "<script" not in svg
    assert svg.count("<polyline") == 2  # the missing month breaks the line
    assert "&lt;b&gt;" in svg and "<b>" not in svg  # the label is escaped
    assert 'role="img"' in svg and "<title>" in svg
    assert str(sparkline_svg([None, None], label="x")) == ""
    flat = str(sparkline_svg([5.0, 5.0], label="x"))
    assert 'points="3,16 117,16"' in flat  # a flat series in the middle


def test_station_coverage_indicators_equal_the_coverage_page_and_so_the_national_batch():
    # the coverage page at 6 minutes by e-bike is 1.5 km, the indicators' radius (XINYE_COVERAGE_RADIUS_KM) and
    # the batch's default; tests/test_coverage_batch.py holds the batch equal to that page
    from xinye.stations import coverage

    report = coverage.coverage_report(division_code="4403", minutes=6, mode="ebike")
    assert report["radius_m"] == pytest.approx(ind.radius_km() * 1000)
    today = timezone.localdate()
    covered = _counts("station_covered", ind.Context(as_of=today, prefix="4403"))[("4403", "", None)]
    night = _counts("station_night", ind.Context(as_of=today, prefix="4403"))[("4403", "", None)]
    assert covered == (report["covered"], report["workers"]) and night == (report["night_covered"], report["workers"])
    by_occupation = _counts("station_covered", ind.Context(as_of=today, prefix="4403", cross=True))
    for r in report["by_occupation"]:
        assert by_occupation[("4403", r["key"], None)] == (r["covered"], r["workers"]), r["key"]


def test_the_api_gives_the_pages_figures_through_the_same_policy(world, django_user_model, client):
    client.force_login(_organizer(django_user_model, world["street_a"], "indstreet"))
    got = client.get("/api/indicators/?division=990101&indicator=liaison_paired").json()
    assert got["access"] == "outside" and got["name"] == "试验区"
    paired = next(f for f in got["figures"] if f["indicator"] == "liaison_paired")
    assert (paired["numerator"], paired["denominator"], paired["value"], paired["suppressed"]) == (
        None,
        None,
        None,
        True,
    )
    assert [(b["code"], b["figure"]["numerator"], b["figure"]["denominator"]) for b in got["below"]] == [
        ("990101001", 1, 3)
    ]
    assert {d["code"] for d in got["definitions"]} == set(ind.BY_CODE)
    own = client.get("/api/indicators/").json()  # their own street by default: inside, exact
    assert own["division"] == "990101001" and own["access"] == "inside"
    assert next(f for f in own["figures"] if f["indicator"] == "station_covered")["numerator"] == 3
    assert client.get("/api/indicators/?division=990101002").status_code == 404
    assert client.get("/api/indicators/?occupation=pilot").status_code == 400
    assert client.get("/api/indicators/?platform=999999").status_code == 404
    courier = client.get(f"/api/indicators/?platform={world['p1'].pk}&occupation=courier").json()
    units = next(f for f in courier["figures"] if f["indicator"] == "org_units")
    assert units["counted"] is False and units["value"] is None


# ------------------------------------------------------------------------- the lists behind the figures


def _listed(client, **query):
    from urllib.parse import urlencode

    got = client.get("/indicators/records/?" + urlencode(query))
    return got


def test_every_figure_lists_the_records_it_counts_for_an_organizer_of_the_division(world, django_user_model, client):
    """The records behind each figure are exactly what it counts: the same numerator and denominator, for every
    indicator, in the street the organizer works for."""
    client.force_login(_organizer(django_user_model, world["street_a"], "recstreet"))
    scope = scope_for(django_user_model.objects.get(username="recstreet"))
    ctx = ind.Context(as_of=world["today"], prefix="990101001")
    for indicator in ind.INDICATORS:
        counts = ind.compute(indicator, ctx)[("990101001", "", None)]
        kind, counted, totals = selectors.figure_records(scope=scope, code="990101001", indicator=indicator)
        assert totals["all"] == counts[1], indicator.code
        if indicator.numerator_counts:
            assert totals["counted"] == counts[0] == counted.count(), indicator.code
    names = lambda got: sorted(re.findall(r'/people/\d+/">([^<]+)<', got.content.decode()))  # noqa: E731
    got = _listed(client, division="990101001", indicator="liaison_paired", part="counted")
    assert got.status_code == 200 and names(got) == ["w1"]
    assert names(_listed(client, division="990101001", indicator="liaison_paired", part="missing")) == ["w2", "w3"]
    covered = _listed(
        client, division="990101001", indicator="station_covered", part="counted", platform=world["p1"].pk
    )
    assert names(covered) == ["m1", "w1", "w2"]
    units = _listed(client, division="990101001", indicator="org_units", part="counted").content.decode()
    assert "甲站" in units and "乙车队" not in units
    late = _listed(client, division="990101001", indicator="demands_on_time", part="missing").content.decode()
    assert len(re.findall(r"/demands/\d+/", late)) == 1


def test_the_indicators_page_links_its_counts_to_the_lists_inside_ones_area_only(world, django_user_model, client):
    client.force_login(_organizer(django_user_model, world["street_a"], "recpage"))
    own = client.get("/indicators/?division=990101001").content.decode()
    assert own.count('data-records-link="counted"') >= 9 and "/indicators/records/?" in own
    district = client.get("/indicators/?division=990101&indicator=liaison_paired").content.decode()
    # the district takes in street B, which is not theirs: its own figures are counts only; street A's row links
    figures, children = district.split("data-figures", 1)[1].split("data-children", 1)
    assert "data-records-link" not in figures
    assert 'data-records-link="counted"' in children and "division=990101001" in children
    assert _listed(client, division="990101", indicator="liaison_paired").status_code == 404
    assert _listed(client, division="990101002", indicator="liaison_paired").status_code == 404
    assert _listed(client, division="990101001", indicator="nonsense").status_code == 404
    assert _listed(client, division="990101001", indicator="liaison_paired", part="everyone").status_code == 404
    assert _listed(client, division="990101001", indicator="org_units", occupation="courier").status_code == 404


def test_a_list_of_members_is_only_for_the_viewers_own_area(world, django_user_model):
    """members_in_branch lists Party members: never outside the viewer's own area."""
    organizer = scope_for(_organizer(django_user_model, world["street_a"], "recmember"))
    indicator = ind.BY_CODE["members_in_branch"]
    _kind, qs, _t = selectors.figure_records(scope=organizer, code="990101001", indicator=indicator)
    assert sorted(p.name for p in qs) == ["m1", "m3", "m4"]
    r = ind.records(indicator, ind.Context(as_of=world["today"], prefix="990101001"))
    assert r.membership
    assert policy.indicator_records(organizer, "990101", r) is None  # outside their own area: never a list


def test_the_city_map_shades_its_districts_by_the_chosen_indicator_and_drills_down(world, django_user_model, client):
    import json

    from xinye.places.models import Division

    square = lambda x: {"type": "Polygon", "coordinates": [[[x, 30], [x + 0.1, 30], [x + 0.1, 30.1], [x, 30]]]}  # noqa: E731
    Division.objects.filter(code="990101").update(boundary=square(100.0))
    other = _division("990102", "试验二区", "county", world["city"])
    Division.objects.filter(pk=other.pk).update(boundary=square(100.2))
    admin = django_user_model.objects.create_superuser(username="mapadmin", password="x")
    client.force_login(admin)
    page = client.get("/indicators/?division=9901&indicator=liaison_paired").content.decode()
    data = json.loads(re.search(r'id="indicator-map-data" type="application/json">(.*?)</script>', page).group(1))
    assert {f["properties"]["code"] for f in data["geo"]["features"]} == {"990101", "990102"}
    assert data["shade"]["data"] == [{"name": "试验区", "value": pytest.approx(2 / 5)}]  # w1, w4 of 5 workers
    assert data["drill"]["试验区"].startswith("/indicators/?") and "division=990101" in data["drill"]["试验区"]
    assert "data-legend" in page and "vendor/echarts" in page
    # a street's page has nothing to draw
    assert 'id="indicator-map-data"' not in client.get("/indicators/?division=990101001").content.decode()


def test_the_home_page_leads_with_what_to_do_then_the_indicators_of_ones_division(world, django_user_model, client):
    client.force_login(_organizer(django_user_model, world["street_a"], "homeind"))
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "data-home-indicators" in page and "甲街道" in page
    home = page.split("data-home-indicators", 1)[1]
    assert 'data-records-link="counted"' in home and "/indicators/?division=990101001" in home
    from tests.test_i18n_pages import _data_words

    assert english_words(visible_text(page), _data_words() | {"homeind"}) == set()  # the user's own name
    worker = django_user_model.objects.create_user(username="homeplain", password="x")
    client.force_login(worker)
    assert "data-home-indicators" not in client.get("/").content.decode()


def test_station_coverage_by_minutes_and_by_amenity(world):
    """Within 15 minutes by e-bike: S1 reaches c1 (w1, w2, m1), S2 reaches c2 (w4), nothing reaches the far cell:
    4 of the 5 people with a work area. By amenity: only S2 has drinking water, so only w4; no station has a
    toilet."""
    from xinye.stations.models import Station

    Station.objects.filter(name="试验站S2").update(amenities=["water", "seats"])
    ctx = ind.Context(as_of=world["today"], prefix="990101")
    assert _counts("station_ebike", ctx)[("990101", "", None)] == (4, 5)
    assert _counts("station_water", ctx)[("990101", "", None)] == (1, 5)
    assert _counts("station_toilet", ctx)[("990101", "", None)] == (0, 5)
    water = ind.records(ind.BY_CODE["station_water"], ctx)
    assert [p.name for p in water.counted] == ["w4"]
    with translation.override("zh-hans"):
        assert "饮用水" in ind.BY_CODE["station_water"].text("label")


def test_a_division_seen_from_outside_hides_a_rest_that_ones_own_counts_would_give_away(
    world, django_user_model, client
):
    """Street A's organizer sees street A exactly and the district from outside. With 10 more union members
    in street A, the district's union figure is 12 of 22 (no small count), but street A alone is 11 of 16: the
    rest of the district, street B, would be 1 of 6 by subtraction. So the district's figure is not shown."""
    from xinye.people.models import Person

    for i in range(10):
        Person.objects.create(name=f"u{i}", occupation="courier", work_community=world["a1"], union_name="试验工会")
    user = _organizer(django_user_model, world["street_a"], "diffstreet")
    client.force_login(user)
    got = client.get("/api/indicators/?division=990101&indicator=union_members").json()
    union = next(f for f in got["figures"] if f["indicator"] == "union_members")
    assert union["suppressed"] is True and union["value"] is None
    assert union["numerator"] is None and union["denominator"] is None
    own = client.get("/api/indicators/?division=990101001").json()
    mine = next(f for f in own["figures"] if f["indicator"] == "union_members")
    assert (mine["numerator"], mine["denominator"]) == (11, 16)
    # the rule itself: a rest of 1 to 4 (counted, uncounted or in all) hides the figure, a larger one does not
    scope = scope_for(user)
    assert policy.indicator_figures(scope, "990101", 50, 100, own=(30, 60)) == (50, 100, True)
    assert policy.indicator_figures(scope, "990101", 50, 100, own=(30, 97))[2] is False
    assert policy.indicator_figures(scope, "990101", 50, 100, own=(47, 60))[2] is False
    assert policy.indicator_figures(scope, "990101", 50, 100, own=(10, 57))[2] is False  # 3 of 43 not counted


def test_commendations_are_counted_but_never_those_that_tell_who_is_a_member(world):
    from xinye.volunteering.recognition import Commendation

    now, branch = world["now"], world["branch"]

    def commend(name, kind, status="approved", days_ago=1):
        at = now - dt.timedelta(days=days_ago)
        Commendation.objects.create(kind=kind, title="试验表彰", year=now.year, person=world[name],
                                    organization=branch, reason="试验", status=status, decided_at=at)  # fmt: skip

    commend("w1", "star_rider")
    commend("m1", "outstanding_member")  # would tell that m1 is a member
    commend("w2", "outstanding_volunteer", status="nominated")
    commend("w3", "star_rider", days_ago=400)  # more than a year ago
    ctx = ind.Context(as_of=world["today"], prefix="990101001")
    assert _counts("commended", ctx)[("990101001", "", None)] == (1, 6)
    assert [p.name for p in ind.records(ind.BY_CODE["commended"], ctx).counted] == ["w1"]
