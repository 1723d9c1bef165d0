"""Roster imports of companies, organizations and posts (issue 12, item 1): templates, GB18030 and UTF-8,
dry runs that write nothing, all or nothing with errors naming file, row, column and value, a second import
that changes nothing, scope, the commands and the page."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinye.accounts.scope import Scope, scope_for
from xinye.algorithms.errors import InputError
from xinye.organizations import rosters
from xinye.organizations.models import Company, Organization, OrgKind, Post
from xinye.people.models import Membership

pytestmark = pytest.mark.django_db
ADMIN = Scope(None, is_admin=True)


def _csv(tmp_path: Path, kind: str, rows, *, encoding="utf-8-sig", name=None) -> Path:
    path = tmp_path / (name or f"{kind}.csv")
    header = [zh for _k, zh, _r in rosters.COLUMNS[kind]]
    path.write_bytes(("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode(encoding))
    return path


def test_companies_in_gb18030_dry_run_then_import_then_nothing(tmp_path):
    rows = [
        ["蓝骑外卖有限公司", "蓝骑", "外卖平台", "是", "91440300MA5ABCDE1H", "4403"],
        ["顺捷车队有限公司", "", "car_rental", "否", "", "440305"],
    ]
    path = _csv(tmp_path, "companies", rows, encoding="gb18030")
    dry = rosters.companies_import(path, scope=ADMIN, dry_run=True)
    assert (dry.added, dry.changed) == (2, 0)
    assert not Company.objects.filter(name="蓝骑外卖有限公司").exists()
    done = rosters.companies_import(path, scope=ADMIN)
    assert done.added == 2
    c = Company.objects.get(name="顺捷车队有限公司")
    assert (c.kind, c.is_platform, c.division.code) == ("car_rental", False, "440305")
    again = rosters.companies_import(path, scope=ADMIN)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 2)


def test_company_errors_name_the_place_and_nothing_is_written(tmp_path):
    rows = [
        ["好公司", "", "外卖平台", "是", "", ""],
        ["坏公司", "", "飞机", "也许", "91440300MA5ABCDE1X", "9999"],
    ]
    path = _csv(tmp_path, "companies", rows)
    with pytest.raises(InputError) as exc:
        rosters.companies_import(path, scope=ADMIN)
    found = {(e.row, e.column, str(e.value)) for e in exc.value.errors}
    assert {
        (3, "类型", "飞机"),
        (3, "是否平台", "也许"),
        (3, "统一社会信用代码", "91440300MA5ABCDE1X"),
        (3, "注册地", "9999"),
    } <= found
    assert all(e.file == "companies.csv" for e in exc.value.errors)
    assert not Company.objects.filter(name="好公司").exists()


def test_organizations_with_parents_in_any_order_and_a_circle(tmp_path):
    company = Company.objects.first()
    rows = [
        ["测试站点党支部", "党支部", "测试党委", company.name, "", "", "4403", "2024-07-01", "2024-07-01"],
        ["测试党委", "党委", "", company.name, "", "", "4403", "", ""],
    ]
    path = _csv(tmp_path, "organizations", rows)
    result = rosters.organizations_import(path, scope=ADMIN)
    assert result.added == 2
    branch = Organization.objects.get(name="测试站点党支部")
    assert branch.parent.name == "测试党委" and branch.kind == OrgKind.BRANCH and branch.term_ends_on.year == 2027
    assert rosters.organizations_import(path, scope=ADMIN).unchanged == 2
    circle = [
        ["甲支部", "党支部", "乙支部", "", "", "", "4403", "", ""],
        ["乙支部", "党支部", "甲支部", "", "", "", "4403", "", ""],
    ]
    with pytest.raises(InputError) as exc:
        rosters.organizations_import(_csv(tmp_path, "organizations", circle, name="circle.csv"), scope=ADMIN)
    assert {e.column for e in exc.value.errors} == {"上级组织"}
    assert not Organization.objects.filter(name="甲支部").exists()


def test_posts_import_appoints_as_the_page_does(tmp_path):
    m = (
        Membership.objects.filter(until__isnull=True, status="formal", organization__kind=OrgKind.BRANCH)
        .select_related("person", "organization")
        .first()
    )
    Post.objects.filter(organization=m.organization).update(end_date="2026-01-01")
    rows = [[m.organization.name, m.person.name, m.person.phone, "书记", "2026-02-01"]]
    path = _csv(tmp_path, "posts", rows)
    assert rosters.posts_import(path, scope=ADMIN, dry_run=True).added == 1
    assert not Post.objects.filter(organization=m.organization, end_date__isnull=True).exists()
    assert rosters.posts_import(path, scope=ADMIN).added == 1
    assert Post.objects.get(organization=m.organization, end_date__isnull=True).person == m.person
    assert rosters.posts_import(path, scope=ADMIN).unchanged == 1
    bad = [[m.organization.name, "别人", m.person.phone, "队长", ""]]
    with pytest.raises(InputError) as exc:
        rosters.posts_import(_csv(tmp_path, "posts", bad, name="bad.csv"), scope=ADMIN)
    assert {e.column for e in exc.value.errors} == {"姓名"}


def test_an_organizer_imports_only_in_their_area(tmp_path, demo):
    from django.contrib.auth import get_user_model

    district = scope_for(get_user_model().objects.get(username="district"))
    other = "440303" if not district.division_prefixes[0].startswith("440303") else "440304"
    path = _csv(tmp_path, "companies", [["外区公司", "", "快递企业", "是", "", other]])
    with pytest.raises(InputError) as exc:
        rosters.companies_import(path, scope=district)
    assert exc.value.errors[0].column == "注册地"


def test_the_commands_and_the_page(tmp_path, login, settings):
    out = StringIO()
    path = _csv(tmp_path, "companies", [["命令行公司", "", "货运平台", "是", "", ""]])
    call_command("companies", "import", str(path), "--dry-run", stdout=out)
    assert "would add 1" in out.getvalue() and not Company.objects.filter(name="命令行公司").exists()
    call_command("companies", "import", str(path), stdout=StringIO())
    assert Company.objects.filter(name="命令行公司").exists()
    with pytest.raises(CommandError):
        call_command(
            "posts", "import", str(_csv(tmp_path, "posts", [["无此组织", "", "13800000000", "书记", "2026-01-01"]]))
        )
    call_command("organizations", "template", "-o", str(tmp_path / "o.xlsx"), stdout=StringIO())
    assert (tmp_path / "o.xlsx").stat().st_size > 0

    settings.XINYE_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    client = login("organizer")
    assert client.get("/people/import/template.csv?kind=posts").content.decode("utf-8-sig").startswith("组织,姓名")
    page = _csv(tmp_path, "companies", [["页面公司", "", "外卖平台", "是", "", "4403"]], name="page.csv")
    with page.open("rb") as fh:
        response = client.post("/people/import/", {"file": fh, "dry_run": "1", "kind": "companies"}, follow=True)
    assert response.context["result"]["ok"] and response.context["result"]["added"] == 1
    response = client.post(f"/people/import/{response.context['job'].pk}/import/", follow=True)
    assert Company.objects.filter(name="页面公司").exists()
