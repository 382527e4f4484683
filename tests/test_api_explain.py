"""POST /v1/explain through the real app: the contract other apps code against."""

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from schemas.case import OPTIONAL_FIELDS
from tests.conftest import BASE_CASE, expected_stamp
from tests.strategies import case_dicts

VOCABULARY = [
    "surgical_resection", "ablation", "systemic_chemotherapy", "targeted_therapy", "immunotherapy",
    "hormone_therapy", "hepatic_arterial_infusion", "tace", "sirt", "external_radiotherapy",
    "liver_transplantation", "clinical_trial", "active_monitoring", "palliative_care",
]  # fmt: skip


def explain(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/explain", json={**BASE_CASE, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def partition(body: dict[str, Any]) -> tuple[set[str], set[str]]:
    return {c["category"] for c in body["discussed"]}, {c["category"] for c in body["not_discussed"]}


def assert_invariants(body: dict[str, Any]) -> None:
    ids = [c["category"] for c in body["discussed"]] + [c["category"] for c in body["not_discussed"]]
    assert sorted(ids) == sorted(VOCABULARY), "every category appears exactly once"
    assert "multidisciplinary team (MDT)" in body["disclaimer"]
    assert "not medical advice" in body["disclaimer"]
    for cat in body["discussed"]:
        assert cat["citations"], f"{cat['category']} is discussed without a citation"
        assert cat["rationale"], f"{cat['category']} is discussed without a reason"
    for cat in body["not_discussed"]:
        assert cat["reasons"], f"{cat['category']} is not discussed without a reason"
        for reason in cat["reasons"]:
            assert reason["citations"], f"reason {reason['rule']} has no citation"
    assert body["rulebook"] == expected_stamp()


def test_colorectal_case_is_partitioned_with_citations(client: TestClient) -> None:
    body = explain(client, symptomatic=False, kras_status="wild_type")
    assert_invariants(body)
    discussed, _ = partition(body)
    assert "surgical_resection" in discussed
    resection = next(c for c in body["discussed"] if c["category"] == "surgical_resection")
    assert resection["rationale"][0]["rule"] == "resection.discussed.favourable_primary"
    assert resection["rationale"][0]["inputs"] == [
        {
            "field": "primary_site",
            "value": "colorectal",
            "condition": '"Primary site" is one of colorectal, ovary '
            '(rulebook setting "primaries favourable for resection")',
        }
    ]
    assert any("colorectal or ovarian" in c["quote"] for c in resection["citations"])


def test_extensive_extrahepatic_disease_moves_resection_with_the_chain_shown(client: TestClient) -> None:
    body = explain(client, extrahepatic_disease="extensive")
    resection = next(c for c in body["not_discussed"] if c["category"] == "surgical_resection")
    assert [r["rule"] for r in resection["reasons"]] == ["resection.not_discussed.not_suitable"]
    chain = {f["fact"]: [s["rule"] for s in f["derived_by"]] for f in body["derived_facts"]}
    assert chain["not_for_resection_oncological"] == ["fact.not_for_resection_oncological.extensive_extrahepatic"]
    assert "not_resectable_technical" not in chain, "extensive disease elsewhere is not a technical barrier"
    radiotherapy = next(c for c in body["discussed"] if c["category"] == "external_radiotherapy")
    assert [r["rule"] for r in radiotherapy["rationale"]] == ["radiotherapy.discussed.stereotactic_few_small"], (
        "more disease outside the liver never brings in more liver-directed treatment"
    )


def test_unknown_inputs_are_listed_and_said_to_be_unknown(client: TestClient) -> None:
    body = explain(client)
    assert body["unknown_inputs"] == [name for name in OPTIONAL_FIELDS if name not in BASE_CASE]
    monitoring = next(c for c in body["not_discussed"] if c["category"] == "active_monitoring")
    assert "unknown" in monitoring["reasons"][0]["because"]
    assert monitoring["reasons"][0]["inputs"][0] == {
        "field": "symptomatic",
        "value": None,
        "condition": '"Symptoms from the cancer" is unknown',
    }
    targeted = next(c for c in body["discussed"] if c["category"] == "targeted_therapy")
    assert "targeted.caveat.kras_unknown" in [c["rule"] for c in targeted["caveats"]]


def test_same_input_gives_byte_identical_output(client: TestClient) -> None:
    case = {**BASE_CASE, "prior_treatments": ["liver_resection", "chemotherapy"], "declines_surgery": True}
    first = client.post("/v1/explain", json=case).content
    for _ in range(5):
        assert client.post("/v1/explain", json=case).content == first


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=case_dicts)
def test_every_valid_case_gets_a_complete_cited_explanation(case: dict[str, Any], client: TestClient) -> None:
    response = client.post("/v1/explain", json=case)
    assert response.status_code == 200, response.text
    assert_invariants(response.json())
