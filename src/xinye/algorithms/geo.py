"""Coordinates for China: WGS-84 / GCJ-02 / BD-09 conversion, distances and H3 cells.

Coordinate order in this module is always (lat, lon) in degrees, WGS-84 unless a name says otherwise.
The GCJ-02 and BD-09 transforms come from the public-domain `prcoords` package (the inverses are its
iterative "bored" ones, well under a centimetre); this module fixes the argument order, validates input and
leaves points outside China as they are (GCJ-02 is only defined inside). `fast-geocn` was used before: its
BD-09 transform writes sin(lat * pi) where the published formula has sin(lat * pi * 3000 / 180), which put
Baidu points up to about 30 m off (tests/test_geo.py checks the published reference values).

References
----------
GB/T 2260 division codes; GCJ-02 is the "mars" offset mandated for published maps in China (Amap,
Tencent); BD-09 is Baidu's further transform of GCJ-02.

Examples
--------
>>> lat, lon = to_wgs84(22.5431, 114.0579, "gcj02")
>>> round(haversine_m(lat, lon, 22.5431, 114.0579))  # the GCJ-02 offset in Shenzhen is a few hundred metres
606
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import h3
import numpy as np
import prcoords

CRS_CHOICES = ("wgs84", "gcj02", "bd09")
EARTH_RADIUS_M = 6_371_008.8


class CoordinateError(ValueError):
    """A latitude/longitude outside the valid range, or an unknown coordinate system."""


def check_latlon(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise CoordinateError(f"latitude {lat!r} is outside -90..90")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise CoordinateError(f"longitude {lon!r} is outside -180..180")


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Convert (lat, lon) in `crs` ("wgs84", "gcj02" or "bd09") to WGS-84 (lat, lon)."""
    check_latlon(lat, lon)
    if crs == "wgs84":
        return lat, lon
    if crs not in _TO_WGS84:
        raise CoordinateError(f"unknown coordinate system {crs!r}; use one of {', '.join(CRS_CHOICES)}")
    if not _in_china(lat, lon):
        return lat, lon
    c = _TO_WGS84[crs]((lat, lon), False)
    return c.lat, c.lon


def from_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Convert WGS-84 (lat, lon) to `crs` (lat, lon)."""
    check_latlon(lat, lon)
    if crs == "wgs84":
        return lat, lon
    if crs not in _FROM_WGS84:
        raise CoordinateError(f"unknown coordinate system {crs!r}; use one of {', '.join(CRS_CHOICES)}")
    if not _in_china(lat, lon):
        return lat, lon
    c = _FROM_WGS84[crs]((lat, lon), False)
    return c.lat, c.lon


_TO_WGS84 = {"gcj02": prcoords.gcj_wgs_bored, "bd09": prcoords.bd_wgs_bored}
_FROM_WGS84 = {"gcj02": prcoords.wgs_gcj, "bd09": prcoords.wgs_bd}


def _in_china(lat: float, lon: float) -> bool:
    """Whether the GCJ-02 offset applies (the rough box of prcoords; outside, coordinates are left alone)."""
    return prcoords.sanity_in_china_p(prcoords.Coords(lat, lon))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (degrees), on the sphere of the mean Earth
    radius (EARTH_RADIUS_M, 6,371.0088 km). Every coverage figure in Xinye decides "within the radius" with
    this formula (or its array and Polars forms below), boundary included: see `pairs_within`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def haversine_m_array(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Vectorised `haversine_m` (broadcasting numpy arrays of degrees); returns metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def haversine_m_expr(lat1, lon1, lat2, lon2):
    """`haversine_m` on Polars expressions (columns of degrees); an expression of metres. Polars is not
    imported here: the arguments are expressions (pl.col(...)) and only their methods are used."""
    p1, p2 = lat1.radians(), lat2.radians()
    dp, dl = p2 - p1, (lon2 - lon1).radians()
    a = (dp / 2).sin() ** 2 + p1.cos() * p2.cos() * (dl / 2).sin() ** 2
    return a.clip(upper_bound=1.0).sqrt().arcsin() * (2 * EARTH_RADIUS_M)


def pairs_within(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) of every pair of point i of the first set and point j of the second within `radius_m` metres
    by `haversine_m` (boundary included). A k-d tree over unit vectors finds the candidates (chord distance
    grows with the great-circle distance; the chord is widened by a hair so rounding loses none) and the
    haversine formula decides, so that every coverage figure uses the same distance.

    >>> i, j = pairs_within(np.array([22.5, 22.6]), np.array([114.0, 114.0]), np.array([22.5, 22.505]),
    ...                     np.array([114.0, 114.0]), 1000.0)
    >>> list(zip(i.tolist(), j.tolist()))
    [(0, 0), (0, 1)]
    """
    from scipy.spatial import cKDTree

    lat1, lon1 = np.asarray(lat1, float), np.asarray(lon1, float)
    lat2, lon2 = np.asarray(lat2, float), np.asarray(lon2, float)
    if not len(lat1) or not len(lat2):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    chord = chord_of(radius_m) * (1 + 1e-9) + 1e-12
    pairs = cKDTree(unit_vectors(lat1, lon1)).sparse_distance_matrix(
        cKDTree(unit_vectors(lat2, lon2)), chord, output_type="ndarray"
    )
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    keep = haversine_m_array(lat1[i], lon1[i], lat2[j], lon2[j]) <= radius_m
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    return i[order], j[order]


def h3_cell(lat: float, lon: float, resolution: int) -> int:
    """The H3 cell of a WGS-84 point as a signed 64-bit integer (fits a database bigint)."""
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution))


def h3_center(cell: int) -> tuple[float, float]:
    """(lat, lon) of the centre of an H3 cell given as an integer."""
    return h3.cell_to_latlng(h3.int_to_str(cell))


def bbox(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of (lat, lon) points."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


class NearestIndex:
    """Nearest points on the sphere: a k-d tree over unit vectors (chord distance grows with the great-circle
    distance, so the order is exact). Coordinates are WGS-84 (lat, lon) degrees; distances in metres.

    >>> idx = NearestIndex([22.50, 22.60], [114.00, 114.00])
    >>> [int(i) for i in idx.query(22.51, 114.0, k=2)[0]]
    [0, 1]
    """

    def __init__(self, lats, lons):
        from scipy.spatial import cKDTree

        self.size = len(lats)
        self._tree = cKDTree(_unit_vectors(np.asarray(lats, float), np.asarray(lons, float))) if self.size else None

    def query(self, lat: float, lon: float, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """(indices, metres) of the k nearest points, nearest first."""
        check_latlon(lat, lon)
        tree = self._tree
        if tree is None:  # no points
            return np.array([], dtype=int), np.array([])
        k = min(k, self.size)
        chord, idx = tree.query(_unit_vectors(np.array([lat]), np.array([lon]))[0], k=k)
        chord, idx = np.atleast_1d(chord), np.atleast_1d(idx)
        metres = chord_to_m(chord)
        return idx, metres

    def query_many(self, lats, lons, k: int = 5, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Batch `query`: (indices, metres), each of shape (n, min(k, size)), row i nearest first for point i.
        `workers` is passed to cKDTree.query (-1: all cores).

        >>> idx = NearestIndex([22.50, 22.60, 22.70], [114.00, 114.00, 114.00])
        >>> i, m = idx.query_many([22.51, 22.69], [114.0, 114.0], k=2)
        >>> i.tolist(), [round(float(x)) for x in m[:, 0]]
        ([[0, 1], [2, 1]], [1112, 1112])
        >>> idx.query_many([], [], k=2)[0].shape
        (0, 2)
        """
        lats, lons = np.asarray(lats, float).ravel(), np.asarray(lons, float).ravel()
        if lats.shape != lons.shape:
            raise CoordinateError(f"{len(lats)} latitudes but {len(lons)} longitudes")
        bad = ~(np.isfinite(lats) & (np.abs(lats) <= 90.0) & np.isfinite(lons) & (np.abs(lons) <= 180.0))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            check_latlon(float(lats[j]), float(lons[j]))
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        k = min(k, self.size)
        tree = self._tree
        if tree is None or not k or not len(lats):
            return np.empty((len(lats), k), dtype=np.intp), np.empty((len(lats), k))
        chord, idx = tree.query(_unit_vectors(lats, lons), k=k, workers=workers)
        chord, idx = chord.reshape(len(lats), k), idx.reshape(len(lats), k)
        return idx, 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2, 0, 1))


def unit_vectors(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors of WGS-84 points on the sphere: chord length between them grows with the
    great-circle distance, so a k-d tree over them finds nearest points and points within a radius exactly."""
    la, lo = np.radians(lats), np.radians(lons)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


_unit_vectors = unit_vectors


def chord_of(radius_m: float) -> float:
    """Chord length between unit vectors that are `radius_m` metres apart on the sphere."""
    return 2.0 * math.sin(min(radius_m / EARTH_RADIUS_M, math.pi) / 2.0)


def chord_to_m(chord):
    """Great-circle metres of a chord length between unit vectors (scalar or array)."""
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2, 0, 1))
