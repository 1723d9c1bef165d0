"""`xinye structure` on files: JSON, CSV and .xlsx in, PLAN.json out; errors name the record. Issue #3."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinye.algorithms import structure_io
from xinye.algorithms.errors import InputError


def _business(tmp_path, units=None, members=None):
    units = units or [
        {"id": "hq", "parent": None, "name": "HQ", "kind": "headquarters", "division": ""},
        {"id": "c", "parent": "hq", "name": "City", "kind": "city", "division": "4403"},
        {"id": "s1", "parent": "c", "name": "S1", "kind": "station", "division": "440305"},
        {"id": "s2", "parent": "c", "name": "S2", "kind": "station", "division": "440305"},
    ]
    members = members or (
        [{"id": f"a{i}", "unit": "s1", "status": "formal"} for i in range(30)]
        + [{"id": f"b{i}", "unit": "s2", "status": "formal"} for i in range(30)]
    )
    path = tmp_path / "business.json"
    path.write_text(json.dumps({"units": units, "members": members}), encoding="utf-8")
    return path


def test_plan_writes_organizations_findings_and_stats_and_can_be_fed_back(tmp_path, capsys):
    business = _business(tmp_path)
    orgs = tmp_path / "orgs.json"
    orgs.write_text(
        json.dumps(
            {
                "organizations": [
                    {
                        "id": "big",
                        "parent": None,
                        "kind": "branch",
                        "units": ["c"],
                        "members": [f"a{i}" for i in range(30)] + [f"b{i}" for i in range(30)],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "plan.json"
    call_command("structure", "plan", str(business), "--orgs", str(orgs), "-o", str(out))
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert set(plan) >= {"organizations", "findings", "stats", "unplaced"}
    kinds = sorted(o["kind"] for o in plan["organizations"])
    assert kinds == ["branch", "branch", "general_branch"]
    assert any(f["code"] == "branch_over_cap" for f in plan["findings"])
    assert plan["stats"]["churn"] >= 30
    # fed back as the current tree, the plan changes nothing
    out2 = tmp_path / "plan2.json"
    call_command("structure", "plan", str(business), "--orgs", str(out), "-o", str(out2))
    again = json.loads(out2.read_text(encoding="utf-8"))
    assert again["organizations"] == plan["organizations"] and again["stats"]["churn"] == 0


def test_audit_prints_findings(tmp_path, capsys):
    call_command("structure", "audit", str(_business(tmp_path)))
    text = capsys.readouterr().out
    assert "unit_without_organization" in text and "error(s)" in text


def test_csv_inputs_are_accepted(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text("id,parent,name,kind,division\nhq,,HQ,headquarters,\ns1,hq,S1,station,440305\n", encoding="utf-8")
    members = tmp_path / "members.csv"
    members.write_text("id,unit,status\nm1,s1,formal\nm2,s1,formal\nm3,s1,formal\n", encoding="utf-8")
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("id,parent,kind,units,members\nB,,branch,s1,m1;m2;m3\n", encoding="utf-8")
    business = structure_io.load_business(units, members_path=members)
    assert len(business.members) == 3
    assert structure_io.load_orgs(orgs)[0].members == ("m1", "m2", "m3")


def test_xlsx_template_round_trips(tmp_path):
    path = tmp_path / "template.xlsx"
    call_command("structure", "template", "-o", str(path))
    business = structure_io.load_business(path)
    orgs = structure_io.load_orgs(path)
    assert set(business.units) == {"hq", "sz", "st1", "st2"} and orgs[0].id == "b1"


@pytest.mark.parametrize(
    ("units", "members", "message"),
    [
        ([{"id": "a", "parent": "a"}], [], "cycle"),
        ([{"id": "a", "parent": None}, {"id": "b", "parent": "x"}], [], "unit 'b', column 'parent'"),
        ([{"id": "a", "parent": None}], [{"id": "m", "unit": "q"}], "members[0] (id 'm'), column 'unit'"),
        ([{"id": "a", "parent": None}, {"id": "a", "parent": None}], [], "units[1] (id 'a'), column 'id'"),
        ([{"id": "a", "parent": None}], [{"unit": "a"}], "members[0], column 'id': id is required"),
    ],
)
def test_bad_input_names_the_record_and_writes_nothing(tmp_path, units, members, message):
    business = tmp_path / "business.json"
    business.write_text(json.dumps({"units": units, "members": members}), encoding="utf-8")
    out = tmp_path / "plan.json"
    with pytest.raises(CommandError) as exc:
        call_command("structure", "plan", str(business), "-o", str(out))
    assert message in str(exc.value)
    assert not out.exists()


def test_malformed_json_reports_line_and_column(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text('{"units": [\n  {"id": "a",}\n]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2 column"):
        structure_io.load_business(bad)
