"""Issue 16, "Chinese throughout", the rest: why members fit no branch, import errors and the opening-hours
preview read in the page's language, from the same data the English comes from."""

from __future__ import annotations

from string import Formatter

import pytest
from django.utils import translation

from xinye.algorithms import branches as community_algo
from xinye.algorithms import structure
from xinye.organizations.findings import UNPLACED_TEMPLATES, localized_unplaced


def _fields(text) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(str(text)) if f}


def test_unplaced_templates_cover_both_planners_with_the_same_fields():
    english = {**community_algo.UNPLACED_MESSAGES, **structure.UNPLACED_MESSAGES}
    assert set(UNPLACED_TEMPLATES) == set(english)
    for key, (reason, suggestion) in english.items():
        assert _fields(UNPLACED_TEMPLATES[key][0]) == _fields(reason), key
        assert _fields(UNPLACED_TEMPLATES[key][1]) == _fields(suggestion), key


def test_an_isolated_community_reads_in_chinese_and_in_english():
    cs = [
        community_algo.Community("c0", 22.5, 114.0, "s"),
        community_algo.Community("c1", 22.5, 114.001, "s"),
        community_algo.Community("c2", 22.5, 114.002, "s"),
        community_algo.Community("far", 23.5, 115.0, "t"),
    ]
    ms = [community_algo.Member(f"m{i}", f"c{i % 3}", "formal") for i in range(6)]
    ms.append(community_algo.Member("lone", "far", "formal"))
    plan = community_algo.form_branches(cs, ms, floor=3, cap=50)
    (entry,) = plan.unplaced
    assert entry["text"] == "isolated" and entry["reason"].startswith("isolated: no other community")
    with translation.override("zh-hans"):
        zh = localized_unplaced(entry)
    assert zh["reason"].startswith("孤立：") and f"{entry['params']['km']} 公里" in zh["reason"]
    assert "党支部" in zh["suggestion"] and "branch" not in zh["suggestion"]
    with translation.override("en"):
        assert localized_unplaced(entry)["reason"] == entry["reason"]


def test_a_plan_stored_before_the_keys_still_reads_in_chinese():
    """Plans saved with only the English reason are read back through the English templates."""
    old = {
        "members": ["a", "b"],
        "units": ["u1"],
        "reason": "fewer than 3 formal members in reach, and no branch nearby with room (at most 5 units and 50 "
        "members)",
        "suggestion": "join a neighbouring street's branch, or a community-based joint branch",
    }
    with translation.override("zh-hans"):
        zh = localized_unplaced(old)
    assert zh["reason"] == "可及范围内正式党员不足 3 名，附近也没有尚有空间的党支部（最多 5 个单位、50 名党员）"
    assert zh["suggestion"] == "加入相邻街道的党支部，或以社区为依托的联合党支部"
    dissolved = {"members": ["c"], "units": [], "reason": structure.UNPLACED_MESSAGES["units_dissolved"][0]}
    with translation.override("zh-hans"):
        assert localized_unplaced(dissolved) == {
            **dissolved,
            "reason": "所在单位已撤销，上级在册单位中也没有可容纳他们的党组织",
            "suggestion": "",
        }
    unknown = {"member": "x", "reason": "something else", "suggestion": "do this"}
    assert localized_unplaced(unknown) == unknown


@pytest.mark.django_db
def test_the_community_plan_page_gives_the_reasons_in_chinese(login):
    from xinye.organizations import community_planning
    from xinye.places.models import Division

    plan = community_planning.community_plan_create(division=Division.objects.get(code="4403"))
    km = "2.0"
    plan.plan["unplaced"] = [
        {
            "member": "1",
            "community": "x",
            "reason": f"isolated: no other community with members within {km} km",
            "suggestion": community_algo.UNPLACED_MESSAGES["isolated"][1],
        },
        {"member": "2", "community": "y", "text": "neighbours_full", "params": {"floor": "3"}, "reason": "r"},
    ]
    plan.save()
    page = login("organizer").get(f"/community-plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = page.content.decode()
    assert page.status_code == 200
    assert "孤立：2.0 公里内没有其他有党员的社区" in html
    assert "可及范围内正式党员不足 3 名，且相邻党支部已满员" in html
    assert "isolated" not in html and "neighbouring" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "reading"),
    [("zh-CN", "周一至周五 09:00-18:00，法定节假日休息"), ("en", "Mon–Fri 09:00–18:00; closed on public holidays")],
)
def test_the_station_form_reads_the_typed_hours_back(login, language, reading):
    client = login("operator")
    got = client.get("/stations/hours-preview/", {"value": "Mo-Fr 09:00-18:00; PH off"}, HTTP_ACCEPT_LANGUAGE=language)
    assert got.json() == {"ok": True, "text": reading}
    bad = client.get("/stations/hours-preview/", {"value": "Mo-Fr 9-18 <b>"}, HTTP_ACCEPT_LANGUAGE=language).json()
    assert bad["ok"] is False and "Mo-Fr 9-18 <b>" in bad["error"]
    if language == "zh-CN":
        assert "不是有效的营业时间" in bad["error"] and "not valid" not in bad["error"]


@pytest.mark.django_db
def test_the_station_form_carries_the_preview_without_inline_script(login):
    from xinye.stations.models import Station

    client = login("operator")
    html = client.get("/stations/new/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'data-hours-preview="/stations/hours-preview/"' in html and "xinye/hours-preview" in html
    assert "<script>" not in html and "<script " not in html.replace('<script src="', "")
    assert Station.objects.exists()


@pytest.mark.django_db
def test_only_station_managers_read_hours(client, login):
    assert client.get("/stations/hours-preview/", {"value": "24/7"}).status_code == 302  # to the login page
    assert login("member").get("/stations/hours-preview/", {"value": "24/7"}).status_code == 404


@pytest.mark.django_db
def test_a_station_import_names_file_row_column_and_value_with_the_problem_in_chinese(login):
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinye.accounts.models import Role, RoleKind

    op = Role.objects.get(user__username="operator", kind=RoleKind.STATION_OPERATOR).operator_name
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["id", "name", "kind", "operator", "lat", "lon", "capacity", "opening_hours"])
    w.writeheader()
    w.writerow(
        {"id": "", "name": "好", "kind": "union", "operator": op, "lat": "22.5", "lon": "114", "capacity": "many"}
    )
    w.writerow({"id": "", "name": "坏", "kind": "spaceship", "operator": op, "lat": "22.5", "lon": "114"})
    w.writerow(
        {
            "id": "",
            "name": "时",
            "kind": "union",
            "operator": op,
            "lat": "22.5",
            "lon": "114",
            "opening_hours": "9 to 5",
        }
    )
    upload = SimpleUploadedFile("驿站.csv", buf.getvalue().encode())
    r = login("operator").post("/stations/import/", {"file": upload, "crs": "wgs84"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = r.content.decode()
    assert r.status_code == 400
    assert "驿站.csv 中有 3 处错误；未导入任何内容" in body
    # where each problem is, in Chinese too (issue 16: "row" and "column" were English)
    assert "驿站.csv 第 2 行 “capacity”列：座位数应为整数" in body and "many" in body
    assert "驿站.csv 第 3 行 “kind”列：未知的类型" in body and "spaceship" in body
    assert "驿站.csv 第 4 行 “opening_hours”列：不是有效的营业时间" in body and "9 to 5" in body
    assert "whole number" not in body and "unknown kind" not in body
    assert "row 2" not in body and "column &#x27;" not in body and "(value" not in body


@pytest.mark.django_db
def test_file_errors_of_every_import_are_in_chinese(login):
    """A file that cannot be read at all: the reader's English message and its place, shown in Chinese."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("坏文件.csv", "名称,经度\n".encode() + bytes([0xFF, 0xFE, 0xFA]) + b"\n")
    r = login("operator").post("/stations/import/", {"file": bad, "crs": "wgs84"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = r.content.decode()
    assert r.status_code == 400 and "不是 UTF-8 或 GB18030（GBK）编码的文本" in body and "第 2 行" in body
    assert "not UTF-8" not in body and "row 2" not in body
    from django.utils import translation

    from xinye.common.input_errors import localized_message

    with translation.override("en"):
        assert localized_message("no sheet named 'members'") == "no sheet named “members”"
    with translation.override("zh-hans"):
        assert localized_message("no sheet named 'members'") == "没有名为“members”的工作表"
