"""The transparency endpoints: sources, categories, rules, health and the OpenAPI docs."""

from fastapi.testclient import TestClient

from app.rulebook import Rulebook
from tests.conftest import expected_stamp
from tests.test_api_explain import VOCABULARY


def test_sources_list_the_five_documents(client: TestClient, seeds: object) -> None:
    sources = client.get("/v1/sources").json()
    assert [s["document"] for s in sources] == [
        "000_b3b314c00dd6cb2e.txt", "001_7a69df62baa3f5b5.txt", "002_16c56b669d93cbdf.txt",
        "003_67e2d53a6903377e.txt", "004_72e528e629b5cf6d.txt",
    ]  # fmt: skip
    by_id = {s["id"]: s for s in sources}
    assert by_id["patient-plus"]["author"].startswith("Dr Colin Tidy")
    assert by_id["pkli-rc"]["publisher"].startswith("Pakistan Kidney & Liver Institute")
    assert all(s["title"] and s["publisher"] for s in sources)


def test_categories_are_the_contract_vocabulary_with_citations(client: TestClient) -> None:
    categories = client.get("/v1/categories").json()
    assert [c["id"] for c in categories] == VOCABULARY
    assert all(c["description"] and c["citations"] for c in categories)


def test_rules_endpoint_shows_every_rule_with_conditions_and_parameters(client: TestClient, book: Rulebook) -> None:
    body = client.get("/v1/rules").json()
    assert [r["id"] for r in body["rules"]] == [r.id for r in book.rules]
    ablation = next(r for r in body["rules"] if r["id"] == "ablation.not_discussed.too_large")
    assert ablation["file"] == "rules/topics/ablation.yaml"
    assert ablation["when"][0]["text"] == '"Largest lesion diameter (cm)" >= 3 (rulebook setting "small lesion size")'
    assert ablation["when"][0]["field"] == "largest_lesion_cm"
    assert ablation["when"][0]["param"] == "small_lesion_below_cm"
    assert {p["id"] for p in body["parameters"]} >= {"small_lesion_below_cm", "few_lesions_max"}


def test_health_names_the_rulebook(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "rulebook": expected_stamp()}


def test_openapi_offers_ready_to_run_examples_that_work(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    examples = spec["paths"]["/v1/explain"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) >= 3
    for example in examples.values():
        assert client.post("/v1/explain", json=example["value"]).status_code == 200
    assert client.get("/docs").status_code == 200
