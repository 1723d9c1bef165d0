"""Import pages name where each problem is (file, sheet, row, column, value) and what, in the page's language
(issue 16: "import error summaries" and the location words were English on Chinese pages): the business
architecture import, the candidate sites of a placement, and the rosters of companies, organizations and posts,
all through xinye.common.input_errors."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from xinye.accounts.models import Role
from xinye.algorithms.errors import InputError, RowError
from xinye.common.input_errors import localized_errors
from xinye.organizations import rosters
from xinye.organizations.models import BusinessUnit

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _cells(body: str) -> list[list[str]]:
    """The rows of the page's error table, as text."""
    import re

    table = body[body.index("data-input-errors") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)] for r in rows
    ]


@pytest.fixture
def company():
    return Role.objects.get(user__username="staff").organization.company


def test_business_import_names_the_sheet_row_and_column_in_chinese(login, company):
    # given the downloaded architecture with a unit whose parent is no unit, and a member in no unit
    client = login("staff")
    wb = load_workbook(io.BytesIO(client.get(f"/companies/{company.pk}/business.xlsx").content))
    wb["units"].cell(row=3, column=2).value = "无此单元"
    wb["members"].cell(row=4, column=2).value = "别处"
    out = io.BytesIO()
    wb.save(out)
    before = BusinessUnit.history.count()
    # when it is uploaded to the Chinese page
    response = client.post(
        f"/companies/{company.pk}/business/import/", {"file": SimpleUploadedFile("业务架构.xlsx", out.getvalue())}, **ZH
    )
    # then each problem is where a reader finds it: the file, the sheet, the row, the column, the value
    assert response.status_code == 400
    body = response.content.decode()
    rows = _cells(body)
    assert [
        "业务架构.xlsx",
        "工作表“units”",
        "第 3 行",
        "“parent”列",
        "无此单元",
        "没有该编号的单元（上级单元）",
    ] in rows
    assert [
        "业务架构.xlsx",
        "工作表“members”",
        "第 4 行",
        "“unit”列",
        "别处",
        "成员所在的单元不在单元表（units）中",
    ] in rows
    assert "业务架构.xlsx 中有 2 处错误，未写入任何数据" in body
    for english in ("parent unit does not exist", "member in an unknown unit", "row 3", "units[", "/tmp"):
        assert english not in body, english
    assert BusinessUnit.history.count() == before


def test_business_import_of_too_long_a_name_says_so_in_chinese(login, company):
    import json

    data = {"units": [{"id": "hq", "name": "H" * 500, "kind": "headquarters"}], "members": []}
    response = login("staff").post(
        f"/companies/{company.pk}/business/import/",
        {"file": SimpleUploadedFile("b.json", json.dumps(data).encode()), "dry_run": "1"},
        **ZH,
    )
    assert response.status_code == 400
    assert ["b.json", "", "第 1 条记录（编号 hq）", "“name”列", "H" * 40 + "...", "超过 200 个字符"] in _cells(
        response.content.decode()
    )


def test_candidate_sites_upload_names_the_row_and_column_in_chinese(login):
    body = "id,lat,lon,name\nA,22.5,114.0,甲\nB,北纬,114.1,乙\nA,22.6,114.2,丙\n".encode()
    response = login("organizer").post(
        "/stations/placement/",
        {"division": "4403", "k": 3, "minutes": 15, "mode": "ebike", "source": "upload",
         "file": SimpleUploadedFile("候选站点.csv", body)},
        **ZH,
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    rows = _cells(page)
    assert ["候选站点.csv", "", "第 3 行", "“lat”列", "北纬", "不是数字"] in rows
    assert ["候选站点.csv", "", "第 4 行", "“id”列", "A", "编号重复（首次出现在第 2 行）"] in rows
    assert "候选站点.csv 中有 2 处错误，未写入任何数据" in page
    assert "not a number" not in page and "duplicate id" not in page and "/tmp" not in page


def test_organization_roster_errors_name_the_sheet_in_chinese(login, settings, tmp_path):
    # given a companies roster workbook with a bad kind on its second data row
    settings.XINYE_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    wb = Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append([zh for _k, zh, _r in rosters.COLUMNS["companies"]])
    ws.append(["好公司", "", "外卖平台", "是", "", "4403"])
    ws.append(["坏公司", "", "飞机", "是", "", "4403"])
    out = io.BytesIO()
    wb.save(out)
    upload = SimpleUploadedFile("企业名单.xlsx", out.getvalue())
    # when it is checked on the Chinese page
    response = login("organizer").post(
        "/people/import/", {"file": upload, "dry_run": "1", "kind": "companies"}, follow=True, **ZH
    )
    # then the result page names the file, the sheet, the row and the column in Chinese
    body = response.content.decode()
    rows = _cells(body)
    assert any(r[:5] == ["企业名单.xlsx", "工作表“企业”", "第 3 行", "“类型”列", "飞机"] for r in rows), rows
    assert ", sheet" not in body and "row 3" not in body


def test_older_results_with_the_sheet_in_the_file_name_are_shown_the_same():
    from django.utils import translation

    old = InputError([RowError("名单.xlsx, sheet 人员名单", 5, "手机号", "123", "a mobile number has 11 digits")])
    with translation.override("zh-hans"):
        (e,) = localized_errors(old)["errors"]
    assert (e.file, e.sheet, e.where, e.column) == ("名单.xlsx", "工作表“人员名单”", "第 5 行", "“手机号”列")


def test_a_row_error_names_its_sheet_for_the_command_line():
    assert str(RowError("b.xlsx", 3, "parent", "x", "parent unit does not exist", "units")) == (
        "b.xlsx, sheet units, row 3, column 'parent': parent unit does not exist (value 'x')"
    )
