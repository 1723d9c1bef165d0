"""Plausible synthetic locations for communities, for demos only (no public data has them).

Each street (township) gets a centre drawn uniformly inside its county's boundary; each community a
point drawn from a normal distribution around its street's centre (sigma about 1 km), redrawn until it
falls inside the county. Coordinates are WGS-84 (lat, lon) degrees. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
from shapely import prepared
from shapely.geometry import Point, shape

STREET_SIGMA_DEG = 0.009  # about 1 km


def random_point_in(geometry, rng: np.random.Generator, tries: int = 10_000) -> tuple[float, float]:
    """A uniform random (lat, lon) inside a shapely geometry (rejection sampling in its bounding box)."""
    prep = prepared.prep(geometry)
    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(tries):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if prep.contains(Point(x, y)):
            return y, x
    p = geometry.representative_point()
    return p.y, p.x


def place_communities(
    communities: list[tuple[str, str, str]], county_geometries: dict[str, dict], *, seed: int
) -> dict[str, tuple[float, float]]:
    """Place communities given as (code, street code, county code) inside their county's GeoJSON geometry.

    Returns {community code: (lat, lon)}; communities whose county has no geometry are left out.
    """
    rng = np.random.default_rng(seed)
    shapes = {code: shape(g) for code, g in sorted(county_geometries.items())}
    preps = {code: prepared.prep(s) for code, s in shapes.items()}
    street_centres: dict[str, tuple[float, float]] = {}
    out: dict[str, tuple[float, float]] = {}
    for code, street, county in sorted(communities):
        if county not in shapes:
            continue
        if street not in street_centres:
            street_centres[street] = random_point_in(shapes[county], rng)
        clat, clon = street_centres[street]
        lat, lon = clat, clon
        for _ in range(50):
            dlat, dlon = rng.normal(0.0, STREET_SIGMA_DEG, size=2)
            if preps[county].contains(Point(clon + dlon, clat + dlat)):
                lat, lon = clat + dlat, clon + dlon
                break
        out[code] = (float(lat), float(lon))
    return out
