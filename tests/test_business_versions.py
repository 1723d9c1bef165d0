"""A new version of a company's business architecture: what changed, and a re-plan with minimal churn. Issue #3."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from xinye.accounts.models import Role
from xinye.organizations import planning
from xinye.organizations.models import BusinessUnit, Organization, OrgKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_jobs(settings):
    settings.XINYE_JOBS_INLINE = True


@pytest.fixture
def company():
    return Role.objects.get(user__username="staff").organization.company


def _edited(client, company, merge_from: str, merge_into: str) -> bytes:
    """Download the architecture, merge one station into another (its rows and people move), re-save."""
    wb = load_workbook(io.BytesIO(client.get(f"/companies/{company.pk}/business.xlsx").content))
    units = wb["units"]
    for row in list(units.iter_rows(min_row=2)):
        if row[0].value == merge_from:
            units.delete_rows(row[0].row)
    for row in wb["members"].iter_rows(min_row=2):
        if row[1].value == merge_from:
            row[1].value = merge_into
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _branch_station(company):
    """A station with its own branch, and a sibling station that also has one."""
    orgs = [
        o
        for o in Organization.objects.filter(company=company, kind=OrgKind.BRANCH, dissolved_on__isnull=True)
        if o.business_units.count() == 1 and o.business_units.first().kind == "station"
    ]
    return orgs[0].business_units.first(), orgs[1].business_units.first()


def test_a_merge_is_shown_by_a_dry_run_then_applied_and_replanned_with_minimal_churn(login, company):
    client = login("staff")
    # start from a compliant tree
    planning.proposal_approve(
        proposal=planning.proposal_create(company=company),
        user=client.session and Role.objects.get(user__username="staff").user,
    )
    source, target = _branch_station(company)
    number = company.versions.order_by("-number").first().number + 1  # the demo has versions of its own
    data = _edited(client, company, source.key, target.key)
    upload = io.BytesIO(data)
    upload.name = "business-v2.xlsx"
    dry = client.post(f"/companies/{company.pk}/business/import/", {"file": upload, "dry_run": "1"})
    assert dry.status_code == 200
    diff = dry.context["result"].diff
    assert diff.removed == [source.key] and diff.merged == [{"units": [source.key], "into": target.key}]
    source.refresh_from_db()
    assert source.valid_until is None  # the dry run wrote nothing

    upload = io.BytesIO(data)
    upload.name = "business-v2.xlsx"
    applied = client.post(f"/companies/{company.pk}/business/import/", {"file": upload})
    assert applied.context["result"].version == number
    source.refresh_from_db()
    assert source.valid_until is not None and source.merged_into_id == target.pk
    assert source.history.first().history_change_reason == f"business version {number}"
    codes = {(f.code, f.text) for f in planning.company_audit(company=company)}
    assert ("anchor_dissolved", "anchor_merged") in codes

    moved = set(str(p) for p in source.people.values_list("pk", flat=True))
    assert not moved  # its people now work in the target station
    proposal = planning.proposal_create(company=company)
    stats = proposal.plan["stats"]
    # only the merged station's members change branch; every other branch keeps its id and members
    merged_people = {str(pk) for pk in BusinessUnit.objects.get(pk=target.pk).people.values_list("pk", flat=True)}
    assert 0 < stats["churn"] <= len(merged_people)
    assert stats["unplaced"] == 0


def test_an_unchanged_architecture_imports_as_no_change(login, company):
    client = login("staff")
    data = client.get(f"/companies/{company.pk}/business.xlsx").content
    upload = io.BytesIO(data)
    upload.name = "same.xlsx"
    response = client.post(f"/companies/{company.pk}/business/import/", {"file": upload, "dry_run": "1"})
    assert response.context["result"].diff.unchanged


def test_a_bad_file_is_refused_with_the_row_and_nothing_changes(login, company):
    client = login("staff")
    wb = load_workbook(io.BytesIO(client.get(f"/companies/{company.pk}/business.xlsx").content))
    wb["units"].cell(row=3, column=2).value = "no-such-unit"
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "bad.xlsx"
    before = BusinessUnit.history.count()
    response = client.post(f"/companies/{company.pk}/business/import/", {"file": out})
    assert response.status_code == 400
    text = response.content.decode()
    # in the page's language, with the sheet and row (issue 16)
    assert "no-such-unit" in text and "没有该编号的单元（上级单元）" in text and "bad.xlsx" in text
    assert "工作表“units”" in text and "第 3 行" in text
    assert BusinessUnit.history.count() == before


def test_people_of_another_company_cannot_be_moved_by_an_import(login, company):
    from xinye.people.models import Person

    client = login("staff")
    wb = load_workbook(io.BytesIO(client.get(f"/companies/{company.pk}/business.xlsx").content))
    stranger = Person.objects.exclude(business_unit__company=company).exclude(business_unit__isnull=True).first()
    first_unit = wb["units"].cell(row=2, column=1).value
    wb["members"].append([str(stranger.pk), first_unit, "formal"])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "v2.xlsx"
    response = client.post(f"/companies/{company.pk}/business/import/", {"file": out})
    assert response.status_code == 400 and "不是您可查看的本企业人员" in response.content.decode()
    before = stranger.business_unit_id
    stranger.refresh_from_db()
    assert stranger.business_unit_id == before


# ---------------------------------------------------------------- no scope grab (issue 10, part 3)


def _with_member_row(client, company, person_id) -> io.BytesIO:
    """The downloaded architecture with one more row in the members sheet."""
    wb = load_workbook(io.BytesIO(client.get(f"/companies/{company.pk}/business.xlsx").content))
    first_unit = wb["units"].cell(row=2, column=1).value
    wb["members"].append([str(person_id), first_unit, "formal"])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "v2.xlsx"
    return out


def _reported_worker():
    """A worker who reported to a community: no company, outside the platform staff's scope."""
    from xinye.accounts.scope import scope_for
    from xinye.people.models import Person
    from xinye.people.selectors import person_q
    from xinye.places.models import Division, Level

    community = Division.objects.filter(level=Level.COMMUNITY, code__startswith="4403").first()
    person = Person.objects.create(name="李四", phone="13800009999", occupation="courier", work_community=community)
    staff = scope_for(Role.objects.get(user__username="staff").user)
    assert not Person.objects.filter(person_q(staff), pk=person.pk).exists()
    return person


def test_a_person_without_a_business_unit_outside_ones_scope_cannot_be_claimed(login, company):

    # given a worker who belongs to no company and whom the platform's staff cannot see
    outsider = _reported_worker()
    client = login("staff")
    assert client.get(f"/api/people/{outsider.pk}/").status_code == 404
    versions = company.versions.count()
    # when the staff import an edited business version that names that worker
    upload = _with_member_row(client, company, outsider.pk)
    rows = load_workbook(io.BytesIO(upload.getvalue()))["members"].max_row
    upload.seek(0)
    response = client.post(f"/companies/{company.pk}/business/import/", {"file": upload})
    # then the import is refused with the file, row, column and value, and nothing was written
    text = response.content.decode()
    assert response.status_code == 400
    # (in the page's language, issue 16: the sheet, the row, the column and the value, each in its cell)
    cells = ["v2.xlsx", "工作表“members”", f"第 {rows} 行", "“id”列", str(outsider.pk), "不是您可查看的本企业人员"]
    assert all(f">{c}" in text for c in cells), [c for c in cells if f">{c}" not in text]
    outsider.refresh_from_db()
    assert outsider.business_unit_id is None and company.versions.count() == versions
    assert client.get(f"/api/people/{outsider.pk}/").status_code == 404


def test_a_worker_in_ones_scope_can_be_added_and_the_summary_counts_it(login, company):
    from xinye.people.models import Person

    # given a worker of the company's fleet (the staff see them) with no business unit yet
    worker = Person.objects.create(name="新骑手", occupation="delivery_rider", employer=company)
    client = login("staff")
    dry = client.post(
        f"/companies/{company.pk}/business/import/",
        {"file": _with_member_row(client, company, worker.pk), "dry_run": "1"},
    )
    diff = dry.context["result"].diff
    assert dry.status_code == 200 and diff.members_joined == 1 and not diff.unchanged
    applied = client.post(
        f"/companies/{company.pk}/business/import/", {"file": _with_member_row(client, company, worker.pk)}
    )
    assert applied.context["result"].people_moved == 1
    worker.refresh_from_db()
    assert worker.business_unit.company_id == company.pk


def test_the_command_line_imports_as_a_user_with_that_users_scope(company, tmp_path):
    from django.core.management import CommandError, call_command

    from xinye.algorithms import structure_io

    outsider = _reported_worker()
    business = planning.business_by_key(company)
    from xinye.algorithms.structure import Business, Member

    unit = next(iter(business.units))
    edited = Business.build(
        business.units.values(), [*business.members.values(), Member(str(outsider.pk), unit, "formal")]
    )
    path = tmp_path / "v2.xlsx"
    structure_io.write_business_xlsx(path, edited)
    with pytest.raises(CommandError, match=f"column 'id': not a person of this company .*'{outsider.pk}'"):
        call_command("structure", "import", str(company.pk), str(path), "--as", "staff")
    with pytest.raises(CommandError, match="may not import"):
        call_command("structure", "import", str(company.pk), str(path), "--as", "member")
    outsider.refresh_from_db()
    assert outsider.business_unit_id is None
