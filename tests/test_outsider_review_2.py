"""Regression tests of the second outsider review of 2026-12-04, of the features that landed that day
(docs/security.md, "Second outsider review, 2026-12-04 (new features)"): each test names the finding it guards
and fails on the code before its fix."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.test_indicators import _division, _organizer, _snap, world  # noqa: F401  (world is a fixture)
from xinye.accounts.scope import scope_for
from xinye.reports import indicators as ind
from xinye.reports import selectors, services

pytestmark = pytest.mark.django_db

FEB, APR = dt.date(2026, 2, 1), dt.date(2026, 4, 1)
UNION = ind.BY_CODE["union_members"]


def _pilot(django_user_model, division):
    admin = scope_for(django_user_model.objects.get(username="admin"))
    return services.pilot_create(scope=admin, division=division, start_on=dt.date(2026, 3, 15), note="")


def test_finding_1_a_pilot_seen_from_outside_does_not_give_the_rest_of_it_by_subtraction(
    world,  # noqa: F811
    django_user_model,
    client,
):
    """Street A's organizer sees street A exactly (11 of 16) and district 990101, a pilot, from outside. The
    indicators page and the monthly report hide the district's 12 of 22 (street B would be 1 of 6), but the
    pilots page showed it exactly."""
    for period in (FEB, APR):
        _snap("union_members", period, "9901", 100, 200)
        _snap("union_members", period, "990101", 12, 22)
        _snap("union_members", period, "990101001", 11, 16)
    pilot = _pilot(django_user_model, world["district"])
    user = _organizer(django_user_model, world["street_a"], "pilotstreet")
    scope = scope_for(user)
    assert [p.pk for p in selectors.pilot_list(scope=scope)] == [pilot.pk]
    c = selectors.pilot_comparison(scope=scope, pilot=pilot, indicator=UNION)
    for cell in ("pilot_before", "pilot_after"):
        shown = c["table"][cell]
        assert shown["value"] is None and shown["numerator"] != 12 and shown["denominator"] != 22
    assert c["table"]["pilot_change"] is None and c["table"]["difference"] is None
    assert all(v is None for _p, v in c["series"]["pilot"])
    # the page says no more
    client.force_login(user)
    html = client.get("/indicators/pilots/?indicator=union_members", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "12 of 22" not in html and "54.5" not in html
    # the administrator still sees it all
    admin = scope_for(django_user_model.objects.get(username="admin"))
    full = selectors.pilot_comparison(scope=admin, pilot=pilot, indicator=UNION)
    assert (full["table"]["pilot_after"]["numerator"], full["table"]["pilot_after"]["denominator"]) == (12, 22)


def test_finding_2_the_rest_of_a_pilots_area_does_not_give_a_pilot_the_viewer_may_not_read(
    world,  # noqa: F811
    django_user_model,
):
    """Two pilot districts in city 9901: 990101 (the viewer's own) and 990102 (another, 2 of 3). The viewer sees
    the city from outside exactly (the city less their district is 40 of 80), their district exactly, and the rest
    of the city without both pilots: 38 of 77 showed exactly, so 990102 = 100 - 60 - 38 of 200 - 120 - 77."""
    other = _division("990102", "另一区", "county", world["city"])
    for period in (FEB, APR):
        _snap("union_members", period, "9901", 100, 200)
        _snap("union_members", period, "990101", 60, 120)
        _snap("union_members", period, "990102", 2, 3)
    mine = _pilot(django_user_model, world["district"])
    _pilot(django_user_model, other)
    scope = scope_for(_organizer(django_user_model, world["district"], "pilotdistrict"))
    assert [p.pk for p in selectors.pilot_list(scope=scope)] == [mine.pk]  # 990102's pilot is not listed
    c = selectors.pilot_comparison(scope=scope, pilot=mine, indicator=UNION)
    assert (c["table"]["pilot_after"]["numerator"], c["table"]["pilot_after"]["denominator"]) == (60, 120)
    for cell in ("rest_before", "rest_after"):
        shown = c["table"][cell]
        assert shown["value"] is None and shown["numerator"] != 38 and shown["denominator"] != 77
    assert c["table"]["rest_change"] is None and c["table"]["difference"] is None
    assert all(v is None for _p, v in c["series"]["rest"])
    # with the other pilot large enough, the rest is shown as before
    from xinye.reports.models import IndicatorSnapshot

    IndicatorSnapshot.objects.filter(division="990102").update(numerator=10, denominator=30)
    c = selectors.pilot_comparison(scope=scope, pilot=mine, indicator=UNION)
    assert (c["table"]["rest_after"]["numerator"], c["table"]["rest_after"]["denominator"]) == (30, 50)
    assert c["table"]["difference"] is not None


def test_finding_2_each_pilot_taken_out_is_protected_not_only_their_sum(world, django_user_model):  # noqa: F811
    """Street A's organizer reads pilot 990101 from outside, exactly (60 of 120 less their 11 of 16 is large);
    990102 (2 of 3) is not theirs. The rest of the city, 38 of 77, shown exactly, gave 990102 as the city less
    the rest less the pilot they read, although the sum of what they do not see of both pilots is large."""
    other = _division("990102", "另一区", "county", world["city"])
    for period in (FEB, APR):
        _snap("union_members", period, "9901", 100, 200)
        _snap("union_members", period, "990101", 60, 120)
        _snap("union_members", period, "990101001", 11, 16)
        _snap("union_members", period, "990102", 2, 3)
    mine = _pilot(django_user_model, world["district"])
    _pilot(django_user_model, other)
    scope = scope_for(_organizer(django_user_model, world["street_a"], "pilotstreet2"))
    c = selectors.pilot_comparison(scope=scope, pilot=mine, indicator=UNION)
    assert (c["table"]["pilot_after"]["numerator"], c["table"]["pilot_after"]["denominator"]) == (60, 120)
    shown = c["table"]["rest_after"]
    assert shown["value"] is None and shown["numerator"] != 38 and shown["denominator"] != 77
    assert c["table"]["difference"] is None


def test_finding_3_a_list_of_party_members_behind_a_figure_is_audited(world, django_user_model, client):  # noqa: F811
    """members_in_branch lists Party members by name to the organizers of the area and to administrators.
    Opening one of them tells their party status and is audited where the membership lies outside the viewer's
    own organizations (party_status); the list of all of them, 50 a page, was not."""
    import re

    from xinye.accounts.models import AuditEvent

    client.force_login(_organizer(django_user_model, world["street_b"], "auditstreet"))
    got = client.get("/indicators/records/?indicator=members_in_branch&division=990101002&part=all")
    listed = {int(i) for i in re.findall(r"/people/(\d+)/", got.content.decode())}
    assert got.status_code == 200 and world["m6"].pk in listed  # a member of branch B (street A), working in B
    rows = AuditEvent.objects.filter(field=AuditEvent.Field.PARTY_STATUS, username="auditstreet")
    assert rows.count() == 1 and {int(i) for i in rows.get().subject_ids.split(",")} == listed
    # a list that says nothing of membership is not a party-status read
    assert client.get("/indicators/records/?indicator=union_members&division=990101002&part=all").status_code == 200
    assert rows.count() == 1
    # an administrator's list of members is audited too
    client.force_login(django_user_model.objects.get(username="admin"))
    assert client.get("/indicators/records/?indicator=members_in_branch&division=990101001").status_code == 200
    assert AuditEvent.objects.filter(field=AuditEvent.Field.PARTY_STATUS, username="admin").exists()


def test_finding_4_an_occupation_cell_does_not_come_back_from_the_total_and_the_others(
    world,  # noqa: F811
    django_user_model,
    client,
):
    """Street A's organizer reads district 990101 from outside, by occupation. Street B (the rest) has 3 truck
    drivers: that cell is hidden ("≈"), but the district's total and every other occupation are exact, so the
    total less the others (less street A's own, exact) gives street B's truck drivers: 0 of 3 in the union."""
    from xinye.people.models import Occupation, Person

    for occupation in ("courier", "ride_hailing_driver", "delivery_rider", "other"):
        for i in range(10):
            Person.objects.create(name=f"{occupation}{i}", occupation=occupation, work_community=world["b1"],
                                  union_name="试验工会" if i < 5 else "")  # fmt: skip
    client.force_login(_organizer(django_user_model, world["street_a"], "occstreet"))

    def union(division, occupation=""):
        query = f"/api/indicators/?division={division}" + (f"&occupation={occupation}" if occupation else "")
        f = next(f for f in client.get(query).json()["figures"] if f["indicator"] == "union_members")
        return f["numerator"], f["denominator"]

    total, own = union("990101"), union("990101001")
    assert all(isinstance(n, int) for n in (*total, *own))  # the rest of the district is large: exact
    hidden, known = [], [total[0] - own[0], total[1] - own[1]]
    for occupation in Occupation.values:
        cell, mine = union("990101", occupation), union("990101001", occupation)
        if isinstance(cell[0], int) and isinstance(cell[1], int):
            known = [known[0] - (cell[0] - mine[0]), known[1] - (cell[1] - mine[1])]
        else:
            hidden.append(occupation)
    # street B's 3 truck drivers are hidden, and so is at least one more cell (secondary suppression) ...
    assert "truck_driver" in hidden and len(hidden) > 1
    # ... so what the viewer works out for street B's truck drivers is not an exact small count
    assert tuple(known) != (0, 3)
    assert not (0 < known[1] < 5)
