"""Secondary suppression of indicator cells read by platform or occupation from outside the viewer's own area
(second outsider review, finding 4): a hidden cell must not come back as its margin less the cells shown."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.test_indicators import _organizer, world  # noqa: F401  (world is a fixture)
from xinye.accounts.scope import scope_for
from xinye.common.disclosure import secondary_cells
from xinye.reports import indicators as ind
from xinye.reports import selectors, services
from xinye.reports.models import IndicatorSnapshot

EXACT = (True, True)
HIDDEN = (False, False)


def _cells(rows: dict) -> dict:
    """{(row, column): (num, den)} with every cell shown exactly, unless listed in rows["hidden"]."""
    hidden = rows.pop("hidden", ())
    return {k: (v, HIDDEN if k in hidden else EXACT) for k, v in rows.items()}


# ------------------------------------------------------------------------------------------- the rule alone


def test_one_hidden_cell_with_nothing_left_over_hides_the_next_smallest():
    cells = _cells({(None, ""): (10, 23), (None, "a"): (0, 3), (None, "b"): (5, 10), (None, "c"): (5, 10),
                    "hidden": [(None, "a")]})  # fmt: skip
    assert secondary_cells(cells) == {(None, "b")}  # ties go by key: b before c


def test_a_large_rest_protects_the_hidden_cell_by_itself():
    # 20 records in no cell (no occupation), 5 of them counted: the margin less the cells shown is 3 + 20
    cells = _cells({(None, ""): (15, 43), (None, "a"): (0, 3), (None, "b"): (5, 10), (None, "c"): (5, 10),
                    "hidden": [(None, "a")]})  # fmt: skip
    assert secondary_cells(cells) == set()


def test_a_hidden_cell_shown_to_hold_nobody_is_not_left_alone():
    # the margin less the cells shown is 0 counted: the hidden cell and the rest would hold nobody counted
    cells = _cells({(None, ""): (10, 43), (None, "a"): (0, 3), (None, "b"): (5, 10), (None, "c"): (5, 10),
                    "hidden": [(None, "a")]})  # fmt: skip
    assert secondary_cells(cells) == {(None, "b")}


def test_cells_are_hidden_until_together_they_are_not_small():
    cells = _cells({(None, ""): (0, 10), (None, "a"): (0, 1), (None, "b"): (0, 2), (None, "c"): (0, 7),
                    "hidden": [(None, "a")]})  # fmt: skip
    # a (1) with b (2) is still 3: c is hidden too
    assert secondary_cells(cells) == {(None, "b"), (None, "c")}


def test_the_rest_of_a_share_counts_as_a_count():
    # every cell is large, but the hidden cell's not-covered (den - num) is 2, and the margin's is 5
    cells = _cells({(None, ""): (95, 100), (None, "a"): (48, 50), (None, "b"): (47, 50), "hidden": [(None, "a")]})
    assert secondary_cells(cells) == {(None, "b")}
    # a sum of minutes (numerator_counts False): only the denominator is a count of people
    assert secondary_cells(cells, numerator_counts=False) == set()


def test_a_margin_not_shown_exactly_gives_nothing_away():
    cells = _cells(
        {(None, ""): (0, 13), (None, "a"): (0, 3), (None, "b"): (0, 10), "hidden": [(None, "a"), (None, "")]}
    )
    assert secondary_cells(cells) == set()


def test_a_small_rest_alone_is_protected_too():
    # nothing hidden, but the margin less every cell is 2 records of no occupation
    cells = _cells({(None, ""): (0, 22), (None, "a"): (0, 10), (None, "b"): (0, 10)})
    assert secondary_cells(cells) == {(None, "a")}


def test_hiding_spreads_over_rows_and_columns():
    """Platforms p, q (rows) by occupations a, b (columns). (p, a) is hidden; row p then hides (p, b), and column
    b, which would now give (p, b) away, hides (q, b)."""
    cells = _cells({
        (None, ""): (0, 40), (None, "a"): (0, 13), (None, "b"): (0, 27),
        ("p", ""): (0, 12), ("p", "a"): (0, 3), ("p", "b"): (0, 9),
        ("q", ""): (0, 28), ("q", "a"): (0, 10), ("q", "b"): (0, 18),
        "hidden": [("p", "a")],
    })  # fmt: skip
    got = secondary_cells(cells)
    assert ("p", "b") in got and ("q", "a") in got  # row p and column a each need a second cell
    # no line is left that gives a small count away
    for total, members in (((("p", ""), [("p", "a"), ("p", "b")])), ((None, "a"), [("p", "a"), ("q", "a")])):
        shown = sum(cells[m][0][1] for m in members if m not in got and m != ("p", "a"))
        assert not 0 < cells[total][0][1] - shown < 5


# ------------------------------------------------------------------------------------------ through the app


@pytest.mark.django_db
def test_the_table_counts_are_the_page_counts(world):  # noqa: F811
    """current_grids (every platform and occupation at once) gives the same counts as the page's filtered count."""
    today = timezone_today()
    grids = selectors.current_grids(code="990101", as_of=today)
    for platform in (None, world["p1"].pk, world["p2"].pk):
        for occupation in ("", "courier", "truck_driver"):
            counts = selectors.current_counts(code="990101", platform=platform, occupation=occupation, as_of=today)
            for indicator in ind.INDICATORS:
                if counts[indicator.code] is None:
                    continue
                for div, got in counts[indicator.code].items():
                    want = grids[indicator.code].get(div, {}).get((platform, occupation), (0, 0))
                    assert got == want, (indicator.code, div, platform, occupation)


def timezone_today():
    from django.utils import timezone

    return timezone.localdate()


@pytest.mark.django_db
def test_a_platform_cell_does_not_come_back_from_the_total_and_the_other_platforms(
    world,  # noqa: F811
    django_user_model,
    client,
):
    """Platforms are cells of the same kind. Street B's workers are all on a platform: 2 on platform 2 (w4, m5),
    the rest on platform 1. The district's total less platform 1, less street A's own (exact), would be street
    B's 2 on platform 2 (one in the union)."""
    from xinye.people.models import Person

    for i in range(12):
        p = Person.objects.create(name=f"p1-{i}", occupation="courier", work_community=world["b1"],
                                  union_name="试验工会" if i < 6 else "")  # fmt: skip
        p.platforms.set([world["p1"]])
    for name in ("w5", "m6", "m7"):
        world[name].platforms.set([world["p1"]])
    client.force_login(_organizer(django_user_model, world["street_a"], "platstreet"))

    def union(division, platform=None):
        query = f"/api/indicators/?division={division}" + (f"&platform={platform}" if platform else "")
        f = next(f for f in client.get(query).json()["figures"] if f["indicator"] == "union_members")
        return f["numerator"], f["denominator"]

    p1, p2 = world["p1"].pk, world["p2"].pk
    total, p1_cell, p2_cell = union("990101"), union("990101", p1), union("990101", p2)
    assert all(isinstance(v, int) for v in total)
    assert not isinstance(p2_cell[1], int)  # 2 people: hidden
    # platform 1 is hidden too, so the difference is not there to take
    assert not isinstance(p1_cell[1], int)
    # street A's own figures are exact (its organizer reads them)
    assert all(isinstance(v, int) for v in (*union("990101001"), *union("990101001", p1)))


def _ten_of_each_occupation_in_street_b(world):  # noqa: F811
    """Street B: 10 of every occupation but truck drivers (5 in the union), so that only its 3 truck drivers
    (m5, m6, m7, none in the union) are a small cell."""
    from xinye.people.models import Person

    for occupation in ("courier", "ride_hailing_driver", "delivery_rider", "other"):
        for i in range(10):
            Person.objects.create(name=f"{occupation}{i}", occupation=occupation, work_community=world["b1"],
                                  union_name="试验工会" if i < 5 else "")  # fmt: skip


@pytest.mark.django_db
def test_the_trend_line_of_a_hidden_cell_is_a_gap(world, django_user_model):  # noqa: F811
    """The sparkline of a cell read by occupation from outside follows the same table as the figure."""
    _ten_of_each_occupation_in_street_b(world)
    services.indicator_snapshot_take(period=timezone_today().replace(day=1))
    assert IndicatorSnapshot.objects.filter(division="990101", occupation="truck_driver").exists()
    scope = scope_for(_organizer(django_user_model, world["street_a"], "trendstreet"))
    hidden = []
    for occupation in ("courier", "ride_hailing_driver", "delivery_rider", "other", "truck_driver"):
        board = selectors.board(scope=scope, code="990101", occupation=occupation)
        f = next(f for f in board["figures"] if f.indicator.code == "union_members")
        # the figure and the latest month of its line agree: hidden now, a gap then
        assert (f.value is None) == (f.series[-1][1] is None), occupation
        if f.value is None:
            hidden.append(occupation)
    assert "truck_driver" in hidden and len(hidden) > 1


@pytest.mark.django_db
def test_a_pilot_by_occupation_hides_the_same_cells(world, django_user_model):  # noqa: F811
    """The pilots page reads a pilot seen from outside by occupation with the rest of its table too."""
    from xinye.reports.models import Pilot

    _ten_of_each_occupation_in_street_b(world)
    this_month = timezone_today().replace(day=1)
    services.indicator_snapshot_take(period=this_month)
    last = (this_month - dt.timedelta(days=1)).replace(day=1)
    services.indicator_snapshot_take(period=last, today=timezone_today())
    pilot = Pilot.objects.create(division=world["district"], start_on=this_month)
    scope = scope_for(_organizer(django_user_model, world["street_a"], "pilotstreet"))
    union = ind.BY_CODE["union_members"]
    shown = {}
    for occupation in ("courier", "ride_hailing_driver", "delivery_rider", "other", "truck_driver"):
        c = selectors.pilot_comparison(scope=scope, pilot=pilot, indicator=union, occupation=occupation)
        shown[occupation] = c["table"]["pilot_after"]["visible"]
        board = selectors.board(scope=scope, code="990101", occupation=occupation)
        f = next(f for f in board["figures"] if f.indicator.code == "union_members")
        assert shown[occupation] == (f.value is not None), occupation
    assert not shown["truck_driver"] and list(shown.values()).count(False) > 1


@pytest.mark.django_db
def test_the_division_between_is_taken_off_too(world, django_user_model, client):  # noqa: F811
    """A street organizer reads the district (around their street) and the city (around the district) from
    outside. The city less the district is the other districts: 3 people, none in the union. Each of the city
    and the district less the street is large, so each was shown exactly, and the difference gave the 3 away."""
    from tests.test_indicators import _division
    from xinye.people.models import Person

    other = _division("990102", "另一区", "county", world["city"])
    community = _division("990102001001", "另一社区", "community", _division("990102001", "另一街道", "street", other))
    for i in range(3):
        Person.objects.create(name=f"o{i}", occupation="courier", work_community=community)
    for i in range(10):
        Person.objects.create(name=f"b{i}", occupation="courier", work_community=world["b1"],
                              union_name="试验工会" if i < 5 else "")  # fmt: skip
    client.force_login(_organizer(django_user_model, world["street_a"], "chainstreet"))

    def union(division):
        f = next(f for f in client.get(f"/api/indicators/?division={division}").json()["figures"]
                 if f["indicator"] == "union_members")  # fmt: skip
        return f["numerator"], f["denominator"]

    district, city = union("990101"), union("9901")
    assert all(isinstance(v, int) for v in district)  # the district less the street: 16, 6 in the union
    # the city is not exact beside it: less the district it would be 3 people
    assert not all(isinstance(v, int) for v in city)


def test_known_cuts_cover_each_own_division_once():
    from xinye.accounts import policy
    from xinye.accounts.scope import Scope

    street = Scope(user_id=1, division_prefixes=("440306001",))
    assert policy.known_cuts(street, "44") == [["4403"], ["440306"], ["440306001"]]
    assert policy.known_cuts(street, "440306") == [["440306001"]]
    assert policy.known_cuts(street, "440306001") == []  # their own: inside
    two = Scope(user_id=1, division_prefixes=("440306", "440307001"))
    assert policy.known_cuts(two, "4403") == [["440306", "440307"], ["440306", "440307001"]]


@pytest.mark.django_db
def test_the_worker_counts_the_home_pages_ahead(world, django_user_model, settings, monkeypatch):  # noqa: F811
    """`indicators_warm` (a schedule) counts every organizer's division and the country, so a home page then
    reads its counts without counting."""
    from django.core.cache import cache

    from xinye.accounts.models import Role, RoleKind
    from xinye.common.schedules import planned

    # the demo's organizers and administrators out of the way (rolled back after the test)
    Role.objects.filter(kind__in=[RoleKind.ORGANIZER, RoleKind.ADMIN]).delete()
    django_user_model.objects.update(is_superuser=False)
    _organizer(django_user_model, world["district"], "warmdistrict")
    settings.XINYE_INDICATOR_CACHE_SECONDS = 300
    cache.clear()
    assert selectors.home_divisions() == ["990101"]
    assert services.indicators_warm().startswith("1 divisions")
    today = timezone_today()

    def no_counting(*args, **kwargs):
        raise AssertionError("counted again")

    monkeypatch.setattr(selectors, "compute", no_counting)
    got = selectors.current_counts(code="990101", platform=None, occupation="", as_of=today)
    assert got["union_members"]["990101"][1] > 0
    with pytest.raises(AssertionError):  # anything not warmed is counted
        selectors.current_counts(code="9901", platform=None, occupation="", as_of=today)
    assert "xinye.reports.services.indicators_warm" in {p.func for p in planned()}
    django_user_model.objects.create_superuser("warmadmin", password="x")
    assert selectors.home_divisions() == ["", "990101"]  # an administrator's home page: the whole country
    settings.XINYE_INDICATOR_CACHE_SECONDS = 0
    assert "off" in services.indicators_warm()
