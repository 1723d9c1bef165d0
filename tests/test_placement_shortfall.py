"""Issue 16, defect 10: a placement that picks fewer sites than asked says why, on the page, in the CLI and in
the JSON summary ("10 new stations" with 2 listed and no word why)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from xinye.algorithms import geo
from xinye.algorithms.placement import place
from xinye.stations import coverage
from xinye.stations.models import PlacementRun

from .test_placement import LON, files, line, write_csv  # noqa: F401  (files is a fixture)


def test_the_summary_says_why_fewer_sites_were_picked():
    w_lat, w_lon = line(0, 1, 5)
    c_lat, c_lon = line(0.5, 5.0, 20)  # the third candidate reaches nobody
    full = place(w_lat, w_lon, [1, 1, 1], [], [], c_lat, c_lon, k=2, radius_m=900)
    assert len(full.picks) == 2 and full.summary()["stop_reason"] is None
    more = place(w_lat, w_lon, [1, 1, 1], [], [], c_lat, c_lon, k=3, radius_m=900)
    assert len(more.picks) == 2 and more.summary()["stop_reason"] == "no_more_gain"
    few = place(w_lat, w_lon, [1, 1, 1], [], [], c_lat[:2], c_lon[:2], k=5, radius_m=900)
    assert len(few.picks) == 2 and few.summary()["stop_reason"] == "few_candidates"
    assert few.to_json(["a", "b"])["stop_reason"] == "few_candidates"


def test_the_cli_says_how_many_of_those_requested_and_why(files, tmp_path):  # noqa: F811
    workers, stations, _ = map(str, files)
    # four workers; three candidates between them, one 20 km away that reaches no one
    c_lat, _ = line(0.5, 1.5, 2.5, 20)
    candidates = write_csv(tmp_path / "c.csv", ["id", "lat", "lon"], [(f"c{i}", y, LON) for i, y in enumerate(c_lat)])
    out, summary = tmp_path / "picks.csv", tmp_path / "s.json"
    stdout = io.StringIO()
    call_command(
        "stations", "place", workers, stations, str(candidates), "-k", "4", "--radius-km", "0.9", "-o", str(out),
        "--summary", str(summary), stdout=stdout, verbosity=0,
    )  # fmt: skip
    assert "3 of the 4 new stations requested: each further station would reach no additional worker" in (
        stdout.getvalue()
    )
    assert json.loads(summary.read_text(encoding="utf-8"))["stop_reason"] == "no_more_gain"
    stdout = io.StringIO()
    call_command(
        "stations", "place", *map(str, files), "-k", "5", "--radius-km", "0.9", "-o", str(out),
        stdout=stdout, verbosity=0,
    )  # fmt: skip
    assert "3 of the 5 new stations requested: there are only 3 candidate sites" in stdout.getvalue()


@pytest.mark.django_db
def test_the_placement_page_says_plainly_why_fewer_sites_are_listed(login, settings):
    settings.XINYE_JOBS_INLINE = True
    client = login("organizer")
    # one candidate where workers no station reaches are, one far from every worker
    report = coverage.coverage_report(division_code="4403", minutes=15, mode="ebike")
    cell, _n = report["uncovered_cells"][0]
    lat, lon = geo.h3_center(cell)
    body = f"id,lat,lon,name\nA,{lat},{lon},site A\nB,40.0,100.0,site B\n".encode()

    def run(k: int) -> str:
        response = client.post(
            "/stations/placement/",
            {"division": "4403", "k": k, "minutes": 15, "mode": "ebike", "source": "upload",
             "file": SimpleUploadedFile("c.csv", body)},
        )  # fmt: skip
        assert response.status_code == 302
        run = PlacementRun.objects.latest("pk")
        return client.get(f"/stations/placement/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    page = run(10)
    assert "1 new station sites in" in page and "10 new station sites" not in page
    assert page.count("data-pick") == 1
    assert "1 of the 10 requested: each further site would reach no additional worker within 3750 m" in page
    # a run that picks all it was asked for says nothing of the kind
    page = run(1)
    assert "data-shortfall" not in page and page.count("data-pick") == 1
