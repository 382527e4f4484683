"""What-if and compare through the API: every statement is reproduced by evaluating the
changed case, and unknown inputs say what knowing them would change."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.conftest import BASE_CASE
from tests.strategies import case_dicts
from tests.test_api_explain import partition


def status_of(client: TestClient, case: dict[str, Any], category: str) -> str:
    discussed, _ = partition(client.post("/v1/explain", json=case).json())
    return "discussed" if category in discussed else "not_discussed"


def what_if(client: TestClient, case: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/explain?what_if=true", json=case)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["what_if"]
    return result


def test_what_if_is_opt_in(client: TestClient) -> None:
    # Absent, not null, as the README says (both the written answer and the model leave it out).
    without = client.post("/v1/explain", json=BASE_CASE)
    assert "what_if" not in without.json()
    assert b'"what_if"' not in without.content
    assert what_if(client, BASE_CASE)["changes"]


def test_resection_moves_with_extrahepatic_disease_and_says_why(client: TestClient) -> None:
    changes = what_if(client, BASE_CASE)["changes"]
    change = next(c for c in changes if c["category"] == "surgical_resection" and c["field"] == "extrahepatic_disease")
    assert change["statement"] == (
        'Surgical resection would be not typically discussed if "Disease outside the liver" were extensive (now none).'
    )
    assert [b["rule"] for b in change["because"]] == ["resection.not_discussed.not_suitable"]
    assert change["because"][0]["citations"]


def test_ablation_threshold_is_the_nearest_change(client: TestClient) -> None:
    case = {**BASE_CASE, "liver_function": "cirrhosis", "largest_lesion_cm": 2.5}
    changes = [c for c in what_if(client, case)["changes"] if c["category"] == "ablation"]
    size = [c for c in changes if c["field"] == "largest_lesion_cm"]
    assert [(c["new_value"], c["would_be"]) for c in size] == [(3.0, "not_discussed")]
    assert '"Largest lesion diameter (cm)" >= 3 (rulebook setting "small lesion size")' in [
        i["condition"] for b in size[0]["because"] for i in b["inputs"]
    ]


@pytest.mark.parametrize(
    "case",
    [
        BASE_CASE,
        {**BASE_CASE, "primary_site": "breast", "performance_status": 3, "symptomatic": True},
        {**BASE_CASE, "liver_function": "cirrhosis", "prior_treatments": ["liver_resection"], "kras_status": "mutant"},
        {**BASE_CASE, "extrahepatic_disease": "limited", "lesion_count": 5, "largest_lesion_cm": 6.0},
    ],
)
def test_every_what_if_statement_is_reproduced_by_the_changed_case(client: TestClient, case: dict[str, Any]) -> None:
    result = what_if(client, case)
    # Each fixed case has moves of both kinds, so the loops below check something.
    assert result["changes"], "no what-if change to reproduce"
    assert any(effect["changes"] for effect in result["unknown_inputs"]), "no unknown input moves a category"
    for change in result["changes"]:
        changed = {**case, change["field"]: change["new_value"]}
        assert status_of(client, case, change["category"]) == change["now"]
        assert status_of(client, changed, change["category"]) == change["would_be"], change["statement"]
    for effect in result["unknown_inputs"]:
        changed = {**case, effect["field"]: effect["value"]}
        body = client.post("/v1/explain", json=changed).json()
        discussed, _ = partition(body)
        for move in effect["changes"]:
            assert (move["category"] in discussed) == (move["would_be"] == "discussed")


def test_knowing_kras_status_changes_what_is_said_about_egfr_inhibitors(client: TestClient) -> None:
    effects = {e["value"]: e for e in what_if(client, BASE_CASE)["unknown_inputs"] if e["field"] == "kras_status"}
    assert set(effects) == {"mutant", "wild_type"}
    mutant = effects["mutant"]
    assert "targeted.caveat.kras_mutant" in [r["rule"] for r in mutant["rules_added"]]
    assert "targeted.caveat.kras_unknown" in [r["rule"] for r in mutant["rules_removed"]]
    assert "targeted.variant.egfr_wild_type" in [r["rule"] for r in effects["wild_type"]["rules_added"]]


def test_known_inputs_are_not_listed_as_unknown(client: TestClient) -> None:
    fields = {e["field"] for e in what_if(client, {**BASE_CASE, "symptomatic": True})["unknown_inputs"]}
    assert "symptomatic" not in fields
    assert "kras_status" in fields


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=case_dicts)
def test_what_if_moves_are_real_for_generated_cases(case: dict[str, Any], client: TestClient) -> None:
    for change in what_if(client, case)["changes"]:
        changed = {**case, change["field"]: change["new_value"]}
        assert status_of(client, changed, change["category"]) == change["would_be"], change["statement"]


def test_compare_names_the_changed_input_and_the_categories_that_move(client: TestClient) -> None:
    b = {**BASE_CASE, "extrahepatic_disease": "extensive"}
    body = client.post("/v1/compare", json={"a": BASE_CASE, "b": b}).json()
    assert body["changed_inputs"] == [{"field": "extrahepatic_disease", "a": "none", "b": "extensive"}]
    moves = {d["category"]: (d["a"], d["b"]) for d in body["differences"]}
    assert moves["surgical_resection"] == ("discussed", "not_discussed")
    resection = next(d for d in body["differences"] if d["category"] == "surgical_resection")
    assert [s["rule"] for s in resection["b_because"]] == ["resection.not_discussed.not_suitable"]
    # Every category is either a difference or unchanged, never both and never missing.
    assert not set(moves) & set(body["unchanged"])
    assert sorted([*moves, *body["unchanged"]]) == sorted(c["id"] for c in client.get("/v1/categories").json())
    assert "multidisciplinary team (MDT)" in body["disclaimer"]


def test_compare_of_identical_cases_has_no_differences(client: TestClient) -> None:
    body = client.post("/v1/compare", json={"a": BASE_CASE, "b": BASE_CASE}).json()
    assert body["changed_inputs"] == [] and body["differences"] == []


def test_compare_rejects_an_invalid_case_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/compare", json={"a": BASE_CASE, "b": {**BASE_CASE, "lesion_count": 0}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "b.lesion_count"


def test_prior_treatments_are_toggled_one_at_a_time(client: TestClient) -> None:
    large = {**BASE_CASE, "largest_lesion_cm": 4.0}  # ablation not discussed: large, whatever was given before
    case = {**large, "prior_treatments": ["chemotherapy"]}
    changes = [c for c in what_if(client, case)["changes"] if c["field"] == "prior_treatments"]
    assert changes == [], "no single prior treatment moves a category of this case"
    effects = {
        tuple(e["value"]): e for e in what_if(client, large)["unknown_inputs"] if e["field"] == "prior_treatments"
    }
    assert set(effects) == {
        (),
        ("chemotherapy",),
        ("liver_resection",),
        ("ablation",),
        ("radiotherapy",),
        ("embolisation",),
    }
    added = [r["rule"] for r in effects[("chemotherapy",)]["rules_added"]]
    assert "resection.caveat.prior_chemotherapy" in added
    assert "resection.caveat.prior_chemotherapy" not in [r["rule"] for r in effects[("ablation",)]["rules_added"]]


def test_unknown_envelope_field_lists_the_envelope_fields(client: TestClient) -> None:
    response = client.post("/v1/compare", json={"a": BASE_CASE, "b": BASE_CASE, "c": BASE_CASE})
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "unknown field 'c'; allowed fields: a, b"
    inner = client.post("/v1/compare", json={"a": {**BASE_CASE, "grade": 2}, "b": BASE_CASE})
    assert "allowed fields: primary_site" in inner.json()["errors"][0]["message"]
