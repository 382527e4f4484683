"""CDS Hooks 2.0: discovery and the patient-view service as an EHR calls them, with the golden mCODE Bundles
as prefetch. Every answer is checked against the repository's JSON Schemas (schemas/json/cds-hooks/, written
from the specification) and for the values the specification forbids; every card for the disclaimer and
verbatim quotes from the loaded rulebook."""

import json
import re
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cds.discovery import BY_KEY
from app.citations import normalise
from app.fhir.codes import codes
from app.main import create_app
from app.rulebook import Rulebook
from app.settings import Settings
from tests.cds_support import (
    DISCOVERY_SCHEMA,
    RESPONSE_SCHEMA,
    ROOT,
    SERVICE_URL,
    case_in_link,
    chart,
    empty_values,
    hook_call,
)
from tests.fhir_bundles import ICD10, secondary
from tests.test_wording_and_citations import FORBIDDEN

QUOTE_LINE = re.compile(r'^\s*> "(.*)"$', re.MULTILINE)


def post(client: TestClient, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.post(SERVICE_URL, json=body, headers=headers)


def cards_of(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    response = post(client, body, headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    RESPONSE_SCHEMA.validate(answer)
    assert empty_values(answer["cards"]) == [] if answer["cards"] else answer == {"cards": []}
    assert response.headers["cache-control"] == "no-store"
    cards: list[dict[str, Any]] = answer["cards"]
    return cards


def all_quotes(book: Rulebook) -> set[str]:
    cites = [c for r in book.rules for c in r.spec.cites] + list(book.meta.disclaimer_cites)
    return {normalise(c.quote) for c in cites}


def assert_disclaimer_and_quotes(card: dict[str, Any], book: Rulebook) -> None:
    detail = card["detail"]
    assert normalise(book.meta.disclaimer) in normalise(detail)
    quotes = QUOTE_LINE.findall(detail)
    assert quotes, "a card without quotes"
    assert {normalise(q) for q in quotes} <= all_quotes(book)
    for cite in book.meta.disclaimer_cites:
        assert normalise(cite.quote) in {normalise(q) for q in quotes}


def test_discovery_lists_the_patient_view_service_with_templates_the_spec_allows(client: TestClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    document = response.json()
    DISCOVERY_SCHEMA.validate(document)
    assert empty_values(document) == []
    (service,) = document["services"]
    assert service["hook"] == "patient-view"
    assert service["title"] and service["description"]
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    for template in prefetch.values():
        # Prefetch query restrictions: only the patient-view context token, a read or a type-level search, and
        # only patient references, token equality on code (no modifiers), _sort and _count.
        assert set(re.findall(r"{{(.*?)}}", template)) == {"context.patientId"}
        path, _, query = template.partition("?")
        assert re.fullmatch(r"[A-Z][A-Za-z]+(/\{\{context\.patientId\}\})?", path)
        for name, _, value in (p.partition("=") for p in query.split("&") if query):
            assert name in {"patient", "code", "_sort", "_count"}, template
            if name == "code":
                assert all(re.fullmatch(r"http://loinc\.org\|[0-9]+-[0-9]", v) for v in value.split(","))
    codes = " ".join(prefetch.values())
    for loinc in ("89247-1", "21889-1", "69548-6", "16112-5", "16113-3"):
        assert loinc in codes


def test_colorectal_chart_gets_one_info_card_with_the_case_the_engine_explained(
    client: TestClient, book: Rulebook
) -> None:
    (card,) = cards_of(client, hook_call(chart("colorectal")))
    assert card["indicator"] == "info"
    assert len(card["summary"]) < 140
    assert "commonly discussed" in card["summary"]
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert_disclaimer_and_quotes(card, book)
    assert book.meta.version in card["source"]["label"]
    assert book.digest.removeprefix("sha256:")[:12] in card["source"]["label"]
    assert book.digest in card["detail"]
    assert card["source"]["url"] == "http://testserver/v1/about"
    case = case_in_link(card)
    assert case["lesion_count"] == 2 and case["largest_lesion_cm"] == 2.5 and case["performance_status"] == 1
    # The card says what /v1/explain says for that case: every category commonly discussed, with its quotes.
    explanation = client.post("/v1/explain", json=case).json()
    for category in explanation["discussed"]:
        assert f"**{category['label']}**" in card["detail"]
        for cite in category["citations"]:
            assert normalise(cite["quote"]) in normalise(card["detail"])
    for category in explanation["not_discussed"]:
        assert f"**{category['label']}**" in card["detail"]
    # The summary counts the categories discussed for a case like this apart from those discussed in general.
    for_case = sum(1 for c in explanation["discussed"] if c["basis"] == "case")
    in_general = len(explanation["discussed"]) - for_case
    assert f"{for_case} treatment categories commonly discussed in the sources for a case like this" in card["summary"]
    assert f", {in_general} in general" in card["summary"]


@pytest.mark.parametrize(
    ("bundle", "expected"),
    [
        ("breast_er_positive", {"primary_site": "breast", "hormone_receptor_status": "positive"}),
        ("cirrhosis", {"liver_function": "cirrhosis"}),
        ("colorectal", {"primary_site": "colorectal", "kras_status": "wild_type"}),
    ],
)
def test_golden_bundles_give_the_case_they_describe(
    client: TestClient, book: Rulebook, bundle: str, expected: dict[str, Any]
) -> None:
    (card,) = cards_of(client, hook_call(chart(bundle)))
    assert_disclaimer_and_quotes(card, book)
    case = case_in_link(card)
    assert {k: case.get(k) for k in expected} == expected


def case_line(card: dict[str, Any]) -> str:
    detail: str = card["detail"]
    return next(line for line in detail.splitlines() if line.startswith("**Case as read from the chart:**"))


def test_values_the_chart_does_not_state_are_not_shown_as_charted(client: TestClient) -> None:
    (card,) = cards_of(client, hook_call(chart("colorectal")))
    assert "extrahepatic disease: none (no other secondary cancer coded; check staging)" in case_line(card)
    assert "lesion count: at least 2" in case_line(card)  # the lesions measured; the chart may hold more
    (charted,) = cards_of(client, hook_call([*chart("colorectal"), secondary("lung", (ICD10, "C78.01"))]))
    assert "extrahepatic disease: limited" in case_line(charted) and "check staging" not in case_line(charted)


def test_chart_without_an_ecog_gets_one_card_naming_it_and_the_code_looked_for(
    client: TestClient, book: Rulebook
) -> None:
    body = hook_call(chart("missing_ecog"))
    assert body["prefetch"]["ecog"] is None  # the client had no data for the template
    (card,) = cards_of(client, body)
    assert "performance status" in card["summary"] and len(card["summary"]) < 140
    assert "89247-1" in card["detail"]
    assert "links" not in card  # no case, so no explanation to open
    assert "Commonly discussed" not in card["detail"]
    assert_disclaimer_and_quotes(card, book)


def test_no_liver_metastases_means_no_cards(client: TestClient) -> None:
    resources = [r for r in chart("colorectal") if r.get("id") != "liver-mets"]
    response = post(client, hook_call(resources))
    assert response.status_code == 200
    assert response.json() == {"cards": []}
    RESPONSE_SCHEMA.validate(response.json())


def test_same_request_gives_the_same_cards_apart_from_their_uuid(client: TestClient) -> None:
    body = hook_call(chart("colorectal"))
    first, second = cards_of(client, body), cards_of(client, body)
    assert first[0]["uuid"] != second[0]["uuid"]
    assert [{**c, "uuid": ""} for c in first] == [{**c, "uuid": ""} for c in second]


def test_missing_needed_prefetch_without_a_fhir_server_is_412_naming_it(client: TestClient) -> None:
    body = hook_call(chart("colorectal"))
    del body["prefetch"]["conditions"]
    response = post(client, body)
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    (item,) = response.json()["errors"]
    assert item["field"] == "prefetch.conditions"
    assert post(client, {k: v for k, v in body.items() if k != "prefetch"}).status_code == 412


def test_missing_optional_prefetch_is_said_on_the_card_and_left_unknown(client: TestClient) -> None:
    body = hook_call(chart("colorectal"))
    del body["prefetch"]["genomicVariants"]
    (card,) = cards_of(client, body)
    assert "Not read from the chart" in card["detail"] and "genomicVariants" in card["detail"]
    assert "kras_status" not in case_in_link(card)


@pytest.mark.parametrize(
    "change",
    [
        {"hook": None},
        {"hookInstance": None},
        {"context": None},
        {"hook": "order-sign"},
        {"context": {"patientId": "p1&code=x"}},
        {"fhirAuthorization": {"access_token": "t", "token_type": "Bearer"}},  # without fhirServer
        {"fhirServer": "ftp://ehr.example.org/fhir"},
        {"prefetch": {"labs": None}},
        {"prefetch": {"conditions": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": 1}]}}},
        {"prefetch": {"conditions": {"resourceType": "Condition", "id": "x", "code": "not a CodeableConcept"}}},
        {"prefetch": {"ecog": {"resourceType": "Bundle", "type": "transaction"}}},
    ],
)
def test_malformed_requests_are_400(client: TestClient, change: dict[str, Any]) -> None:
    body = hook_call(chart("colorectal"))
    body = {**body, **change, "prefetch": {**body["prefetch"], **change.get("prefetch", {})}}
    body = {k: v for k, v in body.items() if v is not None}
    response = post(client, body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_hook_call" and response.json()["status"] == 400


def test_prefetch_about_another_patient_is_refused(client: TestClient) -> None:
    body = hook_call(chart("colorectal"))
    body["context"]["patientId"] = "p2"
    response = post(client, body)
    assert response.status_code == 400
    assert "Patient/p2" in response.text


def test_bodies_that_are_not_json_or_repeat_keys_are_400(client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    assert client.post(SERVICE_URL, content=b'{"hook": ', headers=headers).status_code == 400
    repeated = b'{"hook": "patient-view", "hook": "patient-view"}'
    response = client.post(SERVICE_URL, content=repeated, headers=headers)
    assert response.status_code == 400 and response.json()["errors"][0]["kind"] == "duplicate_key"


def test_unknown_service_is_404(client: TestClient) -> None:
    response = client.post("/cds-services/no-such-service", json=hook_call(chart("colorectal")))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_card_urls_use_the_configured_public_base_url(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"public_base_url": "https://cds.example.org/livermets"})
    with TestClient(create_app(settings)) as client:
        (card,) = cards_of(client, hook_call(chart("colorectal")))
    assert card["source"]["url"] == "https://cds.example.org/livermets/v1/about"
    assert card["links"][0]["url"].startswith("https://cds.example.org/livermets/?case=")


def test_cors_is_open_on_cds_services_only(client: TestClient) -> None:
    preflight = {
        "Origin": "https://ehr.example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    response = client.options(SERVICE_URL, headers=preflight)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    discovery = client.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert discovery.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.options("/v1/explain", headers=preflight).headers


def test_cors_on_cds_services_can_be_narrowed(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"cds_cors_allow_origins": ("https://ehr.example.org",)})
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
        other = client.get("/cds-services", headers={"Origin": "https://elsewhere.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://ehr.example.org"
    assert "access-control-allow-origin" not in other.headers


def test_without_jwt_cds_services_follow_the_api_key(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"api_key": "k" * 32})
    with TestClient(create_app(settings)) as client:
        assert client.get("/cds-services").status_code == 401
        assert client.get("/cds-services", headers={"X-API-Key": "k" * 32}).status_code == 200
        (card,) = cards_of(client, hook_call(chart("colorectal")), headers={"X-API-Key": "k" * 32})
        document = client.get("/openapi.json").json()
    # The document does not change with the configuration: either credential, or none, is published.
    assert document["paths"][SERVICE_URL]["post"]["security"] == [{}, {"ApiKey": []}, {"CdsClientJwt": []}]
    # /v1/about needs the key then: the card's source points at the page, which is open.
    assert card["source"]["url"] == "http://testserver/"


def test_openapi_documents_the_cds_operations_with_an_example(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/cds-services"]
    call = paths[SERVICE_URL]["post"]
    assert {"200", "400", "412"} <= set(call["responses"])
    (example,) = call["requestBody"]["content"]["application/json"]["examples"].values()
    assert example["value"]["hook"] == "patient-view"


def test_the_openapi_example_request_gets_a_card(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    (example,) = paths[SERVICE_URL]["post"]["requestBody"]["content"]["application/json"]["examples"].values()
    (card,) = cards_of(client, example["value"])
    assert case_in_link(card)["largest_lesion_cm"] == 2.5


def test_prefetch_templates_ask_for_every_code_the_mapping_reads() -> None:
    # The mapping's code tables (app/fhir/codes.yaml) and the templates must not drift apart: an ER code the
    # mapping reads but no template asks for would leave hormone receptor status unknown on every chart.
    raw = codes().raw
    wanted = {
        "ecog": [raw["ecog"]["code"]],
        "tumourSizes": [raw["tumor_size"]["code"]],
        "genomicVariants": [raw["kras"]["code"]],
        "tumourMarkers": [*raw["hormone_receptors"]["er"], *raw["hormone_receptors"]["pr"]],
    }
    for key, loinc_codes in wanted.items():
        asked = set(re.findall(r"http://loinc\.org\|([0-9-]+)", BY_KEY[key].query))
        assert set(loinc_codes) == asked, key


@pytest.mark.parametrize("bundle", ["colorectal", "breast_er_positive", "cirrhosis", "missing_ecog"])
def test_card_text_outside_quotes_uses_no_prescriptive_wording(client: TestClient, bundle: str) -> None:
    (card,) = cards_of(client, hook_call(chart(bundle)))
    own_text = [line for line in card["detail"].splitlines() if not line.lstrip().startswith(">")]
    offending = [t for t in [card["summary"], card["source"]["label"], *own_text] if FORBIDDEN.search(t)]
    assert offending == []


def test_cds_bodies_have_their_own_size_limit(app_settings: Settings) -> None:
    body = json.dumps(hook_call(chart("colorectal"))).encode()
    headers = {"Content-Type": "application/json"}
    for limit, status in ((len(body) - 1, 413), (len(body), 200)):
        with TestClient(create_app(app_settings.model_copy(update={"cds_max_body_bytes": limit}))) as client:
            assert client.post(SERVICE_URL, content=body, headers=headers).status_code == status


def test_the_cds_core_imports_no_web_framework() -> None:
    modules = ", ".join(f"app.cds.{m}" for m in ("discovery", "chart", "cards", "jwt_auth", "patient_view"))
    code = f"import sys, {modules}; print(sorted(m for m in ('fastapi', 'starlette') if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert found.stdout.strip() == "[]"
