"""Volunteering seen from above (issue 14, item 7): counts by district, organization, platform and occupation
over what the viewer may see, and a map of posts and activities."""

import json
import re

import pytest

from xinye.accounts.scope import scope_for
from xinye.volunteering.models import Attendance
from xinye.volunteering.overview import overview

pytestmark = pytest.mark.django_db


def test_the_organizer_sees_hours_and_volunteers_by_district_platform_and_occupation(login):
    page = login("organizer").get("/volunteering/overview/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert "志愿服务概况" in html and "按平台" in html
    c = page.context
    counted = Attendance.objects.filter(counted=True)
    assert c["hours"] == round(sum(a.minutes for a in counted) / 60, 1) > 0
    assert c["volunteers"] == counted.values("person").distinct().count()
    by_occupation = {r.key: r for r in c["tables"]["occupation"]}
    assert sum(r.volunteer_count for r in by_occupation.values()) == c["volunteers"]
    assert abs(sum(r.hours for r in by_occupation.values()) - c["hours"]) < 0.1
    assert sum(r.activities for r in c["tables"]["district"]) == c["activities"]
    # approved hours and the points they earned, by each breakdown (the demo has reviewed patrol hours)
    for table in ("district", "organization", "occupation"):
        rows = c["tables"][table]
        assert abs(sum(r.approved_hours for r in rows) - c["approved_hours"]) < 0.1, table
        assert sum(r.points for r in rows) == c["points_earned"] > 0, table
    assert html.count("审核通过的服务时长") >= 5  # the card and a column of each of the four tables
    data = json.loads(re.search(r'id="vol-map-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["posts"] and data["activities"] and data["geo"]["features"]


def test_only_those_who_oversee_an_area_see_it_and_each_within_their_scope(login, django_user_model):
    assert login("member").get("/volunteering/overview/").status_code == 403
    assert login("operator").get("/volunteering/overview/").status_code == 403
    city = overview(scope=scope_for(django_user_model.objects.get(username="organizer")))
    district = overview(scope=scope_for(django_user_model.objects.get(username="district")))
    assert district["activities"] <= city["activities"] and district["hours"] <= city["hours"]
    # nobody is named: the page holds counts only
    page = login("organizer").get("/volunteering/overview/")
    names = Attendance.objects.values_list("person__name", flat=True)
    assert not any(n in page.content.decode() for n in names)
