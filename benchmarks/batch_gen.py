"""Workers and stations for `xinye indicators batch` (issue 15, item 5): N workers in several Parquet files,
clustered around the centres of real cities, and S stations (Parquet or CSV), optionally members.

    python benchmarks/batch_gen.py --workers 20000000 --stations 200000 --files 8 --out var/batch

Workers: around 40 city centres (WGS-84, rounded), a mix of a dense core (sd 4 km) and a wider spread
(sd 12 km); each city has 2,000 communities (12-digit codes: city, district, street, community) at random
places in the same mix, and a worker belongs to the community nearest in the generator's grid. Stations:
mostly at random workers' places (where workers are), some at random places in the city; 15 % open 24 h.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CITIES = [  # (4-digit code, lat, lon) of city centres, WGS-84
    ("1101", 39.904, 116.407),
    ("3101", 31.230, 121.474),
    ("4401", 23.129, 113.264),
    ("4403", 22.543, 114.058),
    ("5101", 30.573, 104.066),
    ("5000", 29.563, 106.551),
    ("4201", 30.593, 114.305),
    ("3301", 30.274, 120.155),
    ("3201", 32.060, 118.797),
    ("6101", 34.341, 108.940),
    ("1201", 39.084, 117.201),
    ("4301", 28.228, 112.939),
    ("4101", 34.747, 113.625),
    ("3702", 36.067, 120.383),
    ("2102", 38.914, 121.615),
    ("3502", 24.480, 118.089),
    ("2101", 41.805, 123.431),
    ("3701", 36.651, 117.120),
    ("2301", 45.803, 126.535),
    ("2201", 43.817, 125.324),
    ("5301", 24.880, 102.833),
    ("4501", 22.817, 108.367),
    ("3501", 26.075, 119.306),
    ("3401", 31.821, 117.227),
    ("3601", 28.683, 115.858),
    ("1301", 38.042, 114.515),
    ("1401", 37.870, 112.549),
    ("6201", 36.061, 103.834),
    ("5201", 26.647, 106.630),
    ("4601", 20.044, 110.199),
    ("6501", 43.825, 87.617),
    ("1501", 40.842, 111.749),
    ("6401", 38.487, 106.231),
    ("6301", 36.617, 101.778),
    ("5401", 29.652, 91.172),
    ("4419", 23.021, 113.751),
    ("4406", 23.022, 113.122),
    ("3205", 31.299, 120.585),
    ("3302", 29.868, 121.544),
    ("3203", 34.205, 117.285),
]
OCCUPATIONS = ["courier", "delivery_rider", "ride_hailing_driver", "truck_driver", "domestic_worker", "other"]
OCC_P = [0.25, 0.35, 0.2, 0.08, 0.07, 0.05]
PLATFORMS = ["meituan", "eleme", "sf", "jd", "didi", "huolala", "other"]
COMMUNITIES_PER_CITY = 2000


def _offsets(rng, n, lat0):
    """Offsets (dlat, dlon) in degrees: 60 % core (sd 4 km), 40 % wide (sd 12 km)."""
    sd_km = np.where(rng.random(n) < 0.6, 4.0, 12.0)
    dy = rng.normal(0, 1, n) * sd_km / 111.0
    dx = rng.normal(0, 1, n) * sd_km / (111.0 * np.cos(np.radians(lat0)))
    return dy, dx


def communities(rng):
    """Per city: the community codes and positions (code: city 4 + district 2 + street 3 + community 3)."""
    out = []
    for code, lat0, lon0 in CITIES:
        dy, dx = _offsets(rng, COMMUNITIES_PER_CITY, lat0)
        k = np.arange(COMMUNITIES_PER_CITY)
        codes = [
            f"{code}{1 + d:02d}{1 + s:03d}{1 + c:03d}" for d, s, c in zip(k // 200, (k // 20) % 10, k % 20, strict=True)
        ]
        out.append((codes, lat0 + dy, lon0 + dx))
    return out


def write_workers(out: Path, n: int, files: int, seed: int, row_group: int = 1_000_000, members_share: float = 0.0):
    rng = np.random.default_rng(seed)
    comms = communities(rng)
    all_codes = np.array([c for codes, _, _ in comms for c in codes])
    c_lat = np.concatenate([la for _, la, _ in comms])
    c_lon = np.concatenate([lo for _, _, lo in comms])
    city_w = rng.dirichlet(np.full(len(CITIES), 2.0))
    out.mkdir(parents=True, exist_ok=True)
    per_file = -(-n // files)
    next_id = 1
    members = []
    schema = pa.schema([("id", pa.int64()), ("lat", pa.float64()), ("lon", pa.float64()),
                        ("occupation", pa.string()), ("platform", pa.string()), ("division", pa.string())])  # fmt: skip
    for f in range(files):
        left = min(per_file, n - f * per_file)
        if left <= 0:
            break
        with pq.ParquetWriter(out / f"workers-{f:03d}.parquet", schema, compression="zstd") as w:
            while left > 0:
                m = min(row_group, left)
                city = rng.choice(len(CITIES), size=m, p=city_w)
                # each worker at a random community of the city, scattered 300 m around it
                comm = city * COMMUNITIES_PER_CITY + rng.integers(0, COMMUNITIES_PER_CITY, m)
                lat = c_lat[comm] + rng.normal(0, 0.3 / 111.0, m)
                lon = c_lon[comm] + rng.normal(0, 0.3 / 111.0, m) / np.cos(np.radians(c_lat[comm]))
                occ = rng.choice(len(OCCUPATIONS), size=m, p=OCC_P)
                plat = rng.integers(0, len(PLATFORMS), m)
                ids = np.arange(next_id, next_id + m, dtype=np.int64)
                next_id += m
                table = pa.table(
                    {
                        "id": ids,
                        "lat": lat,
                        "lon": lon,
                        "occupation": pa.DictionaryArray.from_arrays(occ.astype(np.int32), OCCUPATIONS).cast(
                            pa.string()
                        ),
                        "platform": pa.DictionaryArray.from_arrays(plat.astype(np.int32), PLATFORMS).cast(pa.string()),
                        "division": pa.DictionaryArray.from_arrays(comm.astype(np.int32), all_codes.tolist()).cast(
                            pa.string()
                        ),
                    },
                    schema=schema,
                )
                w.write_table(table, row_group_size=row_group)
                if members_share > 0:
                    pick = rng.random(m) < members_share
                    status = np.where(rng.random(int(pick.sum())) < 0.8, "formal", "probationary")
                    members.append((ids[pick], status))
                left -= m
    if members_share > 0:
        pq.write_table(
            pa.table(
                {
                    "id": np.concatenate([a for a, _ in members]).astype(str),
                    "status": np.concatenate([b for _, b in members]),
                }
            ),  # fmt: skip
            out.parent / "members.parquet",
        )
    return c_lat, c_lon


def write_stations(path: Path, s: int, seed: int, c_lat, c_lon):
    rng = np.random.default_rng(seed + 1)
    k = rng.integers(0, len(c_lat), s)
    near = rng.random(s) < 0.8  # 80 % near a community, 20 % anywhere in its city
    spread = np.where(near, 0.5, 8.0) / 111.0
    lat = c_lat[k] + rng.normal(0, 1, s) * spread
    lon = c_lon[k] + rng.normal(0, 1, s) * spread / np.cos(np.radians(c_lat[k]))
    table = pa.table({"id": np.arange(1, s + 1), "lat": lat, "lon": lon, "open_24h": rng.random(s) < 0.15})
    if str(path).endswith(".csv"):
        import pyarrow.csv as pc

        pc.write_csv(table, path)
    else:
        pq.write_table(table, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1_000_000)
    ap.add_argument("--stations", type=int, default=20_000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument(
        "--members-share", type=float, default=0.0, help="share of workers who are members (members.parquet)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("var/batch"))
    a = ap.parse_args(argv)
    t = time.perf_counter()
    c_lat, c_lon = write_workers(a.out / "workers", a.workers, a.files, a.seed, members_share=a.members_share)
    write_stations(a.out / "stations.parquet", a.stations, a.seed, c_lat, c_lon)
    print(f"{a.workers:,} workers in {a.files} files and {a.stations:,} stations in {a.out} "
          f"({time.perf_counter() - t:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
