"""Invariants of the demo city (built once per session by conftest: Shenzhen, 8,000 workers). Issue #2."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from xinye.demo import generator
from xinye.organizations.models import BusinessUnit, Company, CompanyKind, Organization, OrgKind, UnitKind
from xinye.people.models import Membership, Occupation, Person
from xinye.places.models import Division, Level
from xinye.stations.models import Amenity, Station

from .conftest import DEMO_WORKERS

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def _communities():
    return [
        generator.Community(d.code, d.name, d.parent.code, d.code[:6], d.lat, d.lon)
        for d in Division.objects.filter(level=Level.COMMUNITY, code__startswith="4403").select_related("parent")
    ]


def test_the_generator_is_deterministic_for_a_seed():
    args = dict(
        city_code="4403",
        city_name="深圳市",
        county_names={},
        communities=_communities(),
        workers=500,
        today=date(2026, 11, 1),
    )
    a, b = generator.generate_city(seed=3, **args), generator.generate_city(seed=3, **args)
    c = generator.generate_city(seed=4, **args)
    assert a == b
    assert a.workers != c.workers


def test_every_company_kind_exists_with_a_business_architecture(demo):
    kinds = set(Company.objects.values_list("kind", flat=True))
    assert {k for k, _ in CompanyKind.choices} - {"other"} <= kinds
    station = BusinessUnit.objects.filter(kind=UnitKind.STATION).first()
    chain = [u.kind for u in station.ancestors()]
    assert chain == ["headquarters", "business_line", "region", "city"]


def test_workers_have_occupation_platforms_and_a_work_area_but_no_location_track(demo):
    assert Person.objects.count() == DEMO_WORKERS
    assert not {"lat", "lon", "latitude", "longitude", "gps"} & {f.name for f in Person._meta.get_fields()}
    assert not Person.objects.filter(Q(work_community__isnull=True) | Q(work_cell__isnull=True)).exists()
    occupations = Counter(Person.objects.values_list("occupation", flat=True))
    assert set(occupations) == {o for o, _ in Occupation.choices} - {"other"}
    assert occupations["delivery_rider"] > occupations["truck_driver"]
    multi = Person.objects.annotate(n=Count("platforms")).filter(n__gte=2).count()
    assert 0 < multi < DEMO_WORKERS
    assert not Person.objects.annotate(n=Count("platforms")).filter(n=0).exists()
    unions = Person.objects.exclude(union_name="").count()
    assert 0.2 * DEMO_WORKERS < unions < 0.4 * DEMO_WORKERS
    assert all(CJK.search(n) for n in Person.objects.values_list("name", flat=True)[:50])
    assert Person.objects.filter(consents__isnull=False).distinct().count() == DEMO_WORKERS


def test_about_two_percent_are_members_some_probationary_some_floating(demo):
    members = Membership.objects.filter(until__isnull=True)
    assert members.count() == round(DEMO_WORKERS * 0.02)
    assert members.filter(status="probationary").exists() and members.filter(status="formal").exists()
    floating = members.filter(floating=True)
    assert floating.exists() and not floating.filter(home_organization="").exists()


def test_the_existing_tree_is_realistically_imperfect(demo):
    # an oversize branch (over the soft cap of 50)
    sizes = Organization.objects.filter(kind=OrgKind.BRANCH).annotate(n=Count("memberships"))
    assert sizes.filter(n__gt=50).exists()
    # a unit with >= 3 formal members and no organization
    unorganized = [
        u
        for u in BusinessUnit.objects.filter(organizations__isnull=True, kind__in=["station", "fleet", "park"])
        if Membership.objects.filter(person__business_unit=u, status="formal").count() >= 3
    ]
    assert unorganized
    # an expired committee term
    assert Organization.objects.filter(kind=OrgKind.COMMITTEE, term_ends_on__lt=timezone.localdate()).exists()
    # and members in no branch
    assert Membership.objects.filter(organization__isnull=True).exists()
    # while most members do have a branch, each with a secretary
    placed = Membership.objects.filter(organization__isnull=False).count()
    assert placed > Membership.objects.count() / 2
    for org in Organization.objects.filter(kind__in=[OrgKind.BRANCH, OrgKind.JOINT_BRANCH]):
        assert org.posts.filter(role="secretary").exists(), org


def test_stations_have_amenities_opening_hours_and_a_place(demo):
    stations = list(Station.objects.all())
    assert len(stations) >= DEMO_WORKERS // 150
    known = {a for a, _ in Amenity.choices}
    assert all(s.amenities and set(s.amenities) <= known for s in stations)
    assert {"24/7", "Mo-Su 08:00-22:00"} <= {s.opening_hours for s in stations}
    assert all(s.division.code.startswith("4403") and 22.3 < s.lat < 22.9 and 113.7 < s.lon < 114.7 for s in stations)


def test_communities_are_placed_inside_their_district(demo):
    from shapely.geometry import Point, shape

    for county in Division.objects.filter(level=Level.COUNTY, code__startswith="4403"):
        poly = shape(county.boundary)
        inside = Division.objects.filter(code__startswith=county.code, level=Level.COMMUNITY)
        assert inside.exists() and not inside.filter(lat__isnull=True).exists()
        assert all(poly.contains(Point(c.lon, c.lat)) for c in inside)
