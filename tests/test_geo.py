"""Coordinate conversion and distances. Issue #2."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinye.algorithms import geo


def test_haversine_of_one_degree_of_latitude_is_about_111_km():
    assert geo.haversine_m(22.0, 114.0, 23.0, 114.0) == pytest.approx(111_195, rel=1e-3)


def test_gcj02_offset_in_shenzhen_is_a_few_hundred_metres():
    lat, lon = geo.from_wgs84(22.5431, 114.0579, "gcj02")
    assert 200 < geo.haversine_m(lat, lon, 22.5431, 114.0579) < 800


def test_outside_china_gcj02_is_the_identity():
    assert geo.from_wgs84(48.8584, 2.2945, "gcj02") == (48.8584, 2.2945)


@given(st.floats(18.5, 53.0), st.floats(74.0, 134.0), st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_within_one_metre_across_china(lat, lon, crs):
    back = geo.to_wgs84(*geo.from_wgs84(lat, lon, crs), crs)
    assert geo.haversine_m(lat, lon, *back) < 1.0


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (0, 181), (math.nan, 0)])
def test_invalid_coordinates_are_rejected(lat, lon):
    with pytest.raises(geo.CoordinateError):
        geo.to_wgs84(lat, lon, "wgs84")


def test_unknown_crs_is_rejected():
    with pytest.raises(geo.CoordinateError, match="unknown coordinate system 'osgb'"):
        geo.to_wgs84(22.5, 114.0, "osgb")


def test_h3_cell_round_trips_to_a_nearby_centre():
    cell = geo.h3_cell(22.5431, 114.0579, 8)
    assert cell > 0
    lat, lon = geo.h3_center(cell)
    assert geo.haversine_m(lat, lon, 22.5431, 114.0579) < 1000


# Published reference values (the coordtransform README's examples, which use the standard formulas):
# WGS-84 -> GCJ-02 and GCJ-02 -> BD-09 are closed forms; the reverse ones there are one-step approximations.
REFERENCE = [
    ("wgs84", (39.915, 116.404), "gcj02", (39.91640428150164, 116.41024449916938), 0.01),
    ("gcj02", (39.915, 116.404), "bd09", (39.92133699351022, 116.41036949371029), 0.01),
    ("bd09", (39.915, 116.404), "gcj02", (39.90865673957631, 116.39762729119315), 0.5),
    ("gcj02", (39.915, 116.404), "wgs84", (39.91359571849836, 116.39775550083061), 1.0),
]


@pytest.mark.parametrize(("src", "point", "dst", "expected", "metres"), REFERENCE)
def test_conversions_match_published_reference_points(src, point, dst, expected, metres):
    got = geo.from_wgs84(*geo.to_wgs84(*point, src), dst)
    assert geo.haversine_m(*got, *expected) < metres
    back = geo.to_wgs84(*got, dst)
    assert geo.haversine_m(*geo.from_wgs84(*back, src), *point) < 1.0  # and the round trip within 1 m
