"""Every CSV and .xlsx file Xinye writes is inert: a name that starts like a formula is text. Issue 10, part 5.

The URL test enumerates the URLconf, so a new export (a name with export/download/template, or an address
ending in .csv/.xlsx) fails here until it has a case; the source test fails on any CSV or .xlsx writer that
does not go through `xinye.algorithms.tabular`.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from xinye.algorithms import tabular
from xinye.algorithms.tabular import FORMULA_TRIGGERS, csv_value_read, inert_csv_value

PLANTED = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tX", "\rX"]
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _live(text: str) -> bool:
    """Whether a spreadsheet would read this field or cell text as a formula."""
    return bool(text) and text[0] in FORMULA_TRIGGERS and not NUMBER.fullmatch(text)


def assert_inert_csv(data: bytes) -> list[str]:
    fields = [f for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for f in row]
    live = [f for f in fields if _live(f)]
    assert not live, f"CSV fields a spreadsheet would run: {live[:5]}"
    return fields


def assert_inert_xlsx(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    if _live(cell.value):
                        assert cell.data_type == "s" and cell.quotePrefix, f"{ws.title}!{cell.coordinate}"
    return texts


# ---------------------------------------------------------------- the rule itself


@pytest.mark.parametrize("name", PLANTED)
def test_a_formula_like_value_is_quoted_and_reads_back_unchanged(name):
    quoted = inert_csv_value(name)
    assert quoted == "'" + name and csv_value_read(quoted) == name


@pytest.mark.parametrize("value", [-2, -2.5, "-2.5", "+86", "1e5", "王小明", "", "'quoted", None, 0])
def test_numbers_and_plain_text_are_left_alone(value):
    assert inert_csv_value(value) == value
    if isinstance(value, str):
        assert csv_value_read(value) == value


def test_quoting_stays_reversible_for_values_that_already_start_with_a_quote():
    for value in ["'=x", "''=x", "'+1"]:
        assert csv_value_read(inert_csv_value(value)) == value


# ---------------------------------------------------------------- every export address


def _urlconf_exports(patterns=None, prefix=""):
    """(name, route) of every URL that serves a file: by name or by the address's extension."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _urlconf_exports(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = p.name or ""
            if re.search(r"export|download|template", name) or re.search(r"csv|xlsx", route):
                yield name, route


@pytest.fixture
def planted(db):
    """Formula-like names in stations, in business units of the staff's company, and in placement sites."""
    from xinye.accounts.models import Role
    from xinye.organizations.models import BusinessUnit
    from xinye.places.models import Division, Level
    from xinye.stations.models import PlacementRun, Station

    stations = list(Station.objects.order_by("pk")[: len(PLANTED)])
    for station, name in zip(stations, PLANTED, strict=True):
        Station.objects.filter(pk=station.pk).update(name=name, operator_name=name, opening_hours="24/7")
    company = Role.objects.get(user__username="staff").organization.company
    units = list(BusinessUnit.objects.filter(company=company, valid_until__isnull=True).order_by("pk")[1:])
    for unit, name in zip(units, PLANTED, strict=False):
        BusinessUnit.objects.filter(pk=unit.pk).update(name=name)
    city = Division.objects.filter(level=Level.CITY).first()
    run = PlacementRun.objects.create(
        division=city,
        k=len(PLANTED),
        minutes=15,
        mode="ebike",
        radius_m=3000,
        source=PlacementRun.Source.UPLOAD,
        result={
            "picks": [
                {"id": n, "name": n, "lat": 22.5, "lon": 114.0, "rank": i + 1, "gain": 1.0, "covered": 1}
                for i, n in enumerate(PLANTED)
            ],
            "summary": {"total_weight": 1},
        },
    )
    return {"company": company, "run": run}


def _cases(planted):
    """How to fetch each export: name -> [(user, kwargs, query)]; a new export needs a line here."""
    from xinye.volunteering.models import Activity, Team

    company, run = planted["company"], planted["run"]
    team, activity = Team.objects.order_by("pk").first(), Activity.objects.order_by("pk").first()
    report = _planted_report()
    return {
        "team_hours_export": [("admin", {"pk": team.pk, "fmt": f}, "") for f in ("csv", "xlsx")],
        "activity_hours_export": [("admin", {"pk": activity.pk, "fmt": f}, "") for f in ("csv", "xlsx")],
        "station_export": [("admin", {"fmt": f}, "") for f in ("csv", "xlsx", "geojson")],
        "station_template": [("admin", {}, "")],
        "roster_template": [("admin", {"fmt": f}, "") for f in ("csv", "xlsx")],
        "company_business": [("staff", {"pk": company.pk}, "")],
        "station_placement_export": [("admin", {"pk": run.pk}, "")],
        "station_placement_detail": [("admin", {"pk": run.pk}, "?format=csv")],
        "organization_export": [("admin", {"pk": company.organizations.first().pk, "fmt": "ttl"}, "")],
        # the kept copy (admin) and one built for a reader from outside (the district organizer: the city)
        "indicator_report_download": [
            (user, {"pk": report.pk, "fmt": f}, "") for user in ("admin", "district") for f in ("xlsx", "pdf")
        ],
    }


def _planted_report():
    """The demo city's monthly report, with a formula-like name in each of its districts (the divisions below)."""
    from django.utils import timezone

    from xinye.accounts.scope import Scope
    from xinye.places.models import Division
    from xinye.reports import services

    districts = list(Division.objects.filter(parent__code="4403").order_by("code"))
    for district, name in zip(districts, PLANTED, strict=False):
        Division.objects.filter(pk=district.pk).update(name=name)
    return services.monthly_report_create(
        scope=Scope(user_id=None, is_admin=True), division_code="4403", period=timezone.localdate().replace(day=1)
    )


def test_every_export_in_the_urlconf_writes_no_live_formula(planted, login):
    from django.urls import reverse

    cases = _cases(planted)
    found = dict(_urlconf_exports())
    missing = sorted(set(found) - set(cases))
    assert not missing, f"exports with no case in this test (add one to _cases): {missing}"
    seen_planted: set[str] = set()
    for name, calls in cases.items():
        for user, kwargs, query in calls:
            client = login(user)
            response = client.get(reverse(name, kwargs=kwargs) + query)
            assert response.status_code == 200, (name, kwargs, response.status_code)
            ctype = response["Content-Type"]
            if "csv" in ctype:
                values = [csv_value_read(f) for f in assert_inert_csv(response.content)]
            elif "spreadsheetml" in ctype:
                values = assert_inert_xlsx(response.content)
            else:  # GeoJSON, Turtle: no spreadsheet opens them as formulas
                continue
            seen_planted |= set(values) & set(PLANTED)
    # the planted names did reach the files (so the assertions above had something to catch)
    assert {n.strip() for n in seen_planted} >= {n.strip() for n in PLANTED if n.strip() == n}


# ---------------------------------------------------------------- files the command line writes


def test_command_line_files_are_inert(tmp_path):
    from xinye.algorithms import liaison, placement, structure, structure_io

    units = [structure.Unit("root", None, PLANTED[0], "hq", "", "active", None)] + [
        structure.Unit(f"u{i}", "root", name, "station", "", "active", None) for i, name in enumerate(PLANTED[1:])
    ]
    members = [structure.Member("-2+3", "u0", "formal"), structure.Member("@SUM(A1)", "u1", "formal")]
    business = structure.Business.build(units, members)
    orgs = [structure.Org("=1+1", None, "branch", ("u0",), ("-2+3",), PLANTED[0])]
    structure_io.write_business_xlsx(tmp_path / "b.xlsx", business, orgs)
    texts = assert_inert_xlsx((tmp_path / "b.xlsx").read_bytes())
    assert PLANTED[0] in texts
    # and the file reads back as it was written
    again = structure_io.load_business(tmp_path / "b.xlsx")
    assert again.units["root"].name == PLANTED[0] and set(again.members) == {"-2+3", "@SUM(A1)"}
    structure_io.write_template(tmp_path / "t.xlsx")
    assert_inert_xlsx((tmp_path / "t.xlsx").read_bytes())

    (tmp_path / "m.csv").write_text("id,lat,lon,occupation\n=cmd,22.5,114.0,rider\n", encoding="utf-8")
    (tmp_path / "w.csv").write_text("id,lat,lon,occupation\n+1+1,22.5,114.0,rider\n", encoding="utf-8")
    result = liaison.assign(liaison.load_members_csv(tmp_path / "m.csv"), liaison.load_workers_csv(tmp_path / "w.csv"))
    liaison.write_pairs_csv(tmp_path / "p.csv", result)
    fields = assert_inert_csv((tmp_path / "p.csv").read_bytes())
    assert "'=cmd" in fields and "'+1+1" in fields
    # the pairs file is read back by --existing: the ids are the original ones
    assert liaison.load_pairs_csv(tmp_path / "p.csv", ["=cmd"], ["+1+1"]) == [("=cmd", "+1+1")]

    (tmp_path / "c.csv").write_text("id,lat,lon\n@SUM(A1),22.5,114.0\n", encoding="utf-8")
    sites = placement.load_sites_csv(tmp_path / "c.csv")
    picked = placement.place(
        sites.lat, sites.lon, sites.weight, sites.lat[:0], sites.lon[:0], sites.lat, sites.lon, k=1, radius_m=1000
    )
    placement.write_picks_csv(tmp_path / "k.csv", picked, sites.ids)
    assert "'@SUM(A1)" in assert_inert_csv((tmp_path / "k.csv").read_bytes())


# ---------------------------------------------------------------- no writer outside the guard


def test_no_csv_or_xlsx_writer_bypasses_the_guard():
    src = Path(tabular.__file__).resolve().parents[1]
    bypass = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|from openpyxl import Workbook|write_only=True")
    offenders = [
        f"{path.relative_to(src)}:{n}"
        for path in src.rglob("*.py")
        if path.name != "tabular.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if bypass.search(line)
    ]
    assert not offenders, f"write CSV/.xlsx through xinye.algorithms.tabular: {offenders}"
