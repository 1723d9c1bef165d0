"""Bad input never gives a 500 (issue 10, "found" 8): request hygiene, capped and tolerant file readers, and
row errors naming file, row, column and value."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinye.accounts.models import Role, RoleKind
from xinye.algorithms import structure_io, tabular
from xinye.algorithms.errors import InputError
from xinye.stations.models import Station

# ---------------------------------------------------------------- requests


def _basic(user: str, password: str = "pw") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/people/", "/api/stations/nearest/?lat=22.5&lon=114", "/api/schema/"])
def test_nul_in_a_basic_auth_user_name_is_a_400_on_any_api_url(client, url):
    r = client.get(url, HTTP_AUTHORIZATION=_basic("a\x00b"))
    assert r.status_code == 400
    assert "NUL" in r.json()["detail"]


@pytest.mark.django_db
def test_nul_in_any_header_is_a_400(client):
    r = client.get("/api/people/", HTTP_X_NOTE="a\x00b")
    assert r.status_code == 400


def test_a_wrong_password_with_a_normal_name_still_gets_the_usual_401(client, db):
    assert client.get("/api/people/", HTTP_AUTHORIZATION=_basic("nobody", "wrong")).status_code in (401, 403)


@pytest.mark.django_db
def test_a_deeply_nested_json_body_is_a_400(login):
    client = login("admin")
    body = "[" * 100_000 + "]" * 100_000
    r = client.post("/api/community-plans/form/", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["detail"]
    body = json.dumps({"division": "4403", "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})
    assert client.post("/api/community-plans/form/", body, content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_nul_in_a_json_body_is_a_400(login):
    r = login("admin").post(
        "/api/community-plans/form/", {"division": "4403\x00"}, content_type="application/json; charset=utf-8"
    )
    assert r.status_code == 400 and "NUL" in r.json()["detail"]


@pytest.mark.django_db
def test_a_body_over_the_limit_is_a_413_and_too_many_fields_a_400(login, settings):
    client = login("admin")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"division": "4403", "x": "y" * 2000}
    r = client.post("/api/community-plans/form/", body, content_type="application/json")
    assert r.status_code == 413
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    r = client.post("/demands/bulk/", {f"f{i}": "1" for i in range(20)})
    assert r.status_code == 400


# ---------------------------------------------------------------- file readers (no database)


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_csv_field_over_the_csv_limit_is_a_row_error(tmp_path):
    path = _write(tmp_path, "s.csv", ("name,kind\nok,union\n" + "x" * 140_000 + ",union\n").encode())
    with pytest.raises(InputError) as e:
        tabular.read_csv_rows(path)
    err = e.value.errors[0]
    assert err.file.endswith("s.csv") and err.row == 3 and "field larger than field limit" in err.message


def test_gbk_and_utf8_with_or_without_bom_are_all_read(tmp_path):
    text = "name,kind\n南山驿站,工会\n"
    for i, data in enumerate([text.encode("gbk"), text.encode("utf-8"), text.encode("utf-8-sig")]):
        rows = tabular.read_csv_rows(_write(tmp_path, f"{i}.csv", data))
        assert rows == [(2, {"name": "南山驿站", "kind": "工会"})]


def test_an_undecodable_file_names_the_file_line_and_bytes(tmp_path):
    with pytest.raises(InputError) as e:
        tabular.read_csv_rows(_write(tmp_path, "bad.csv", b"name,kind\nok,union\n\xff\xfe\x80,union\n"))
    err = e.value.errors[0]
    assert err.row == 3 and err.value.startswith("ff fe") and "UTF-8" in err.message


def test_nul_in_a_csv_cell_is_a_row_error_naming_the_column(tmp_path):
    with pytest.raises(InputError) as e:
        tabular.read_csv_rows(_write(tmp_path, "n.csv", b"name,kind\na\x00b,union\n"))
    assert (e.value.errors[0].row, e.value.errors[0].column) == (2, "name")


def test_deeply_nested_json_file_is_an_input_error(tmp_path):
    path = _write(tmp_path, "b.json", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        structure_io.load_business(path)


def test_business_file_with_nul_or_over_long_names_and_kinds_is_refused_with_row_errors(tmp_path):
    data = {
        "units": [
            {"id": "hq", "name": "H" * 500, "kind": "headquarters"},
            {"id": "a", "parent": "hq", "name": "A\x00", "kind": "station"},
            {"id": "b", "parent": "hq", "name": "B", "kind": "k" * 100},
        ],
        "members": [],
    }
    path = _write(tmp_path, "b.json", json.dumps(data).encode())
    with pytest.raises(InputError) as e:
        structure_io.load_business(path)
    where = {(err.row, err.column) for err in e.value.errors}
    assert {("units[0] (id 'hq')", "name"), ("units[1] (id 'a')", "name"), ("units[2] (id 'b')", "kind")} <= where


def _xlsx(path, rows, *, dimension: bool = True) -> None:
    """A minimal .xlsx with inline strings, written directly (openpyxl takes minutes for 200,000 rows)."""

    def col(i: int) -> str:
        return chr(ord("A") + i)

    def esc(v: str) -> str:
        return v.replace("&", "&amp;").replace("<", "&lt;")

    body = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{col(c)}{r}" t="inlineStr"><is><t>{esc(str(v))}</t></is></c>' for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    dim = f'<dimension ref="A1:{col(len(rows[0]) - 1)}{len(rows)}"/>' if dimension else ""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
        '<sheets><sheet name="stations" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">{dim}'
        f"<sheetData>{body}</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)


@pytest.fixture(scope="module")
def big_files(tmp_path_factory):
    """A 200,000-row CSV and .xlsx (with and without a <dimension>), built once."""
    d = tmp_path_factory.mktemp("big")
    header = ["id", "name", "kind", "operator", "lat", "lon"]
    row = ["", "驿站", "union", "区总工会", "22.5431", "114.0579"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows([row] * 200_000)
    (d / "big.csv").write_text(buf.getvalue(), encoding="utf-8")
    _xlsx(d / "big.xlsx", [["name"]] + [["x"]] * 200_000)
    _xlsx(d / "nodim.xlsx", [["name"]] + [["x"]] * 200_000, dimension=False)
    return d


@pytest.mark.parametrize("name", ["big.csv", "big.xlsx", "nodim.xlsx"])
def test_a_200000_row_file_over_the_cap_is_refused_in_under_2_seconds(big_files, name):
    reader = tabular.read_csv_rows if name.endswith(".csv") else tabular.read_xlsx_rows
    start = time.perf_counter()
    with pytest.raises(InputError, match="more than 100,000 data rows"):
        reader(big_files / name)
    assert time.perf_counter() - start < 2


def test_an_xlsx_is_refused_by_its_declared_uncompressed_size_before_parsing(tmp_path, monkeypatch):
    # a zip bomb: 60 MB of zeros packs into about 60 kB
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (60 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024

    def never(*args, **kwargs):  # pragma: no cover - reached only if the cap does not hold
        raise AssertionError("openpyxl must not see a file over the cap")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    with pytest.raises(InputError, match="unpacks to 60.0 MB"):
        tabular.read_xlsx_rows(path)


def test_caps_follow_the_settings(settings, tmp_path):
    settings.XINYE_IMPORT_MAX_ROWS = 1
    try:
        with pytest.raises(InputError, match="more than 1 data rows"):
            tabular.read_csv_rows(_write(tmp_path, "two.csv", b"a\n1\n2\n"))
    finally:
        settings.XINYE_IMPORT_MAX_ROWS = 100_000
    assert tabular.LIMITS.max_rows == 100_000


# ---------------------------------------------------------------- through the pages


@pytest.mark.django_db
def test_station_import_of_a_gbk_csv_and_of_a_huge_field(login):
    op = Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name
    client = login("operator")
    text = f"name,kind,operator,lat,lon\n南山驿站,union,{op},22.5431,114.0579\n"
    r = client.post(
        "/stations/import/", {"file": SimpleUploadedFile("s.csv", text.encode("gbk")), "dry_run": "1", "crs": "wgs84"}
    )
    assert r.status_code == 200, r.content.decode()[-500:]
    before = Station.objects.count()
    text += "x" * 140_000 + f",union,{op},22.5,114\n"
    r = client.post("/stations/import/", {"file": SimpleUploadedFile("s.csv", text.encode()), "crs": "wgs84"})
    assert r.status_code == 400 and "s.csv 第 3 行" in r.content.decode()  # the page's language: zh-hans
    assert Station.objects.count() == before


@pytest.mark.django_db
def test_business_import_with_an_over_long_name_or_unknown_kind_is_a_400_naming_the_row(login, tmp_path):
    company = Role.objects.get(user__username="staff").organization.company
    client = login("staff")
    data = {"units": [{"id": "hq", "name": "H" * 500, "kind": "headquarters"}], "members": []}
    r = client.post(
        f"/companies/{company.pk}/business/import/",
        {"file": SimpleUploadedFile("b.json", json.dumps(data).encode()), "dry_run": "1"},
    )
    assert r.status_code == 400 and "超过 200 个字符" in r.content.decode()  # the page's language (issue 16)
    data = {"units": [{"id": "hq", "name": "H", "kind": "k" * 20}], "members": []}
    r = client.post(
        f"/companies/{company.pk}/business/import/",
        {"file": SimpleUploadedFile("b.json", json.dumps(data).encode())},
    )
    assert r.status_code == 400 and "1 个未知的单元类型" in r.content.decode()


@pytest.mark.django_db
def test_a_branch_that_is_not_a_number_is_a_form_error_not_a_500(login):
    from xinye.organizations.models import Organization, OrgKind
    from xinye.people.models import Person

    client = login("admin")
    person = Person.objects.filter(memberships__isnull=True).first()
    r = client.post(f"/people/{person.pk}/floating/", {"organization": "abc", "since": "2026-03-01"})
    assert r.status_code < 500
    branch = Organization.objects.filter(kind=OrgKind.BRANCH).first()
    r = client.post(
        f"/people/{person.pk}/floating/",
        {"organization": branch.pk, "since": "2026-03-01", "home_organization": "x" * 5000, "home_place": "y" * 5000},
    )
    assert r.status_code < 500


def test_a_value_the_database_refuses_is_a_400_not_a_500(rf):
    from django.db import DataError

    from xinye.common.middleware import RequestHygieneMiddleware

    mw = RequestHygieneMiddleware(lambda request: None)
    response = mw.process_exception(rf.post("/people/1/floating/"), DataError("value too long"))
    assert response.status_code == 400
    assert mw.process_exception(rf.get("/"), KeyError("x")) is None


@pytest.mark.django_db
def test_digits_that_are_not_ascii_or_too_many_are_refused_not_a_500(login, client):
    # "²" and "٣" pass str.isdigit() but int() or the database refuse them; a 40-digit id overflows a bigint
    from xinye.organizations.models import Organization, OrgKind
    from xinye.people.models import Person

    for bad in ("²", "٣", "9" * 40):
        r = client.post("/report/", {"name": "测试", "phone": "1381234567²", "platforms": [bad], "consent": "1"})
        assert r.status_code < 500, bad
        admin = login("admin")
        person = Person.objects.filter(memberships__isnull=True).first()
        branch = Organization.objects.filter(kind=OrgKind.BRANCH).first()
        r = admin.post(
            f"/people/{person.pk}/floating/", {"organization": branch.pk, "since": "2026-03-01", "activity": [bad]}
        )
        assert r.status_code < 500, bad
