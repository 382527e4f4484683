"""POST /v1/fhir/explain: a FHIR Bundle in, the usual explanation of the case it describes out."""

import json
from typing import Any

from fastapi.testclient import TestClient

from app.routes.fhir import EXAMPLE_FILE
from app.settings import Settings
from tests.conftest import expected_stamp
from tests.fhir_bundles import FIXTURES, bundle, ecog, golden, resources


def post(client: TestClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/v1/fhir/explain", json=body)
    answer: dict[str, Any] = response.json()
    return response.status_code, answer


def test_golden_colorectal_is_explained_like_the_case_it_builds(client: TestClient) -> None:
    status, body = post(client, golden("colorectal"))
    assert status == 200, body
    assert body["case"]["lesion_count"] == 2 and body["case"]["largest_lesion_cm"] == 2.5
    assert body["case"]["performance_status"] == 1 and body["case"]["liver_function"] is None
    assert "MDT" in body["disclaimer"] and body["rulebook"] == expected_stamp()
    plain = client.post("/v1/explain", json={k: v for k, v in body["case"].items() if v is not None}).json()
    assert {k: v for k, v in body.items() if k != "mapped_from"} == plain
    assert body["mapped_from"]["primary_site"] == [{"reference": "Condition/primary-colon", "element": "code"}]
    assert "liver_function" in body["unknown_inputs"]


def test_golden_breast_and_cirrhosis(client: TestClient) -> None:
    status, breast = post(client, golden("breast_er_positive"))
    assert status == 200 and breast["case"]["hormone_receptor_status"] == "positive"
    assert "hormone_therapy" in {c["category"] for c in breast["discussed"]}
    status, cirrhosis = post(client, golden("cirrhosis"))
    assert status == 200 and cirrhosis["case"]["liver_function"] == "cirrhosis"
    resection = next(c for c in cirrhosis["discussed"] if c["category"] == "surgical_resection")
    assert "resection.caveat.cirrhosis" in {c["rule"] for c in resection["caveats"]}


def test_missing_ecog_is_a_422_listing_it_and_the_codes_looked_for(client: TestClient) -> None:
    status, body = post(client, golden("missing_ecog"))
    assert status == 422
    [item] = body["errors"]
    assert item["field"] == "performance_status" and item["kind"] == "missing_input"
    assert "89247-1" in item["message"] and "LA9623-5" in item["message"]


def test_no_liver_metastases_is_a_422_saying_so(client: TestClient) -> None:
    status, body = post(client, bundle([r for r in resources("colorectal") if r["id"] != "liver-mets"]))
    assert status == 422
    assert [(p["field"], p["kind"]) for p in body["errors"]] == [("liver_metastases", "no_liver_metastases")]
    assert "no liver metastases" in body["errors"][0]["message"]


def test_a_malformed_resource_is_a_422_naming_resource_and_element(client: TestClient) -> None:
    broken = golden("colorectal")
    size = next(e["resource"] for e in broken["entry"] if e["resource"]["id"] == "size-lesion-2")
    size["component"][0]["valueQuantity"]["value"] = "twelve"
    status, body = post(client, broken)
    assert status == 422
    assert [p["field"] for p in body["errors"]] == ["Observation/size-lesion-2.component[0].valueQuantity.value"]


def test_not_a_bundle_is_a_422(client: TestClient) -> None:
    for body, field in (
        ({"resourceType": "Bundle", "type": "transaction", "entry": []}, "Bundle.type"),
        ({"resourceType": "Observation"}, "Bundle.resourceType"),
        ([golden("colorectal")], "body"),
    ):
        status, answer = post(client, body)
        assert status == 422 and answer["errors"][0]["field"] == field, answer


def test_a_searchset_with_an_outcome_entry_is_read(client: TestClient) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
    found = bundle([*resources("missing_ecog"), ecog("ecog-9", 2, "2026-12-01"), outcome], kind="searchset")
    status, body = post(client, found)
    assert status == 200, body
    assert body["case"]["performance_status"] == 2


def test_openapi_documents_the_operation_with_the_golden_bundle_as_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/fhir/explain"]["post"]
    assert {"200", "422"} <= set(operation["responses"])
    example = operation["requestBody"]["content"]["application/json"]["examples"]["mcode_colorectal"]["value"]
    assert example == json.loads((FIXTURES / "colorectal.json").read_text(encoding="utf-8"))
    assert json.loads(EXAMPLE_FILE.read_text(encoding="utf-8")) == example
    response_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response_schema["$ref"].endswith("/FhirExplanation")


def test_a_chart_sized_bundle_beyond_the_case_body_limit_is_read(client: TestClient) -> None:
    # A real chart holds many more resources than the case fields: the Bundle may exceed /v1/explain's body limit.
    padding = [ecog(f"ecog-old-{i}", 2, f"2020-01-{1 + i % 28:02d}") for i in range(400)]
    found = bundle([*resources("colorectal"), *padding])
    assert len(json.dumps(found)) > Settings().max_body_bytes
    status, body = post(client, found)
    assert status == 200, body
    assert body["case"]["performance_status"] == 1  # the latest (2026) score, not the 400 older ones
