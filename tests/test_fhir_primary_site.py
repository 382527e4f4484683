"""FHIR to a case: the primary site, from the primary cancer Condition's code and its histology."""

from typing import Any, get_args

import pytest

from app.fhir.codes import codes
from app.fhir.mapping import Mapped, map_resources
from schemas.case import PrimarySite
from tests.fhir_bundles import ICD10, ICDO3, SNOMED, primary, resources, without


def colorectal_with(*extra: dict[str, Any], drop: tuple[str, ...] = ()) -> Mapped:
    return map_resources(without(resources("colorectal"), *drop) + list(extra))


@pytest.mark.parametrize(
    ("coding", "histology", "expected"),
    [
        ((ICD10, "C18.7"), None, "colorectal"),
        ((ICD10, "C19"), None, "colorectal"),
        ((ICD10, "C20"), None, "colorectal"),
        ((ICD10, "C187"), None, "colorectal"),  # written without the dot
        ((SNOMED, "363406005"), None, "colorectal"),
        ((ICD10, "C50.912"), None, "breast"),
        ((ICD10, "C34.11"), None, "lung"),
        ((ICD10, "C25.0"), None, "pancreas"),
        ((ICD10, "C25.4"), None, "neuroendocrine"),  # endocrine pancreas: the longer prefix wins
        ((ICD10, "C16.9"), None, "stomach"),
        ((ICD10, "C15.5"), None, "oesophagus"),
        ((ICD10, "C64.1"), None, "kidney"),
        ((ICD10, "C56.9"), None, "ovary"),
        ((ICD10, "C54.1"), None, "uterus"),
        ((ICD10, "C61"), None, "prostate"),
        ((ICD10, "C43.5"), None, "melanoma"),
        ((SNOMED, "372244006"), None, "melanoma"),
        ((ICD10, "C7A.012"), None, "neuroendocrine"),
        ((ICD10, "C18.0"), (ICDO3, "8240/3"), "neuroendocrine"),  # a carcinoid of the colon
        ((SNOMED, "445238008"), None, "neuroendocrine"),
        ((ICD10, "C69.3"), (ICDO3, "8720/3"), "uveal_melanoma"),
        ((ICD10, "C69.4"), (SNOMED, "2092003"), "uveal_melanoma"),
        # Melanoma of the eye's other sites is not uveal: conjunctiva, lacrimal gland, orbit.
        ((ICD10, "C69.0"), (ICDO3, "8720/3"), "melanoma"),
        ((ICD10, "C69.5"), (ICDO3, "8720/3"), "melanoma"),
        ((ICD10, "C69.6"), (ICDO3, "8720/3"), "melanoma"),
        ((ICD10, "C44.3"), (ICDO3, "8720/3"), "melanoma"),
        ((ICD10, "C80.1"), None, "unknown"),
        ((ICD10, "C69.2"), (ICDO3, "8720/0"), "other"),  # a benign naevus is not melanoma
        ((ICD10, "C71.9"), None, "other"),
    ],
)
def test_primary_site(coding: tuple[str, str], histology: tuple[str, str] | None, expected: str) -> None:
    result = colorectal_with(primary(coding, histology=histology), drop=("primary-colon",))
    assert result.case is not None and result.case.primary_site == expected


def test_an_unmapped_code_is_other_and_mapped_from_says_so() -> None:
    result = colorectal_with(primary((ICD10, "C71.9")), drop=("primary-colon",))
    assert result.case is not None and result.case.primary_site == "other"
    [source] = result.mapped_from["primary_site"]
    assert (
        source["reference"] == "Condition/primary"
        and "C71.9" in source["note"]
        and "not in the mapping" in source["note"]
    )


def test_melanoma_at_the_eye_is_uveal_only_at_the_uvea_and_mapped_from_says_so() -> None:
    uvea = {"coding": [{"system": SNOMED, "code": "74862005"}]}
    eye = {"coding": [{"system": SNOMED, "code": "81745001"}]}
    at_uvea = colorectal_with(
        primary((ICD10, "C69.9"), histology=(ICDO3, "8720/3"), bodySite=[uvea]), drop=("primary-colon",)
    )
    assert at_uvea.case is not None and at_uvea.case.primary_site == "uveal_melanoma"
    at_eye = colorectal_with(
        primary((ICD10, "C69.9"), histology=(ICDO3, "8720/3"), bodySite=[eye]), drop=("primary-colon",)
    )
    assert at_eye.case is not None and at_eye.case.primary_site == "melanoma"
    assert any("not read as uveal" in s.get("note", "") for s in at_eye.mapped_from["primary_site"])


def test_every_primary_site_of_the_contract_can_be_read() -> None:
    # Read from the contract: a new site needs its codes in app/fhir/codes.yaml.
    readable = set(codes().primary_site) | set(codes().histology_icdo3) | {"uveal_melanoma", "other"}
    assert set(get_args(PrimarySite)) <= readable


def test_two_different_primaries_leave_the_primary_site_unknown() -> None:
    result = colorectal_with(primary((ICD10, "C50.9"), id="second"))
    assert result.case is not None and result.case.primary_site == "unknown"
    assert "several primary cancers" in result.mapped_from["primary_site"][0]["note"]
