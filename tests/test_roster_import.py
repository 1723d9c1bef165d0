"""Roster import (issue 12, "What must be true" 1): a department loads its workers and members from .xlsx or CSV
(UTF-8 with or without BOM, GB18030), with a dry run, row errors naming file, row, column and value, all or
nothing, matching by phone and a keyed hash of the ID-card number, and a second import that changes nothing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from xinye.accounts.scope import Scope, scope_for
from xinye.algorithms.errors import InputError
from xinye.organizations.models import Organization, OrgKind
from xinye.people import roster
from xinye.people.models import Membership, Person
from xinye.places.models import Division

pytestmark = pytest.mark.django_db
ADMIN = Scope(None, is_admin=True)


def _community(prefix="4403") -> Division:
    return Division.objects.filter(level="community", code__startswith=prefix).order_by("code").first()


def _branch() -> Organization:
    return Organization.objects.filter(kind=OrgKind.BRANCH, dissolved_on__isnull=True).order_by("pk").first()


def _csv(tmp_path: Path, rows: list[list[str]], *, encoding="utf-8-sig", name="roster.csv") -> Path:
    path = tmp_path / name
    text = "\n".join(",".join(r) for r in [[zh for _k, zh, _r in roster.ROSTER_COLUMNS], *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def _rows() -> list[list[str]]:
    c = _community().code
    b = _branch()
    return [
        ["王小明", "139 0000 0001", "外卖骑手", "快马外卖;美食送", c, "群众", "", "", "", ""],
        ["李红", "13900000002", "courier", "顺通速运", c, "正式党员", b.name, "2019-07-01", "区快递行业工会",
         "11010519491231002X"],
        ["赵强", "139-0000-0003", "网约车司机", "安行出行", c, "预备党员", str(b.pk), "2025/11/01", "", ""],
    ]  # fmt: skip


def test_a_roster_in_gb18030_imports_after_a_dry_run_and_twice_changes_nothing(tmp_path):
    path = _csv(tmp_path, _rows(), encoding="gb18030")
    people = Person.objects.count()
    dry = roster.roster_import(path, scope=ADMIN, dry_run=True)
    assert (dry.added, dry.changed, dry.unchanged) == (3, 0, 0) and Person.objects.count() == people
    done = roster.roster_import(path, scope=ADMIN)
    assert (done.added, done.changed, done.unchanged) == (3, 0, 0) and Person.objects.count() == people + 3
    li = Person.objects.get(phone="13900000002")
    assert li.occupation == "courier" and sorted(c.short_name for c in li.platforms.all()) == ["顺通速运"]
    assert li.union_name == "区快递行业工会" and li.consents.filter(channel="roster import").exists()
    ms = Membership.objects.get(person=li, until__isnull=True)
    assert ms.status == "formal" and ms.organization == _branch() and str(ms.joined_on) == "2019-07-01"
    # the ID-card number is kept only as a keyed hash
    assert li.id_hash == roster.id_card_hash("11010519491231002X") and "11010519491231002X" not in str(
        Person.objects.filter(pk=li.pk).values().first()
    )
    assert Person.objects.get(phone="13900000003").memberships.get().status == "probationary"
    again = roster.roster_import(path, scope=ADMIN)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    # a changed row changes that person only, in the history with the file's name
    rows = _rows()
    rows[0][2] = "快递员"
    changed = roster.roster_import(_csv(tmp_path, rows, name="v2.csv"), scope=ADMIN)
    assert (changed.added, changed.changed, changed.unchanged) == (0, 1, 2)
    assert changed.plans[0].changes == ["occupation"]
    assert Person.objects.get(phone="13900000001").history.first().history_change_reason == "roster import v2.csv"


def test_row_errors_name_file_row_column_and_value_and_nothing_is_written(tmp_path):
    rows = _rows()
    rows[1][1] = "13900000001"  # the same phone as row 2
    rows[2][2] = "飞行员"
    rows[0][4] = "440399999999"
    rows[1][9] = "110105194912310021"  # a wrong check digit
    rows.append(["", "12345", "快递员", "不存在的平台", "", "党员?", "", "2099-01-01", "", ""])
    path = _csv(tmp_path, rows)
    people = Person.objects.count()
    with pytest.raises(InputError) as e, translation.override("en"):
        roster.roster_import(path, scope=ADMIN)
    found = {(err.row, err.column) for err in e.value.errors}
    assert {(3, "手机号"), (4, "职业"), (2, "工作社区"), (3, "身份证号"), (5, "姓名"), (5, "手机号"), (5, "平台"),
            (5, "政治面貌"), (5, "入党日期")} <= found  # fmt: skip
    assert all(err.file == "roster.csv" for err in e.value.errors)
    same = next(err for err in e.value.errors if (err.row, err.column) == (3, "手机号"))
    assert "row 2" in same.message
    assert Person.objects.count() == people


def test_the_importer_changes_only_people_in_their_area(tmp_path):
    from django.contrib.auth import get_user_model

    district = scope_for(get_user_model().objects.get(username="district"))
    outside = (
        Person.objects.exclude(work_community__code__startswith=district.division_prefixes[0])
        .filter(work_community__isnull=False)
        .exclude(phone="")
        .first()
    )
    inside = _community(district.division_prefixes[0]).code
    rows = [[outside.name, outside.phone, "快递员", "", inside, "群众", "", "", "", ""]]
    with pytest.raises(InputError) as e, translation.override("en"):
        roster.roster_import(_csv(tmp_path, rows), scope=district)
    assert e.value.errors[0].message == "a person on record outside your area has this phone"
    rows = [["新人", "13911112222", "快递员", "", _community("4403").code if not _community("4403").code.startswith(
        district.division_prefixes[0]) else "", "群众", "", "", "", ""]]  # fmt: skip
    if rows[0][4]:
        with pytest.raises(InputError) as e:
            roster.roster_import(_csv(tmp_path, rows, name="b.csv"), scope=district)
        assert e.value.errors[0].column == "工作社区"


def test_xlsx_with_english_headers_and_the_command(tmp_path):
    from xinye.algorithms.tabular import new_workbook

    wb = new_workbook()
    ws = wb.active
    ws.append([k for k, _zh, _r in roster.ROSTER_COLUMNS])
    for r in _rows():
        ws.append(r)
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    out = StringIO()
    call_command("people", "import", str(path), "--dry-run", "--as", "organizer", stdout=out)
    assert "3 rows: would add 3" in out.getvalue() and "nothing written" in out.getvalue()
    call_command("people", "import", str(path), stdout=out)
    assert Person.objects.filter(phone__in=["13900000001", "13900000002", "13900000003"]).count() == 3
    (tmp_path / "bad.csv").write_text("姓名,电话\n张三,13900000009\n", encoding="utf-8")
    with pytest.raises(CommandError, match="手机号"):
        call_command("people", "import", str(tmp_path / "bad.csv"))
    template = tmp_path / "t.xlsx"
    call_command("people", "template", "-o", str(template), stdout=out)
    dry = roster.roster_import(template, scope=ADMIN, dry_run=True)
    assert dry.rows == 1 and dry.added + dry.changed + dry.unchanged == 1


def test_the_page_checks_then_imports_and_shows_errors_in_chinese(login, tmp_path, settings):
    settings.XINYE_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    client = login("organizer")
    assert (
        "roster_import" in client.get("/people/").content.decode() or client.get("/people/import/").status_code == 200
    )
    assert client.get("/people/import/template.xlsx").status_code == 200
    path = _csv(tmp_path, _rows())
    with path.open("rb") as fh:
        response = client.post(
            "/people/import/", {"file": fh, "dry_run": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    result = response.context["result"]
    assert result["ok"] and result["dry_run"] and result["added"] == 3
    assert not Person.objects.filter(phone="13900000001").exists()
    job = response.context["job"]
    response = client.post(f"/people/import/{job.pk}/import/", follow=True)
    assert response.context["result"]["added"] == 3 and Person.objects.filter(phone="13900000001").exists()
    assert not (tmp_path / "media" / "imports").exists() or not any((tmp_path / "media" / "imports").iterdir())
    bad = _rows()
    bad[0][2] = "飞行员"
    with _csv(tmp_path, bad, name="bad.csv").open("rb") as fh:
        response = client.post(
            "/people/import/", {"file": fh, "dry_run": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    html = response.content.decode()
    assert not response.context["result"]["ok"] and "职业" in html and "飞行员" in html
    assert login("member").get("/people/import/").status_code == 404
