"""Realistic cases with the partition a clinician-reviewer checked against the five sources, passage by
passage, and what each answer must say beside it (basis, caveats, depends-on)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.test_api_explain import assert_invariants, partition

LIVER_ONLY_COLORECTAL = {
    "primary_site": "colorectal", "extrahepatic_disease": "none", "liver_function": "normal",
}  # fmt: skip

GENERAL = {"systemic_chemotherapy", "targeted_therapy", "immunotherapy", "clinical_trial", "palliative_care"}

GOLDEN: list[tuple[str, dict[str, Any], set[str]]] = [
    (
        "fit, unresectable, liver-only colorectal",
        {**LIVER_ONLY_COLORECTAL, "lesion_count": 12, "largest_lesion_cm": 8.0, "performance_status": 1,
         "lobar_distribution": "bilobar", "technical_resectability": "unresectable", "declines_surgery": False},
        GENERAL | {"hepatic_arterial_infusion", "tace", "sirt", "external_radiotherapy", "liver_transplantation"},
    ),
    (
        "the same at ECOG 4",
        {**LIVER_ONLY_COLORECTAL, "lesion_count": 12, "largest_lesion_cm": 8.0, "performance_status": 4,
         "lobar_distribution": "bilobar", "technical_resectability": "unresectable", "declines_surgery": False},
        GENERAL | {"tace", "sirt", "external_radiotherapy"},
    ),
    (
        "melanoma, 6 liver-only lesions up to 3.5 cm, ECOG 1",
        {"primary_site": "melanoma", "lesion_count": 6, "largest_lesion_cm": 3.5, "extrahepatic_disease": "none",
         "liver_function": "normal", "performance_status": 1},
        GENERAL | {"tace", "sirt", "external_radiotherapy"},
    ),
    (
        "uveal melanoma, 4 liver-only lesions of 2.5 cm, ECOG 1",
        {"primary_site": "uveal_melanoma", "lesion_count": 4, "largest_lesion_cm": 2.5, "extrahepatic_disease": "none",
         "liver_function": "normal", "performance_status": 1},
        GENERAL | {"tace", "sirt", "external_radiotherapy"},
    ),
    (
        "lung primary, 2 small liver-only lesions",
        {"primary_site": "lung", "lesion_count": 2, "largest_lesion_cm": 1.5, "extrahepatic_disease": "none",
         "liver_function": "normal", "performance_status": 0},
        GENERAL | {"ablation", "tace", "sirt", "external_radiotherapy"},
    ),
    (
        "cirrhosis, a single small colorectal lesion",
        {**LIVER_ONLY_COLORECTAL, "liver_function": "cirrhosis", "lesion_count": 1, "largest_lesion_cm": 2.0,
         "performance_status": 1, "symptomatic": True},
        GENERAL | {"surgical_resection", "ablation", "tace", "sirt", "external_radiotherapy"},
    ),
    (
        "asymptomatic, resectable colorectal",
        {**LIVER_ONLY_COLORECTAL, "lesion_count": 2, "largest_lesion_cm": 2.5, "performance_status": 0,
         "symptomatic": False, "technical_resectability": "resectable", "kras_status": "wild_type"},
        GENERAL | {"surgical_resection", "ablation", "tace", "sirt", "external_radiotherapy", "active_monitoring"},
    ),
    (
        "KRAS-mutant colorectal",
        {**LIVER_ONLY_COLORECTAL, "lesion_count": 2, "largest_lesion_cm": 2.5, "performance_status": 0,
         "kras_status": "mutant", "symptomatic": True},
        GENERAL | {"surgical_resection", "ablation", "tace", "sirt", "external_radiotherapy"},
    ),
    (
        "resectability unknown, everything else favourable",
        {**LIVER_ONLY_COLORECTAL, "lesion_count": 2, "largest_lesion_cm": 2.5, "performance_status": 0},
        GENERAL | {"surgical_resection", "ablation", "tace", "sirt", "external_radiotherapy"},
    ),
    (
        "colorectal with extensive extrahepatic disease and symptoms",
        {**LIVER_ONLY_COLORECTAL, "extrahepatic_disease": "extensive", "lesion_count": 6, "largest_lesion_cm": 4.0,
         "performance_status": 1, "symptomatic": True},
        GENERAL | {"external_radiotherapy"},
    ),
    (
        "breast, unfit for an operation, limited extrahepatic disease",
        {"primary_site": "breast", "lesion_count": 2, "largest_lesion_cm": 1.8, "extrahepatic_disease": "limited",
         "liver_function": "impaired", "performance_status": 3},
        GENERAL | {"ablation", "hormone_therapy", "sirt", "external_radiotherapy"},
    ),
    (
        "pancreatic primary, liver only",
        {"primary_site": "pancreas", "lesion_count": 3, "largest_lesion_cm": 3.5, "extrahepatic_disease": "none",
         "liver_function": "normal", "performance_status": 1},
        GENERAL | {"tace", "sirt", "external_radiotherapy"},
    ),
]  # fmt: skip


def explain(client: TestClient, case: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/explain", json=case)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_invariants(body)
    return body


def category(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in body["discussed"] + body["not_discussed"] if c["category"] == name)
    return found


def rules(statements: list[dict[str, Any]]) -> list[str]:
    return [s["rule"] for s in statements]


def golden(name: str) -> dict[str, Any]:
    return next(case for n, case, _ in GOLDEN if n == name)


@pytest.mark.parametrize(("name", "case", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_partition(client: TestClient, name: str, case: dict[str, Any], expected: set[str]) -> None:
    assert partition(explain(client, case))[0] == expected, name


def test_fit_unresectable_colorectal_lists_hai_sirt_and_transplantation_each_with_its_caveat(
    client: TestClient,
) -> None:
    body = explain(client, golden("fit, unresectable, liver-only colorectal"))
    hai = category(body, "hepatic_arterial_infusion")
    assert {"hai.caveat.not_used_as_often", "hai.caveat.pump_placed_surgically"} <= set(rules(hai["caveats"]))
    transplant = category(body, "liver_transplantation")
    assert "transplant.caveat.limited_data_early_recurrence" in rules(transplant["caveats"])
    sirt = category(body, "sirt")
    assert "sirt.discussed.colorectal_non_resectable" in rules(sirt["rationale"])
    assert sirt["caveats"]
    resection = category(body, "surgical_resection")
    assert rules(resection["reasons"]) == ["resection.not_discussed.technically_unresectable"]


def test_a_frailer_patient_gets_no_operation_a_fitter_one_was_not_offered(client: TestClient) -> None:
    fit = partition(explain(client, golden("fit, unresectable, liver-only colorectal")))[0]
    frail = partition(explain(client, golden("the same at ECOG 4")))[0]
    assert frail < fit, "ECOG 4 may only lose options (those that need an operation)"
    assert fit - frail == {"hepatic_arterial_infusion", "liver_transplantation"}


def test_melanoma_liver_directed_options_say_whose_reading_cannot_be_removed_is(client: TestClient) -> None:
    body = explain(client, golden("melanoma, 6 liver-only lesions up to 3.5 cm, ECOG 1"))
    assert rules(category(body, "surgical_resection")["reasons"]) == ["resection.not_discussed.beyond_single_deposit"]
    sirt = category(body, "sirt")
    oncological = next(s for s in sirt["rationale"] if s["rule"] == "sirt.discussed.not_for_resection_oncological")
    assert "this rulebook's reading" in oncological["because"]
    assert "not_for_resection_oncological" in oncological["derived_facts"]


def test_lung_primary_with_two_small_lesions_gets_ablation_and_stereotactic_radiotherapy(client: TestClient) -> None:
    body = explain(client, golden("lung primary, 2 small liver-only lesions"))
    labels = [v["label"] for v in category(body, "external_radiotherapy")["variants"]]
    assert "Stereotactic body radiotherapy (SBRT)" in labels
    assert "ablation.discussed.small_not_for_resection_oncological" in rules(category(body, "ablation")["rationale"])
    assert category(body, "hepatic_arterial_infusion") in body["not_discussed"], "the HAI pump needs an operation"


def test_cirrhosis_is_a_hedge_on_resection_and_the_less_invasive_options_carry_it(client: TestClient) -> None:
    body = explain(client, golden("cirrhosis, a single small colorectal lesion"))
    resection = category(body, "surgical_resection")
    cirrhosis = next(c for c in resection["caveats"] if c["rule"] == "resection.caveat.cirrhosis")
    assert "There are also cases" in cirrhosis["citations"][0]["quote"]
    assert "not every cirrhotic" in cirrhosis["because"]
    ablation = category(body, "ablation")
    hedged = next(
        s for s in ablation["rationale"] if s["rule"] == "ablation.discussed.small_liver_may_not_allow_resection"
    )
    assert "hedge" in hedged["because"]
    assert category(body, "hepatic_arterial_infusion") in body["not_discussed"], "the HAI pump needs an operation"


def test_asymptomatic_resectable_colorectal_weighs_monitoring_against_the_curative_option(client: TestClient) -> None:
    body = explain(client, golden("asymptomatic, resectable colorectal"))
    resection = category(body, "surgical_resection")
    assert resection["basis"] == "case"
    assert "resection.discussed.colorectal_standard_of_care" in rules(resection["rationale"])
    monitoring = category(body, "active_monitoring")
    assert monitoring["basis"] == "case"
    quotes = " ".join(c["quote"] for s in monitoring["rationale"] + monitoring["caveats"] for c in s["citations"])
    assert "treatment may not be needed" in quotes
    assert "higher chance for a cure" in quotes
    assert "as soon as possible is key" in quotes


def test_kras_mutant_colorectal_never_gives_egfr_inhibitors_as_a_reason(client: TestClient) -> None:
    body = explain(client, golden("KRAS-mutant colorectal"))
    targeted = category(body, "targeted_therapy")
    assert targeted["basis"] == "general"
    assert not any("EGFR" in s["because"] for s in targeted["rationale"] + targeted["variants"])
    caveat = next(c for c in targeted["caveats"] if c["rule"] == "targeted.caveat.kras_mutant")
    assert "EGFR inhibitors aren't effective when this mutation is present." in caveat["citations"][0]["quote"]
    assert "trial.discussed.kras_mutant" in rules(category(body, "clinical_trial")["rationale"])


def test_unknown_resectability_keeps_resection_and_says_it_depends_on_the_surgeon(client: TestClient) -> None:
    body = explain(client, golden("resectability unknown, everything else favourable"))
    resection = category(body, "surgical_resection")
    assert "resection.caveat.surgeon_assessment_unknown" in rules(resection["caveats"])
    assert {"field": "technical_resectability", "value": "unresectable", "would_be": "not_discussed"} in [
        {k: d[k] for k in ("field", "value", "would_be")} for d in resection["depends_on"]
    ]
    for name in ("hepatic_arterial_infusion", "liver_transplantation"):
        moves = [(d["field"], d["value"], d["would_be"]) for d in category(body, name)["depends_on"]]
        assert ("technical_resectability", "unresectable", "discussed") in moves, name
    for cat in body["discussed"]:
        if cat["category"] in GENERAL - {"palliative_care", "systemic_chemotherapy", "targeted_therapy"}:
            assert cat["basis"] == "general", cat["category"]
