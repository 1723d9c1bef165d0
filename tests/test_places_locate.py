"""`xinye places locate FILE.csv`: community coordinates, converted to WGS-84 on the way in. Issue #2."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinye.algorithms import geo
from xinye.common.errors import InputError
from xinye.places import services
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db


def _communities(n=2):
    return list(Division.objects.filter(level=Level.COMMUNITY, code__startswith="440305").order_by("code")[:n])


def test_wgs84_rows_are_stored_with_their_h3_cell(tmp_path):
    a, b = _communities()
    f = tmp_path / "loc.csv"
    f.write_text(f"code,lat,lon\n{a.code},22.5333,113.9304\n{b.code},22.54,113.94\n", encoding="utf-8")
    result = services.division_locate(path=f)
    a.refresh_from_db()
    assert result.located == 2
    assert (a.lat, a.lon) == (22.5333, 113.9304)
    assert a.h3_cell == geo.h3_cell(22.5333, 113.9304, 9)
    assert services.division_locate(path=f).unchanged == 2  # a second run changes nothing


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_gcj02_and_bd09_are_converted_to_wgs84(tmp_path, crs):
    (a,) = _communities(1)
    true_lat, true_lon = 22.5333, 113.9304
    shown_lat, shown_lon = geo.from_wgs84(true_lat, true_lon, crs)  # what a Chinese map app would show
    f = tmp_path / "loc.csv"
    f.write_text(f"code,lat,lon\n{a.code},{shown_lat},{shown_lon}\n", encoding="utf-8")
    call_command("places", "locate", str(f), "--crs", crs, verbosity=0)
    a.refresh_from_db()
    assert geo.haversine_m(a.lat, a.lon, true_lat, true_lon) < 1.0


def test_bad_rows_name_file_row_column_and_value_and_nothing_is_written(tmp_path):
    a, b = _communities()
    f = tmp_path / "bad.csv"
    f.write_text(
        "code,lat,lon\n"
        f"{a.code},22.5,113.9\n"  # good, but must not be written because other rows are bad
        f"{b.code},north,113.9\n"
        "440305999999,22.5,113.9\n"
        "12ab,22.5,113.9\n"
        f"{b.code},95,113.9\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        services.division_locate(path=f)
    text = str(exc.value)
    assert f"{f}, row 3, column 'lat': not a number (value 'north')" in text
    assert "row 4, column 'code'" in text and "440305999999" in text
    assert "row 5, column 'code'" in text and "'12ab'" in text
    assert "row 6" in text and "latitude 95.0 is outside" in text
    a.refresh_from_db()
    assert a.location_source != "bad.csv"


def test_missing_columns_are_reported_by_the_command(tmp_path):
    f = tmp_path / "cols.csv"
    f.write_text("code,latitude,longitude\n440305001001,1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"row 1.*missing lat, lon"):
        call_command("places", "locate", str(f), verbosity=0)


def test_dry_run_checks_everything_and_writes_nothing(tmp_path):
    (a,) = _communities(1)
    old = (a.lat, a.lon)
    f = tmp_path / "loc.csv"
    f.write_text(f"code,lat,lon\n{a.code},22.6,114.0\n", encoding="utf-8")
    assert services.division_locate(path=f, dry_run=True).located == 1
    a.refresh_from_db()
    assert (a.lat, a.lon) == old
