"""Realistic cases with the partition a clinician-reviewer checked against the rule files."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.test_api_explain import assert_invariants, partition

GOLDEN: list[tuple[str, dict[str, Any], set[str]]] = [
    (
        "colorectal, two small liver-only metastases, no symptoms",
        {
            "primary_site": "colorectal", "lesion_count": 2, "largest_lesion_cm": 2.5,
            "extrahepatic_disease": "none", "liver_function": "normal", "performance_status": 0,
            "symptomatic": False, "kras_status": "wild_type",
        },
        {"surgical_resection", "systemic_chemotherapy", "targeted_therapy", "immunotherapy",
         "clinical_trial", "active_monitoring", "palliative_care"},
    ),
    (
        "colorectal with extensive extrahepatic disease and symptoms",
        {
            "primary_site": "colorectal", "lesion_count": 6, "largest_lesion_cm": 4.0,
            "extrahepatic_disease": "extensive", "liver_function": "normal", "performance_status": 1,
            "symptomatic": True,
        },
        {"systemic_chemotherapy", "targeted_therapy", "immunotherapy", "external_radiotherapy",
         "clinical_trial", "palliative_care"},
    ),
    (
        "breast, unfit for an operation, limited extrahepatic disease",
        {
            "primary_site": "breast", "lesion_count": 2, "largest_lesion_cm": 1.8,
            "extrahepatic_disease": "limited", "liver_function": "impaired", "performance_status": 3,
        },
        {"ablation", "systemic_chemotherapy", "targeted_therapy", "immunotherapy", "hormone_therapy", "sirt",
         "external_radiotherapy", "clinical_trial", "palliative_care"},
    ),
    (
        "colorectal in a cirrhotic liver, liver-only disease",
        {
            "primary_site": "colorectal", "lesion_count": 1, "largest_lesion_cm": 2.0,
            "extrahepatic_disease": "none", "liver_function": "cirrhosis", "performance_status": 1,
            "symptomatic": True, "kras_status": "mutant",
        },
        {"ablation", "systemic_chemotherapy", "targeted_therapy", "immunotherapy", "hepatic_arterial_infusion",
         "tace", "sirt", "external_radiotherapy", "clinical_trial", "palliative_care"},
    ),
    (
        "pancreatic primary, liver only",
        {
            "primary_site": "pancreas", "lesion_count": 3, "largest_lesion_cm": 3.5,
            "extrahepatic_disease": "none", "liver_function": "normal", "performance_status": 1,
        },
        {"systemic_chemotherapy", "targeted_therapy", "immunotherapy", "external_radiotherapy",
         "clinical_trial", "palliative_care"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "case", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_partition(client: TestClient, name: str, case: dict[str, Any], expected: set[str]) -> None:
    response = client.post("/v1/explain", json=case)
    assert response.status_code == 200
    body = response.json()
    assert_invariants(body)
    assert partition(body)[0] == expected, name


def test_kras_mutation_keeps_targeted_therapy_with_the_egfr_caveat(client: TestClient) -> None:
    case = GOLDEN[3][1]
    body = client.post("/v1/explain", json=case).json()
    targeted = next(c for c in body["discussed"] if c["category"] == "targeted_therapy")
    caveat = next(c for c in targeted["caveats"] if c["rule"] == "targeted.caveat.kras_mutant")
    assert "EGFR inhibitors aren't effective when this mutation is present." in caveat["citations"][0]["quote"]
