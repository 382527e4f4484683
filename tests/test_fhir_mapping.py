"""FHIR (mCODE STU4) to a case: each mapping rule, on the golden Bundles and variations of them."""

import subprocess
import sys
from typing import Any

import pytest

from app.fhir.mapping import FhirInputError, Mapped, map_resources, resources_from_bundle
from app.settings import PROJECT_ROOT
from tests.fhir_bundles import (
    ICD10,
    SNOMED,
    SUBJECT,
    condition,
    ecog,
    golden,
    kras,
    marker,
    resources,
    secondary,
    tumour_size,
    without,
)


def mapped(name_or_resources: str | list[dict[str, Any]]) -> Mapped:
    if isinstance(name_or_resources, str):
        return map_resources(resources_from_bundle(golden(name_or_resources)))
    return map_resources(name_or_resources)


def colorectal_with(*extra: dict[str, Any], drop: tuple[str, ...] = ()) -> Mapped:
    return mapped(without(resources("colorectal"), *drop) + list(extra))


def test_golden_colorectal_two_lesions_largest_in_mm_ecog_as_la_code() -> None:
    result = mapped("colorectal")
    assert result.missing == [] and result.liver_metastases
    assert result.case is not None
    assert result.case.known_facts() == {
        "primary_site": "colorectal",
        "lesion_count": 2,
        "largest_lesion_cm": 2.5,  # 25 mm
        "extrahepatic_disease": "none",
        "performance_status": 1,  # LA9623-5
        "kras_status": "wild_type",
    }
    source = result.mapped_from
    assert source["primary_site"] == [{"reference": "Condition/primary-colon", "element": "code"}]
    assert source["largest_lesion_cm"] == [
        {"reference": "Observation/size-lesion-1", "element": "component[0].valueQuantity"}
    ]
    assert {s["reference"] for s in source["lesion_count"]} == {
        "Observation/size-lesion-1",
        "Observation/size-lesion-2",
    }
    assert source["performance_status"][0]["element"] == "valueCodeableConcept.coding[0]"
    assert "absence" in source["extrahepatic_disease"]
    assert source["liver_function"].startswith("not found") and "19943007" in source["liver_function"]
    assert source["liver_metastases"] == [{"reference": "Condition/liver-mets", "element": "code"}]


def test_every_case_field_says_where_it_came_from_or_that_it_is_unknown() -> None:
    from schemas.case import Case

    result = mapped("colorectal")
    assert result.case is not None
    assert set(Case.model_fields) <= set(result.mapped_from)
    for name in Case.model_fields:
        source = result.mapped_from[name]
        if getattr(result.case, name) is None:
            assert isinstance(source, str) and source.startswith("not found"), name
        else:
            assert isinstance(source, list) or "absence" in source, name


def test_golden_breast_er_positive_bone_metastases_limited() -> None:
    result = mapped("breast_er_positive")
    assert result.case is not None
    assert result.case.primary_site == "breast"
    assert result.case.hormone_receptor_status == "positive"
    assert result.case.extrahepatic_disease == "limited"
    assert result.case.largest_lesion_cm == 1.8 and result.case.performance_status == 0
    assert "convention" in result.mapped_from["extrahepatic_disease"][0]["note"]


def test_golden_cirrhosis() -> None:
    result = mapped("cirrhosis")
    assert result.case is not None and result.case.liver_function == "cirrhosis"
    assert result.mapped_from["liver_function"] == [{"reference": "Condition/cirrhosis", "element": "code"}]


@pytest.mark.parametrize(
    ("coding", "expected"),
    [
        ((ICD10, "K72.10"), "impaired"),
        ((ICD10, "K76.6"), "impaired"),
        ((SNOMED, "59927004"), "impaired"),
        ((ICD10, "K74.60"), "cirrhosis"),
        ((SNOMED, "19943007"), "cirrhosis"),
        ((ICD10, "K80.2"), None),  # gallstones: not a hepatic impairment code
    ],
)
def test_liver_function_from_conditions(coding: tuple[str, str], expected: str | None) -> None:
    result = colorectal_with(condition("liver", coding))
    assert result.case is not None and result.case.liver_function == expected


def test_cirrhosis_outranks_impairment_and_resolved_conditions_are_not_read() -> None:
    both = colorectal_with(condition("a", (ICD10, "K76.6")), condition("b", (SNOMED, "19943007")))
    assert both.case is not None and both.case.liver_function == "cirrhosis"
    resolved = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}]}
    old = colorectal_with(condition("c", (ICD10, "K72.0"), clinicalStatus=resolved))
    assert old.case is not None and old.case.liver_function is None


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([], "none"),
        ([secondary("lung", (ICD10, "C78.01"))], "limited"),
        ([secondary("lung", (ICD10, "C78.01")), secondary("lung-sct", (SNOMED, "94391008"))], "limited"),  # one site
        ([secondary("lung", (ICD10, "C78.00")), secondary("bone", (ICD10, "C79.51"))], "extensive"),
        ([condition("peritoneum", (ICD10, "C78.6"))], "limited"),  # no profile: the C78 code says secondary
        # Lymph nodes (C77) are not an extrahepatic site: regional nodal spread of the primary is coded there.
        ([secondary("nodes", (ICD10, "C77.2"))], "none"),
        ([condition("nodes", (ICD10, "C77.2")), secondary("lung", (ICD10, "C78.01"))], "limited"),
    ],
)
def test_extrahepatic_disease(others: list[dict[str, Any]], expected: str) -> None:
    result = colorectal_with(*others)
    assert result.case is not None and result.case.extrahepatic_disease == expected


def test_nodal_secondaries_are_said_not_read() -> None:
    result = colorectal_with(secondary("nodes", (ICD10, "C77.2")))
    assert result.case is not None and result.case.primary_site == "colorectal"
    note = result.mapped_from["extrahepatic_disease"]
    assert "lymph node" in note and "Condition/nodes" in note


def test_the_lesion_count_says_it_is_at_least_the_lesions_measured() -> None:
    result = mapped("colorectal")
    assert result.case is not None and result.case.lesion_count == 2
    assert all(s["note"].startswith("at least 2") for s in result.mapped_from["lesion_count"])


def test_no_liver_metastases() -> None:
    result = colorectal_with(drop=("liver-mets",))
    assert result.case is None and not result.liver_metastases
    [missing] = result.missing
    assert missing.field == "liver_metastases" and "94381002" in missing.looked_for and "C78.7" in missing.looked_for


def test_a_refuted_liver_metastasis_is_not_read() -> None:
    refuted = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]}
    result = colorectal_with(
        secondary("liver-mets", (SNOMED, "94381002"), verificationStatus=refuted), drop=("liver-mets",)
    )
    assert not result.liver_metastases


def test_missing_ecog_is_listed_with_the_codes_looked_for() -> None:
    result = mapped("missing_ecog")
    assert result.case is None and result.liver_metastases
    assert [m.field for m in result.missing] == ["performance_status"]
    assert "89247-1" in result.missing[0].looked_for
    assert "89247-1" in result.mapped_from["performance_status"]


def test_latest_ecog_by_date_whatever_the_order() -> None:
    older, newer = ecog("old", 3, "2025-01-10"), ecog("new", 2, "2026-11-30T08:00:00+01:00")
    for order in ((older, newer), (newer, older)):
        result = colorectal_with(*order, drop=("ecog-1",))
        assert result.case is not None and result.case.performance_status == 2
        assert result.mapped_from["performance_status"][0]["reference"] == "Observation/new"


def test_ecog_5_is_refused_naming_the_observation() -> None:
    with pytest.raises(FhirInputError) as err:
        colorectal_with(ecog("dead", 5, "2026-12-01"), drop=("ecog-1",))
    assert [p.field for p in err.value.problems] == ["Observation/dead.valueInteger"]


@pytest.mark.parametrize(("value", "unit", "cm"), [(25, "mm", 2.5), (4.2, "cm", 4.2), (7, "mm", 0.7)])
def test_sizes_in_cm_or_mm(value: float, unit: str, cm: float) -> None:
    result = colorectal_with(
        tumour_size("s", "BodyStructure/lesion-1", value, unit, "2026-12-01"), drop=("size-lesion-1", "size-lesion-2")
    )
    assert result.case is not None and result.case.largest_lesion_cm == cm


def test_another_unit_is_refused_naming_resource_and_element() -> None:
    with pytest.raises(FhirInputError) as err:
        colorectal_with(tumour_size("s", "BodyStructure/lesion-1", 1, "[in_i]", "2026-12-01"))
    assert [p.field for p in err.value.problems] == ["Observation/s.component[0].valueQuantity.code"]


def test_lesions_are_distinct_foci_each_at_its_latest_size() -> None:
    # lesion-1 measured 40 mm before treatment and 25 mm since: two observations, one lesion, 2.5 cm now.
    earlier = tumour_size("size-lesion-1-before", "BodyStructure/lesion-1", 40, "mm", "2026-06-01")
    result = colorectal_with(earlier)
    assert result.case is not None
    assert (result.case.lesion_count, result.case.largest_lesion_cm) == (2, 2.5)


def test_a_tumour_size_at_another_site_is_not_a_liver_lesion() -> None:
    colon = {"coding": [{"system": SNOMED, "code": "71854001"}]}
    result = colorectal_with(
        tumour_size("primary-size", "BodyStructure/primary", 55, "mm", "2026-11-20", bodySite=colon)
    )
    assert result.case is not None and (result.case.lesion_count, result.case.largest_lesion_cm) == (2, 2.5)
    assert "not counted" in result.mapped_from["lesion_count"][-1]["note"]


@pytest.mark.parametrize(("answer", "expected"), [("LA9633-4", "mutant"), ("LA9634-2", "wild_type")])
def test_kras(answer: str, expected: str) -> None:
    result = colorectal_with(kras("k", answer), drop=("kras-1",))
    assert result.case is not None and result.case.kras_status == expected


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        ([("16112-5", "LA6576-8")], "positive"),
        ([("16112-5", "LA6577-6"), ("16113-3", "LA6576-8")], "positive"),
        ([("16112-5", "LA6577-6"), ("16113-3", "LA6577-6")], "negative"),
        ([("16112-5", "LA6577-6")], None),  # PR unknown: not called negative
    ],
)
def test_hormone_receptors(markers: list[tuple[str, str]], expected: str | None) -> None:
    result = colorectal_with(*(marker(f"m{i}", code, answer) for i, (code, answer) in enumerate(markers)))
    assert result.case is not None and result.case.hormone_receptor_status == expected


def test_a_malformed_resource_is_named_with_its_element() -> None:
    broken = ecog("ecog-2", 1, "2026-12-01")
    broken["valueInteger"] = "one"
    with pytest.raises(FhirInputError) as err:
        colorectal_with(broken)
    assert [p.field for p in err.value.problems] == ["Observation/ecog-2.valueInteger"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "transaction"}, "Bundle/mcode-colorectal.type"),
        ({"resourceType": "Patient"}, "Bundle/mcode-colorectal.resourceType"),
        ({"entry": [{"fullUrl": "urn:uuid:1"}]}, "entry[0].resource"),
        ({"entry": [{"resource": {"resourceType": "Tumour", "id": "t"}}]}, "Tumour/t.resourceType"),
        ({"entry": [{"resource": {"id": "x"}}]}, "entry[0].resourceType"),
    ],
)
def test_a_malformed_bundle_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(FhirInputError) as err:
        map_resources(resources_from_bundle({**golden("colorectal"), **change}))
    assert field in [p.field for p in err.value.problems]


def test_resources_about_two_patients_are_refused() -> None:
    other = ecog("ecog-2", 1, "2026-12-01")
    other["subject"] = {"reference": "Patient/p2"}
    with pytest.raises(FhirInputError) as err:
        colorectal_with(other)
    assert "several patients" in err.value.problems[0].message
    assert SUBJECT["reference"] in err.value.problems[0].message


def test_the_mapping_imports_no_web_framework() -> None:
    code = "import sys, app.fhir.mapping; print(sorted(m for m in ('fastapi', 'starlette') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert done.stdout.strip() == "[]"


def test_one_lesion_referred_to_by_url_and_by_type_and_id_is_one_lesion() -> None:
    again = tumour_size("again", "http://example.org/fhir/BodyStructure/lesion-1", 20, "mm", "2026-12-01")
    result = colorectal_with(again)
    assert result.case is not None
    assert (result.case.lesion_count, result.case.largest_lesion_cm) == (2, 2.0)  # lesion-1's latest: 20 mm


def test_ecog_la_code_in_interpretation_is_read() -> None:
    score = ecog("e", 0, "2026-12-01")
    del score["valueInteger"]
    score["interpretation"] = [{"coding": [{"system": "http://loinc.org", "code": "LA9624-3"}]}]
    result = colorectal_with(score, drop=("ecog-1",))
    assert result.case is not None and result.case.performance_status == 2
    assert result.mapped_from["performance_status"][0]["element"] == "interpretation[0].coding[0]"


def test_a_size_outside_the_contract_is_refused_naming_its_observation() -> None:
    with pytest.raises(FhirInputError) as err:
        colorectal_with(tumour_size("s", "BodyStructure/lesion-9", 400, "mm", "2026-12-01"))  # 40 cm
    [problem] = err.value.problems
    assert problem.field == "Observation/s.component[0].valueQuantity"
    assert "largest_lesion_cm" in problem.message and "30" in problem.message


def test_secondary_carcinoid_of_the_liver_is_liver_metastases() -> None:
    result = colorectal_with(condition("nets", (ICD10, "C7B.02")), drop=("liver-mets",))
    assert result.liver_metastases and result.case is not None
    assert result.case.extrahepatic_disease == "none"
