"""`xinye indicators batch`: station coverage of the country from files (issue 15, items 5 and 6)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from django.core.management import CommandError, call_command

from xinye.algorithms import coverage_batch as cb
from xinye.algorithms import geo
from xinye.algorithms.branches import Community, Member, form_branches
from xinye.algorithms.errors import InputError

CENTRES = [("4403", 22.543, 114.058), ("1101", 39.904, 116.407), ("6501", 43.825, 87.617)]
OCCS = ["courier", "delivery_rider", "ride_hailing_driver"]


def _workers(rng, n):
    city = rng.integers(0, len(CENTRES), n)
    lat0 = np.array([c[1] for c in CENTRES])[city]
    lon0 = np.array([c[2] for c in CENTRES])[city]
    lat = lat0 + rng.normal(0, 6 / 111, n)
    lon = lon0 + rng.normal(0, 6 / 111, n) / np.cos(np.radians(lat0))
    comm = rng.integers(0, 30, n)
    division = [f"{CENTRES[c][0]}{1 + k // 10:02d}001{1 + k % 10:03d}" for c, k in zip(city, comm, strict=True)]
    return pl.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "lat": lat,
            "lon": lon,
            "occupation": [OCCS[i] for i in rng.integers(0, 3, n)],
            "platform": ["meituan"] * n,
            "division": division,
        }
    )


def _stations(rng, workers: pl.DataFrame, n):
    pick = rng.integers(0, len(workers), n)
    lat = workers["lat"].to_numpy()[pick] + rng.normal(0, 2 / 111, n)
    lon = workers["lon"].to_numpy()[pick] + rng.normal(0, 2 / 111, n)
    return pl.DataFrame({"id": np.arange(n), "lat": lat, "lon": lon, "open_24h": rng.random(n) < 0.3})


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(7)
    w = _workers(rng, 30_000)
    d = tmp_path / "workers"
    d.mkdir()
    for i, lo in enumerate(range(0, len(w), 10_000)):
        w.slice(lo, 10_000).write_parquet(d / f"part-{i}.parquet", row_group_size=4_000)
    s = _stations(rng, w, 400)
    s.write_csv(tmp_path / "stations.csv")
    return w, s, d, tmp_path / "stations.csv"


def _reference(w: pl.DataFrame, s: pl.DataFrame, radius_m: float) -> pl.DataFrame:
    """The exact k-d tree count (unit vectors, the chord of the radius), by division and occupation."""
    cov, cov24 = cb.kdtree_counts(w["lat"], w["lon"], s["lat"], s["lon"], s["open_24h"], radius_m)
    return (
        w.with_columns(pl.Series("covered", cov), pl.Series("covered_24h", cov24))
        .group_by("division", "occupation")
        .agg(
            pl.len().cast(pl.Int64).alias("workers"),
            pl.col("covered").sum().cast(pl.Int64),
            pl.col("covered_24h").sum().cast(pl.Int64),
        )
        .sort("division", "occupation")
    )


def test_the_batch_equals_an_exact_kdtree_count_and_the_single_process_query(files):
    w, s, d, s_path = files
    result = cb.run_batch(d, s_path, radius_km=1.5, rows_per_task=5_000)
    ref = _reference(w, s, 1500.0)
    assert result.stats["tasks"] == 6  # two groups of row groups per file
    assert result.coverage.equals(ref)
    assert 0 < ref["covered"].sum() < len(w) and 0 < ref["covered_24h"].sum() < ref["covered"].sum()
    assert cb.single_process(str(d / "*.parquet"), s_path, radius_km=1.5).equals(ref)
    # another radius: the cell tables follow it
    assert cb.run_batch(d, s_path, radius_km=0.4).coverage.equals(_reference(w, s, 400.0))


def test_the_boundary_is_decided_by_the_haversine_helper(tmp_path):
    # workers due north of a station at 1,500 m minus / plus a centimetre
    lat0, lon0 = 30.0, 120.0
    dlat = np.degrees(np.array([1499.99, 1500.01, 1499.0]) / geo.EARTH_RADIUS_M)
    w = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "lat": lat0 + dlat,
            "lon": [lon0] * 3,
            "occupation": ["courier"] * 3,
            "platform": ["x"] * 3,
            "division": ["330100001001", "330100001002", "330100001003"],
        }  # fmt: skip
    )
    w.write_parquet(tmp_path / "w.parquet")
    pl.DataFrame({"id": [1], "lat": [lat0], "lon": [lon0], "open_24h": [True]}).write_parquet(tmp_path / "s.parquet")
    cov = cb.run_batch(tmp_path / "w.parquet", tmp_path / "s.parquet", radius_km=1.5).coverage
    assert cov["covered"].to_list() == [1, 0, 1] and cov["covered_24h"].to_list() == [1, 0, 1]
    d = [geo.haversine_m(lat0, lon0, la, lon0) for la in lat0 + dlat]
    assert [x <= 1500 for x in d] == [True, False, True]


def test_the_command_on_a_local_dask_cluster_writes_coverage_and_branch_plans(files, tmp_path):
    w, s, d, s_path = files
    rng = np.random.default_rng(3)
    members = w.filter(pl.col("occupation").is_in(["courier", "delivery_rider"])).sample(3_000, seed=3)
    members = members.select(
        pl.col("id").cast(pl.String), pl.Series("status", np.where(rng.random(3_000) < 0.8, "formal", "probationary"))
    )
    members.write_csv(tmp_path / "members.csv")
    out = tmp_path / "out"
    call_command(
        "indicators", "batch", "--workers", str(d), "--stations", str(s_path), "--out", str(out),
        "--members", str(tmp_path / "members.csv"), "--rows-per-task", "5000", verbosity=0,
    )  # fmt: skip
    cov = pl.read_csv(out / "coverage.csv", schema_overrides={"division": pl.String})
    assert cov.equals(_reference(w, s, 1500.0))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workers"] == len(w) and summary["cities"] == 3
    # the plan of a city is what form_branches gives on the same communities and members
    plan = json.loads((out / "branches" / "440300000000.json").read_text())
    city = w.filter(pl.col("division").str.starts_with("4403"))
    centres = city.group_by("division").agg(pl.col("lat").mean(), pl.col("lon").mean())
    mem = city.with_columns(pl.col("id").cast(pl.String)).join(members, on="id").sort("id")
    used = set(mem["division"].to_list())
    comms = [Community(c, la, lo, c[:9] + "000") for c, la, lo in centres.sort("division").iter_rows() if c in used]
    ms = [Member(i, c, st, o) for i, c, o, st in mem.select("id", "division", "occupation", "status").iter_rows()]
    expect = form_branches(comms, ms, floor=3, cap=50, radius_km=3.0).to_json()
    assert [b["communities"] for b in plan["branches"]] == [b["communities"] for b in expect["branches"]]
    assert sorted(m for b in plan["branches"] for m in b["members"]) == sorted(
        m for b in expect["branches"] for m in b["members"]
    )
    lines = (out / "branches.csv").read_text().splitlines()
    assert lines[0] == "city,branch,anchor,communities,members" and len(lines) == 1 + summary["branches"]


def _write(tmp_path, **changes):
    w = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "lat": [22.5, 22.51, 22.52],
            "lon": [114.0] * 3,
            "occupation": ["courier"] * 3,
            "platform": ["x"] * 3,
            "division": ["440304001001"] * 3,
        }  # fmt: skip
    )
    for k, v in changes.items():
        w = w.drop(k) if v is None else w.with_columns(pl.Series(k, v))
    w.write_parquet(tmp_path / "w.parquet")
    pl.DataFrame({"id": [1], "lat": [22.5], "lon": [114.0], "open_24h": ["yes"]}).write_csv(tmp_path / "s.csv")
    return tmp_path / "w.parquet", tmp_path / "s.csv"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"division": None}, "w.parquet, column 'division': missing column"),
        ({"division": ["440304001001", "4403", "440304001001"]}, "w.parquet, data row 2, column 'division'"),
        ({"lat": [22.5, 22.5, 91.0]}, "w.parquet, data row 3, column 'lat': not a lat in degrees"),
        ({"lon": [114.0, float("nan"), 114.0]}, "w.parquet, data row 2, column 'lon'"),
    ],
)
def test_bad_workers_are_refused_naming_file_row_column_and_value(tmp_path, changes, expected):
    w, s = _write(tmp_path, **changes)
    with pytest.raises(InputError) as e:
        cb.run_batch(w, s)
    assert expected in str(e.value)
    if "data row" in expected:
        assert "value" in str(e.value)


def test_bad_stations_and_arguments_are_refused(tmp_path):
    w, s = _write(tmp_path)
    s.write_text("id,lat,lon,open_24h\n1,22.5,114.0,yes\n2,22.5,214.0,no\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"s\.csv, row 3, column 'lon'.*value '214\.0'"):
        cb.run_batch(w, s)
    s.write_text("id,lat,lon,open_24h\n1,22.5,114.0,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2, column 'open_24h'.*'maybe'"):
        cb.run_batch(w, s)
    s.write_text("id,lat,lon\n1,22.5,114.0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'open_24h': missing column"):
        cb.run_batch(w, s)
    with pytest.raises(InputError, match="no Parquet files"):
        cb.run_batch(tmp_path / "nothing-*.parquet", s)
    with pytest.raises(CommandError, match="radius-km"):
        call_command("indicators", "batch", "--workers", str(w), "--stations", str(s), "--out", str(tmp_path / "o"),
                     "--radius-km", "0", "--local", verbosity=0)  # fmt: skip


@pytest.mark.django_db
def test_the_batch_equals_the_in_database_coverage_of_the_demo_city(tmp_path):
    """The demo city's workers (at their work cells' centres, as the indicator counts them) and open stations
    as files: the same covered counts overall, by occupation, by district and at night."""
    from xinye.people.models import Person
    from xinye.stations import coverage
    from xinye.stations.models import Station, StationStatus
    from xinye.stations.services import is_open

    city = "4403"
    report = coverage.coverage_report(division_code=city, minutes=6, mode="ebike")  # 6 min at 15 km/h: 1.5 km
    assert report["radius_m"] == pytest.approx(1500)
    rows = list(
        Person.objects.filter(work_cell__isnull=False, work_community__code__startswith=city).values_list(
            "id", "work_cell", "occupation", "work_community__code"
        )
    )
    centres = [geo.h3_center(r[1]) for r in rows]
    pl.DataFrame(
        {
            "id": [r[0] for r in rows],
            "lat": [c[0] for c in centres],
            "lon": [c[1] for c in centres],
            "occupation": [r[2] for r in rows],
            "platform": [""] * len(rows),
            "division": [r[3] for r in rows],
        }
    ).write_parquet(tmp_path / "w.parquet")
    night = coverage.night_moment()
    st = list(Station.objects.filter(status=StationStatus.OPEN))
    pl.DataFrame(
        {
            "id": [s.pk for s in st],
            "lat": [s.lat for s in st],
            "lon": [s.lon for s in st],
            "open_24h": [is_open(s.opening_hours, night) for s in st],
        }
    ).write_parquet(tmp_path / "s.parquet")
    cov = cb.run_batch(tmp_path / "w.parquet", tmp_path / "s.parquet", radius_km=1.5).coverage
    assert report["workers"] == cov["workers"].sum() > 0
    assert 0 < report["covered"] == cov["covered"].sum() < report["workers"]
    assert report["night_covered"] == cov["covered_24h"].sum()
    by_occ = dict(cov.group_by("occupation").agg(pl.col("covered").sum()).iter_rows())
    assert {r["key"]: r["covered"] for r in report["by_occupation"]} == by_occ
    by_district = cov.group_by(pl.col("division").str.slice(0, 6)).agg(pl.col("covered").sum())
    assert {r["key"]: r["covered"] for r in report["by_district"]} == dict(by_district.iter_rows())
