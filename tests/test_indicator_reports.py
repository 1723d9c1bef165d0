"""Monthly reports to send upward (issue 15, item 4): a division's .xlsx with native charts and its PDF in Chinese
with the same charts drawn on the server, built as a job or by the command and kept; read through the one policy
(a reader outside the division gets a copy built for them, small counts suppressed; anyone else a 404).

The figures are those of the small world of tests/test_indicators.py (district 990101 with streets A and B).
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from tests.test_exports_inert import assert_inert_xlsx
from tests.test_i18n_pages import _data_words, english_words, visible_text
from tests.test_indicators import _organizer, world  # noqa: F401  (the small world, a fixture)
from xinye.accounts.scope import Scope, scope_for
from xinye.common.models import Job
from xinye.reports import charts, selectors, services
from xinye.reports import indicators as ind
from xinye.reports.models import MonthlyReport

pytestmark = pytest.mark.django_db

ADMIN = Scope(user_id=None, is_admin=True)


def _month(w):
    return w["today"].replace(day=1)


def _two_snapshots(w):
    services.indicator_snapshot_take(period=services.previous_month(w["today"]))
    services.indicator_snapshot_take(period=_month(w))


def _sheet_rows(ws) -> list[tuple]:
    return [tuple(c for c in row) for row in ws.iter_rows(values_only=True)]


def _pdf_text(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


# ------------------------------------------------------------------------------------------------ the files


def test_the_xlsx_opens_with_native_charts_and_the_months_figures(world):  # noqa: F811
    _two_snapshots(world)
    district = scope_for(_organizer_user(world, "990101"))
    kept = services.monthly_report_create(scope=district, division_code="990101", period=_month(world))
    data = bytes(kept.xlsx)
    # native charts: a line chart per indicator (the trend) and a bar chart per indicator (streets A and B)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        xml = [z.read(n).decode() for n in parts]
    n = len(ind.INDICATORS)  # a trend and a bar chart of the divisions below for every indicator
    assert len(parts) == 2 * n
    assert sum("<c:lineChart>" in x for x in xml) == n and sum("<c:barChart>" in x for x in xml) == n
    assert all("<c:f>" in x for x in xml)  # each chart reads its numbers from a sheet, not a picture
    # it opens, every text inert, and holds the month's figures
    assert_inert_xlsx(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["概要", "趋势", "下级区划", "数据", "指标说明"]
    summary = {r[8]: r for r in _sheet_rows(wb["概要"]) if r[8]}
    assert summary["liaison_paired"][2] == pytest.approx(40.0)  # 2 of 5 workers with a liaison
    assert (summary["liaison_paired"][4], summary["liaison_paired"][5]) == (2, 5)
    assert summary["station_covered"][2] == pytest.approx(80.0)
    assert summary["demand_rating"][2] == pytest.approx(3.5)
    assert summary["volunteer_hours"][2] == pytest.approx(1.8)  # 1.75 hours, rounded to one place
    assert "试验区" in _sheet_rows(wb["概要"])[0][0]
    # the trend: the two months with a snapshot
    trend = _sheet_rows(wb["趋势"])
    months = [r[0] for r in trend[1:] if r[0]]
    assert months == [f"{services.previous_month(world['today']):%Y-%m}", f"{_month(world):%Y-%m}"]
    # the streets compared, and the counts behind each figure
    below = {r[0]: r for r in _sheet_rows(wb["下级区划"])[1:] if r[0]}
    assert set(below) == {"990101001", "990101002"} and below["990101001"][1] == "甲街道"
    rows = {(r[0], r[2]): r for r in _sheet_rows(wb["数据"])[1:]}
    assert rows[("990101001", "liaison_paired")][5:8] == (1, 3, pytest.approx(33.3))
    assert rows[("990101002", "station_covered")][5:7] == (1, 1)


def _organizer_user(w, code, name=None):
    from django.contrib.auth import get_user_model

    from xinye.places.models import Division

    username = name or f"rep{code}"
    user = get_user_model().objects.filter(username=username).first()
    return user or _organizer(get_user_model(), Division.objects.get(code=code), username)


def test_the_pdf_is_in_chinese_with_the_same_charts_drawn_on_the_server(world):  # noqa: F811
    _two_snapshots(world)
    kept = services.monthly_report_create(scope=ADMIN, division_code="990101", period=_month(world))
    pdf = bytes(kept.pdf)
    assert pdf.startswith(b"%PDF") and kept.pdf_size == len(pdf) > 5000
    # the same charts as the spreadsheet, as SVG: no script, no style attribute, nothing fetched
    html = services_html(world)
    assert html.count("<svg") == 2 * len(ind.INDICATORS) and "<script" not in html and "style=" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "试验区" in html and "甲街道" in html
    # and the PDF's text (pypdf, a test dependency: the streams are compressed, the bytes say nothing)
    text = _pdf_text(pdf)
    assert "试验区" in text and "指标" in text and "甲街道" in text


def services_html(w) -> str:
    from xinye.reports import report_files

    return report_files.report_html(selectors.monthly_report_data(scope=ADMIN, code="990101", period=_month(w)))


def test_a_chart_breaks_at_a_gap_escapes_its_text_and_shows_a_missing_bar_as_missing():
    line = charts.line_chart_svg(["2026-01", "2026-02", "2026-03"], [40.0, None, 50.0], title="<b>", suffix="%")
    assert "<polyline" not in line  # no two known points are next to each other
    assert line.count("<circle") == 2 and "&lt;b&gt;" in line and "<b>" not in line and "50%" in line
    bars = charts.bar_chart_svg(["甲街道", "=HYPERLINK()"], [33.3, None], title="x", suffix="%", missing="未显示")
    assert bars.count("<rect") == 1 and "未显示" in bars and "33.3%" in bars
    assert charts.nice_top(83) == 100 and charts.nice_top(3.5, cap=5) == 5 and charts.nice_top(1.75) == 2


# ------------------------------------------------------------------------------------------------- scope


def test_a_user_outside_the_division_gets_404_and_a_reader_from_outside_a_suppressed_copy(world, client):  # noqa: F811
    _two_snapshots(world)
    kept = services.monthly_report_create(scope=ADMIN, division_code="990101", period=_month(world))
    street_a = services.monthly_report_create(scope=ADMIN, division_code="990101001", period=_month(world))
    # the organizer of street B: street A's report and page are not found, nor may they build one for it
    client.force_login(_organizer_user(world, "990101002"))
    for url in (
        f"/indicators/reports/{street_a.pk}/xlsx/",
        f"/indicators/reports/{street_a.pk}/pdf/",
        "/indicators/reports/?division=990101001",
        f"/indicators/reports/{kept.pk}/doc/",
        "/indicators/reports/999999/pdf/",
    ):
        assert client.get(url).status_code == 404, url
    post = client.post("/indicators/reports/generate/", {"division": "990101001", "period": f"{_month(world):%Y-%m}"})
    assert post.status_code == 404 and not Job.objects.filter(kind="indicator_report").exists()
    # a district they only see from outside: listed, but no button to build it
    page = client.get("/indicators/reports/?division=990101")
    assert page.status_code == 200 and [r.pk for r in page.context["reports"]] == [kept.pk]
    assert not page.context["may_generate"] and "data-outside" in page.content.decode()
    assert client.post("/indicators/reports/generate/", {"division": "990101"}).status_code == 404
    # their copy of the district's report is built for them: 2 of 5 hidden, and only their own street below
    got = client.get(f"/indicators/reports/{kept.pk}/xlsx/")
    assert got.status_code == 200 and got.content != bytes(MonthlyReport.objects.get(pk=kept.pk).xlsx)
    wb = load_workbook(io.BytesIO(got.content))
    summary = {r[8]: r for r in _sheet_rows(wb["概要"]) if r[8]}
    assert summary["liaison_paired"][4] is None and summary["liaison_paired"][2] is None
    assert {r[0] for r in _sheet_rows(wb["下级区划"])[1:] if r[0]} == {"990101002"}
    assert client.get(f"/indicators/reports/{kept.pk}/pdf/").content.startswith(b"%PDF")
    # the district's organizer gets the kept file itself
    client.force_login(_organizer_user(world, "990101"))
    assert client.get(f"/indicators/reports/{kept.pk}/xlsx/").content == bytes(
        MonthlyReport.objects.get(pk=kept.pk).xlsx
    )
    # staff and members have no reports; the demo's Shenzhen organizer reads nothing of province 99
    from django.contrib.auth import get_user_model

    for role in ("staff", "member", "organizer"):
        client.force_login(get_user_model().objects.get(username=role))
        assert client.get(f"/indicators/reports/{kept.pk}/pdf/").status_code == 404, role
    assert client.get("/indicators/reports/?division=990101").status_code == 404


# --------------------------------------------------------------------------------------------- the job path


def test_the_button_builds_this_months_report_as_a_job_and_keeps_it(world, client, settings):  # noqa: F811
    settings.XINYE_JOBS_INLINE = True
    client.force_login(_organizer_user(world, "990101"))
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/indicators/reports/", HTTP_ACCEPT_LANGUAGE="zh-hans")  # their own district first
    html = page.content.decode()
    assert page.context["code"] == "990101" and "生成本月报告" in html and "试验区" in html
    assert english_words(visible_text(html), _data_words()) == set()
    # no snapshot yet: the job takes this month's first
    response = client.post("/indicators/reports/generate/", {"division": "990101"})
    job = Job.objects.get(kind="indicator_report")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.DONE and job.stage == "done" and job.percent == 100
    kept = MonthlyReport.objects.get()
    assert (kept.division.code, kept.period, kept.created_by.username) == ("990101", _month(world), "rep990101")
    assert job.result_url == f"/indicators/reports/?division=990101#report-{kept.pk}"
    assert client.get(f"/jobs/{job.pk}/")["Location"] == job.result_url
    # listed with both files, in Chinese
    listed = client.get("/indicators/reports/?division=990101", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'id="report-{kept.pk}"' in listed
    assert english_words(visible_text(listed), _data_words()) == set()
    xlsx = client.get(f"/indicators/reports/{kept.pk}/xlsx/")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats") and xlsx.content[:2] == b"PK"
    assert client.get(f"/indicators/reports/{kept.pk}/pdf/")["Content-Type"] == "application/pdf"
    # built again: a second report is kept beside the first; another month from the list; a month out of it refused
    client.post("/indicators/reports/generate/", {"division": "990101"})
    previous = services.previous_month(world["today"])
    client.post("/indicators/reports/generate/", {"division": "990101", "period": f"{previous:%Y-%m}"})
    assert MonthlyReport.objects.count() == 3
    assert MonthlyReport.objects.filter(period=previous).exists()
    bad = client.post("/indicators/reports/generate/", {"division": "990101", "period": "2001-01"})
    assert bad.status_code == 404 and MonthlyReport.objects.count() == 3


def test_the_indicators_page_links_to_the_divisions_reports(world, client):  # noqa: F811
    client.force_login(_organizer_user(world, "990101"))
    html = client.get("/indicators/?division=990101001").content.decode()
    assert 'href="/indicators/reports/?division=990101001"' in html


# ----------------------------------------------------------------------------------------------- the command


def test_the_command_builds_keeps_and_writes_both_files(world, tmp_path):  # noqa: F811
    month = f"{_month(world):%Y-%m}"
    out = io.StringIO()
    call_command("indicators", "report", "--division", "990101", "--period", month, "-o", str(tmp_path), stdout=out,
                 verbosity=0)  # fmt: skip
    xlsx, pdf = tmp_path / f"report-990101-{month}.xlsx", tmp_path / f"report-990101-{month}.pdf"
    assert xlsx.read_bytes()[:2] == b"PK" and pdf.read_bytes().startswith(b"%PDF")
    kept = MonthlyReport.objects.get()
    assert bytes(kept.pdf) == pdf.read_bytes() and kept.created_by is None and "990101" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("indicators", "report", "--division", "990101", "--period", "2026-13", verbosity=0)
    with pytest.raises(CommandError, match="province, city, district or street"):
        call_command("indicators", "report", "--division", "990101001001", "--period", month, verbosity=0)
    with pytest.raises(CommandError, match="no division"):
        call_command("indicators", "report", "--division", "990199", "--period", month, verbosity=0)
    with pytest.raises(CommandError, match="not begun"):
        call_command("indicators", "report", "--division", "990101", "--period", "2100-01", verbosity=0)
    assert MonthlyReport.objects.count() == 1


def test_the_schedule_builds_the_listed_divisions_reports_right_after_the_snapshot(world, settings):  # noqa: F811
    settings.XINYE_JOBS_INLINE = True
    settings.XINYE_MONTHLY_REPORT_DIVISIONS = ["990101", "990101002"]
    note = services.indicator_snapshots_monthly()
    previous = services.previous_month(world["today"])
    assert note.endswith("2 reports queued")
    kept = {r.division.code: r for r in MonthlyReport.objects.select_related("division")}
    assert set(kept) == {"990101", "990101002"}
    assert all(r.period == previous and r.created_by is None for r in kept.values())
    assert set(Job.objects.filter(kind="indicator_report").values_list("status", flat=True)) == {Job.Status.DONE}
    # the operator's copy is the one readers inside get: every count as it is
    wb = load_workbook(io.BytesIO(bytes(kept["990101"].xlsx)))
    assert {r[8]: r for r in _sheet_rows(wb["概要"]) if r[8]}["liaison_paired"][4:6] == (2, 5)
