"""Placement of new service stations (maximal coverage): hand-checked cases, the certified bound against an
exact MIP (HiGHS), the command line. No database."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinye.algorithms.errors import InputError
from xinye.algorithms.geo import from_wgs84, haversine_m_array
from xinye.algorithms.placement import GREEDY_RATIO, coverage_counts, place

KM = 1 / 111.195  # degrees of latitude in a kilometre (on the sphere of EARTH_RADIUS_M)
LON = 114.0


def line(*km):
    """Points on the meridian 114 E, `km` kilometres north of 22.5 N."""
    return [22.5 + x * KM for x in km], [LON] * len(km)


def picks(result):
    return [(p.candidate, p.rank, p.gain) for p in result.picks]


# ------------------------------------------------------------------------------------ hand-checked


def test_greedy_picks_the_largest_marginal_gain_and_existing_stations_reduce_gains():
    w_lat, w_lon = line(0, 1, 2, 5, 6)
    weight = [5, 3, 4, 6, 1]
    # C0 covers the points at 0 and 1 km (8), C1 at 1 and 2 km (7), C2 at 5 and 6 km (7), C3 at 2 km (4)
    c_lat, c_lon = line(0.5, 1.5, 5.5, 2.0)
    r = place(w_lat, w_lon, weight, [], [], c_lat, c_lon, k=2, radius_m=900, improve=False)
    assert picks(r) == [(0, 1, 8.0), (2, 2, 7.0)]
    assert (r.covered_before, r.covered_after, r.total_weight) == (0.0, 15.0, 19.0)
    r3 = place(w_lat, w_lon, weight, [], [], c_lat, c_lon, k=3, radius_m=900)
    assert picks(r3) == [(0, 1, 8.0), (2, 2, 7.0), (1, 3, 4.0)]  # a tie (C1, C3: 4) goes to the lower index
    assert r3.covered_after == r3.upper_bound == 19.0 and r3.guarantee == 1.0
    # a station at 5.5 km already covers the points at 5 and 6 km: C2 gains nothing any more
    s_lat, s_lon = line(5.5)
    r = place(w_lat, w_lon, weight, s_lat, s_lon, c_lat, c_lon, k=2, radius_m=900)
    assert picks(r) == [(0, 1, 8.0), (1, 2, 4.0)]
    assert (r.covered_before, r.covered_after, r.gain) == (7.0, 19.0, 12.0)
    assert r.upper_bound == 19.0 and r.guarantee == 1.0
    # k larger than needed: picks stop when nothing more can be covered
    r = place(w_lat, w_lon, weight, s_lat, s_lon, c_lat, c_lon, k=4, radius_m=900)
    assert picks(r) == [(0, 1, 8.0), (1, 2, 4.0)] and r.guarantee == 1.0


def test_local_search_repairs_a_greedy_mistake_and_the_bound_proves_it():
    w_lat, w_lon = line(0, 1, 2, 3)
    weight = [3, 4, 4, 3]
    c_lat, c_lon = line(0.5, 1.5, 2.5)  # covers {0, 1 km} = 7, {1, 2 km} = 8, {2, 3 km} = 7
    greedy = place(w_lat, w_lon, weight, [], [], c_lat, c_lon, k=2, radius_m=900, improve=False)
    assert picks(greedy) == [(1, 1, 8.0), (0, 2, 3.0)]  # 11 of a possible 14
    assert greedy.upper_bound >= 14.0 and greedy.guarantee <= 11 / 14 + 1e-12
    assert greedy.guarantee >= GREEDY_RATIO
    best = place(w_lat, w_lon, weight, [], [], c_lat, c_lon, k=2, radius_m=900)
    assert picks(best) == [(0, 1, 7.0), (2, 2, 7.0)]
    assert best.covered_after == best.upper_bound == 14.0 and best.guarantee == 1.0
    assert best.stats["swaps"] >= 1


def test_identical_points_are_aggregated():
    w_lat, w_lon = line(0, 0, 0, 1, 1, 3)
    one = place(w_lat, w_lon, [1, 2, 3, 1, 1, 5], [], [], *line(0.5, 3), k=1, radius_m=900)
    agg = place(*line(0, 1, 3), [6, 2, 5], [], [], *line(0.5, 3), k=1, radius_m=900)
    assert picks(one) == picks(agg) == [(0, 1, 8.0)]
    assert one.stats["worker_rows"] == 6 and one.stats["worker_points"] == 3


def test_coverage_counts_count_sites_within_the_radius():
    w_lat, w_lon = line(0, 1, 5)
    s_lat, s_lon = line(0.5, 0.6, 10)
    assert coverage_counts(w_lat, w_lon, s_lat, s_lon, 900).tolist() == [2, 2, 0]
    assert coverage_counts(w_lat, w_lon, s_lat, s_lon, 450).tolist() == [0, 1, 0]
    assert coverage_counts(w_lat, w_lon, [], [], 900).tolist() == [0, 0, 0]
    assert coverage_counts([], [], s_lat, s_lon, 900).tolist() == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), radius=st.floats(200, 5000))
def test_coverage_counts_agree_with_haversine(seed, radius):
    rng = np.random.default_rng(seed)
    w = rng.uniform([22.4, 113.9], [22.6, 114.1], (60, 2))
    s = rng.uniform([22.4, 113.9], [22.6, 114.1], (15, 2))
    d = haversine_m_array(w[:, 0, None], w[:, 1, None], s[None, :, 0], s[None, :, 1])
    far_from_boundary = (np.abs(d - radius) > 1e-3).all(axis=1)
    got = coverage_counts(w[:, 0], w[:, 1], s[:, 0], s[:, 1], radius)
    assert (got[far_from_boundary] == (d <= radius).sum(axis=1)[far_from_boundary]).all()


def test_edge_cases_give_empty_or_full_answers():
    w_lat, w_lon = line(0, 1)
    r = place(w_lat, w_lon, [1, 1], [], [], [], [], k=3, radius_m=900)
    assert r.picks == [] and r.covered_after == 0 and r.upper_bound == 0 and r.guarantee == 1.0
    r = place(w_lat, w_lon, [1, 1], [], [], *line(0.5), k=0, radius_m=900)
    assert r.picks == [] and r.upper_bound == 0
    r = place(w_lat, w_lon, [1, 1], *line(0.5), *line(0.5), k=2, radius_m=900)  # all covered already
    assert r.picks == [] and r.covered_before == r.covered_after == r.upper_bound == 2
    r = place([], [], [], [], [], *line(0.5), k=2, radius_m=900)
    assert r.picks == [] and r.total_weight == 0 and r.guarantee == 1.0
    r = place(w_lat, w_lon, [0, 0], [], [], *line(0.5), k=1, radius_m=900)
    assert r.picks == [] and r.total_weight == 0


def test_bad_input_names_the_array_index_and_value():
    w_lat, w_lon = line(0, 1)
    with pytest.raises(InputError) as exc:
        place([22.5, math.nan], w_lon, [1, -2], [], [], [95.0], [LON], k=1, radius_m=900)
    text = str(exc.value)
    assert "workers, workers[1], column 'lat': latitude must be within -90..90" in text
    assert "workers[1], column 'weight': weight must be a number >= 0 (value -2.0)" in text
    with pytest.raises(InputError, match="arrays differ in length"):
        place(w_lat, w_lon, [1], [], [], [], [], k=1, radius_m=900)
    with pytest.raises(InputError, match="candidates, candidates\\[0\\], column 'lat'"):
        place(w_lat, w_lon, [1, 1], [], [], [95.0], [LON], k=1, radius_m=900)
    with pytest.raises(InputError, match="k must be a whole number"):
        place(w_lat, w_lon, [1, 1], [], [], [], [], k=-1, radius_m=900)
    with pytest.raises(InputError, match="radius must be"):
        place(w_lat, w_lon, [1, 1], [], [], [], [], k=1, radius_m=0)


def test_to_json_names_the_picks_and_too_many_pairs_are_refused(monkeypatch):
    from xinye.algorithms import placement

    r = place(*line(0, 1, 2, 3), [3, 4, 4, 3], *line(10), *line(0.5, 1.5, 2.5), k=2, radius_m=900)
    j = json.loads(json.dumps(r.to_json(["a", "b", "c"])))
    assert [(p["id"], p["rank"], p["gain"]) for p in j["picks"]] == [("a", 1, 7.0), ("c", 2, 7.0)]
    assert (j["covered_before"], j["covered_after"], j["upper_bound"], j["guarantee"]) == (0, 14, 14, 1.0)
    assert j["share_after"] == 1.0 and j["greedy_ratio"] == pytest.approx(1 - 1 / math.e, abs=1e-6)
    monkeypatch.setattr(placement, "MAX_PAIRS", 5)
    with pytest.raises(InputError, match="6 candidate-worker pairs within 900 m is more than the 5"):
        place(*line(0, 1, 2, 3), [3, 4, 4, 3], [], [], *line(0.5, 1.5, 2.5), k=2, radius_m=900)


def test_progress_reports_stages_and_ends_done():
    calls = []
    place(
        *line(0, 1, 2, 3),
        [3, 4, 4, 3],
        [],
        [],
        *line(0.5, 1.5, 2.5),
        k=2,
        radius_m=900,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    stages = [c[0] for c in calls]
    assert stages[0] == "coverage" and "greedy" in stages and "local search" in stages
    assert calls[-1] == ("done", 1, 1)
    assert all(0 <= done <= total for _, done, total in calls)


# ---------------------------------------------------------------------------- against an exact MIP


def exact_optimum(cover: np.ndarray, weight: np.ndarray, k: int) -> float:
    """max sum w_p y_p  s.t.  y_p <= sum_j cover[p, j] x_j,  sum x_j <= k,  x binary, 0 <= y <= 1 (HiGHS)."""
    import highspy

    n_pts, n_cand = cover.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    n = n_cand + n_pts
    h.addVars(n, np.zeros(n), np.ones(n))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.concatenate([np.zeros(n_cand), weight]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.changeColsIntegrality(
        n_cand, np.arange(n_cand, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n_cand)
    )
    for p in range(n_pts):
        js = np.flatnonzero(cover[p])
        idx = np.concatenate([[n_cand + p], js]).astype(np.int32)
        h.addRow(-highspy.kHighsInf, 0.0, len(idx), idx, np.concatenate([[1.0], -np.ones(len(js))]))
    h.addRow(-highspy.kHighsInf, float(k), n_cand, np.arange(n_cand, dtype=np.int32), np.ones(n_cand))
    h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Optimal"
    return float(h.getInfo().objective_function_value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    n_pts=st.integers(1, 40),
    n_cand=st.integers(1, 14),
    n_stations=st.integers(0, 3),
    k=st.integers(1, 6),
    radius=st.sampled_from([700.0, 1500.0, 3000.0]),
)
def test_against_an_exact_mip_the_bound_holds_and_greedy_keeps_its_guarantee(
    seed, n_pts, n_cand, n_stations, k, radius
):
    rng = np.random.default_rng(seed)
    box = ([22.50, 113.95], [22.56, 114.02])
    w = np.round(rng.uniform(*box, (n_pts, 2)), 4)
    w[rng.random(n_pts) < 0.2] = w[0]  # some workers share a point
    weight = rng.integers(0, 9, n_pts).astype(float)
    c = rng.uniform(*box, (n_cand, 2))
    s = rng.uniform(*box, (n_stations, 2))
    dist_c = haversine_m_array(w[:, 0, None], w[:, 1, None], c[None, :, 0], c[None, :, 1])
    dist_s = haversine_m_array(w[:, 0, None], w[:, 1, None], s[None, :, 0], s[None, :, 1])
    if (np.abs(dist_c - radius) < 1e-3).any() or (np.abs(dist_s - radius) < 1e-3).any():
        return  # a point on a circle's edge: rounding decides
    before = float(weight[(dist_s <= radius).any(axis=1)].sum())
    free = np.where((dist_s <= radius).any(axis=1), 0.0, weight)
    opt = before + exact_optimum(dist_c <= radius, free, min(k, n_cand))
    args = (w[:, 0], w[:, 1], weight, s[:, 0], s[:, 1], c[:, 0], c[:, 1])
    greedy = place(*args, k=k, radius_m=radius, improve=False)
    best = place(*args, k=k, radius_m=radius)
    for r in (greedy, best):
        chosen = r.candidates
        assert len(set(chosen)) == len(chosen) <= k
        assert [p.rank for p in r.picks] == list(range(1, len(chosen) + 1))
        assert all(p.gain > 0 for p in r.picks)
        assert r.covered_before == pytest.approx(before)
        # the reported coverage is the real one, and the gains add up to it
        real = float(weight[(dist_s <= radius).any(axis=1) | (dist_c[:, chosen] <= radius).any(axis=1)].sum())
        assert r.covered_after == pytest.approx(real)
        assert sum(p.gain for p in r.picks) == pytest.approx(r.gain)
        # certified: the optimum is within the bound, and the choice within the guarantee of the optimum
        assert r.covered_after <= opt + 1e-9
        assert opt <= r.upper_bound + 1e-6
        assert r.gain >= r.guarantee * (opt - before) - 1e-6
    assert greedy.gain >= GREEDY_RATIO * (opt - before) - 1e-9
    assert best.covered_after >= greedy.covered_after - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_improved_choice_is_within_half_a_percent_of_the_optimum(seed):
    rng = np.random.default_rng(seed)
    box = ([22.50, 113.95], [22.60, 114.08])
    w, c = rng.uniform(*box, (300, 2)), rng.uniform(*box, (60, 2))
    weight = rng.integers(1, 10, 300).astype(float)
    dist = haversine_m_array(w[:, 0, None], w[:, 1, None], c[None, :, 0], c[None, :, 1])
    opt = exact_optimum(dist <= 1500, weight, 8)
    r = place(w[:, 0], w[:, 1], weight, [], [], c[:, 0], c[:, 1], k=8, radius_m=1500)
    assert 0.995 * opt <= r.covered_after <= opt <= r.upper_bound + 1e-6
    assert r.guarantee >= 0.99


# ----------------------------------------------------------------------------------- command line


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path):
    w_lat, _ = line(0, 1, 2, 3)
    c_lat, _ = line(0.5, 1.5, 2.5)
    s_lat, _ = line(10)
    return (
        write_csv(
            tmp_path / "workers.csv",
            ["id", "lat", "lon", "weight"],
            [(f"w{i}", lat, LON, wt) for i, (lat, wt) in enumerate(zip(w_lat, [3, 4, 4, 3], strict=True))],
        ),
        write_csv(tmp_path / "stations.csv", ["id", "lat", "lon"], [("s0", s_lat[0], LON)]),
        write_csv(
            tmp_path / "candidates.csv", ["id", "lat", "lon"], [(f"c{i}", lat, LON) for i, lat in enumerate(c_lat)]
        ),
    )


def test_cli_writes_picks_and_summary(files, tmp_path):
    out, summary = tmp_path / "picks.csv", tmp_path / "s.json"
    call_command(
        "stations",
        "place",
        *map(str, files),
        "-k",
        "2",
        "--radius-km",
        "0.9",
        "-o",
        str(out),
        "--summary",
        str(summary),
        verbosity=0,
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["id"], r["rank"], float(r["gain"])) for r in rows] == [("c0", "1", 7.0), ("c2", "2", 7.0)]
    s = json.loads(summary.read_text(encoding="utf-8"))
    assert (s["covered_before"], s["covered_after"], s["upper_bound"], s["guarantee"]) == (0, 14, 14, 1.0)
    assert s["picks"] == ["c0", "c2"] and s["total_weight"] == 14


def test_cli_reads_gcj02_coordinates(files, tmp_path):
    converted = []
    for path in files:
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        for r in rows:
            r["lat"], r["lon"] = from_wgs84(float(r["lat"]), float(r["lon"]), "gcj02")
        converted.append(write_csv(tmp_path / f"gcj-{path.name}", list(rows[0]), [list(r.values()) for r in rows]))
    out = tmp_path / "picks.csv"
    call_command(
        "stations", "place", *map(str, converted), "-k", "2", "--radius-km", "0.9", "-o", str(out), "--crs", "gcj02"
    )
    assert [r["id"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["c0", "c2"]


def test_cli_bad_rows_name_file_row_column_and_value_and_write_nothing(files, tmp_path):
    workers, stations, candidates = map(str, files)
    out, summary = tmp_path / "picks.csv", tmp_path / "s.json"
    bad = write_csv(
        tmp_path / "bad.csv",
        ["id", "lat", "lon"],
        [
            ("c0", "22.5", "114"),
            ("c1", "north", "114"),
            ("c0", "22.6", "114"),
            ("c3", "91", "114"),
            ("", "22", "114"),
        ],
    )
    with pytest.raises(CommandError) as exc:
        call_command(
            "stations", "place", workers, stations, str(bad), "-k", "2", "-o", str(out), "--summary", str(summary)
        )
    text = str(exc.value)
    assert "4 error(s) in" in text and "nothing was written" in text
    assert "bad.csv, row 3, column 'lat': not a number (value 'north')" in text
    assert "bad.csv, row 4, column 'id': duplicate id (first on row 2) (value 'c0')" in text
    assert "bad.csv, row 5, column 'lat': latitude must be within -90..90 (value '91')" in text
    assert "bad.csv, row 6, column 'id': id is required" in text
    assert not out.exists() and not summary.exists()
    heavy = write_csv(tmp_path / "w.csv", ["id", "lat", "lon", "weight"], [("w0", "22.5", "114", "-3")])
    with pytest.raises(
        CommandError, match=r"w.csv, row 2, column 'weight': weight must be a number >= 0 \(value '-3'\)"
    ):
        call_command("stations", "place", str(heavy), stations, candidates, "-k", "2", "-o", str(out))
    no_lon = write_csv(tmp_path / "nolon.csv", ["id", "lat"], [("s", "22.5")])
    with pytest.raises(CommandError, match=r"nolon.csv, row 1: header must name id, lat, lon; missing lon"):
        call_command("stations", "place", workers, str(no_lon), candidates, "-k", "2", "-o", str(out))
    with pytest.raises(CommandError, match="-k -1"):
        call_command("stations", "place", workers, stations, candidates, "-k", "-1", "-o", str(out))
    with pytest.raises(CommandError, match="cannot write"):
        call_command(
            "stations", "place", workers, stations, candidates, "-k", "1", "-o", str(tmp_path / "no" / "p.csv")
        )
    assert not out.exists() and not summary.exists()
