"""Variants inside categories, arguments on both sides, the work-up and /v1/about."""

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.conftest import BASE_CASE, expected_stamp
from tests.strategies import case_dicts


def explain(client: TestClient, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.post("/v1/explain", json={**BASE_CASE, **changes}).json()
    return body


def category(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in body["discussed"] + body["not_discussed"] if c["category"] == name)
    return found


def test_solitary_colorectal_metastasis_with_primary_in_place_lists_surgical_variants(client: TestClient) -> None:
    body = explain(client, lesion_count=1, largest_lesion_cm=2.0, primary_tumour_status="in_place")
    labels = [v["label"] for v in category(body, "surgical_resection")["variants"]]
    assert "Laparoscopic (keyhole) liver resection" in labels
    assert "Bowel and liver tumours removed in the same operation" in labels
    assert "Resection combined with ablation" not in labels
    assert not any(label.startswith("Ex vivo") for label in labels), "a last resort, not for a solitary lesion"


def test_ex_vivo_resection_only_once_other_treatments_are_exhausted(client: TestClient) -> None:
    body = explain(client, other_treatments_exhausted=True)
    ex_vivo = next(v for v in category(body, "surgical_resection")["variants"] if v["label"].startswith("Ex vivo"))
    assert "last resort" in ex_vivo["because"].lower()
    assert ex_vivo["inputs"][0]["field"] == "other_treatments_exhausted"


def test_ablation_variants_name_every_technique_and_approach(client: TestClient) -> None:
    body = explain(client, liver_function="cirrhosis")
    labels = {v["label"] for v in category(body, "ablation")["variants"]}
    assert {
        "Radiofrequency ablation (RFA)", "Microwave ablation", "Cryoablation", "Irreversible electroporation (IRE)",
        "Percutaneous approach (through the skin)", "During an operation (open or keyhole)",
    } <= labels  # fmt: skip


def test_stereotactic_radiotherapy_only_for_one_to_three_small_metastases(client: TestClient) -> None:
    small = explain(client, liver_function="cirrhosis", lesion_count=3, largest_lesion_cm=2.0)
    many = explain(client, liver_function="cirrhosis", lesion_count=4, largest_lesion_cm=2.0)
    sbrt = "Stereotactic body radiotherapy (SBRT)"
    assert sbrt in [v["label"] for v in category(small, "external_radiotherapy")["variants"]]
    assert sbrt not in [v["label"] for v in category(many, "external_radiotherapy")["variants"]]


def test_egfr_variant_follows_the_kras_status(client: TestClient) -> None:
    labels = {
        status: [v["label"] for v in category(explain(client, kras_status=status), "targeted_therapy")["variants"]]
        for status in ("wild_type", "mutant")
    }
    assert "EGFR inhibitors" in labels["wild_type"]
    assert not any(label.startswith("EGFR") for label in labels["mutant"])
    unknown = [v["label"] for v in category(explain(client), "targeted_therapy")["variants"]]
    assert "EGFR inhibitors (after a KRAS test)" in unknown


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=case_dicts)
def test_every_category_has_arguments_on_both_sides(case: dict[str, Any], client: TestClient) -> None:
    body = client.post("/v1/explain", json=case).json()
    for cat in body["discussed"] + body["not_discussed"]:
        args = cat["arguments"]
        assert args["in_favour"] and args["against"], f"{cat['category']} is not balanced"
        assert all(s["citations"] for s in args["in_favour"] + args["against"])


def test_transplantation_arguments_include_recurrence(client: TestClient) -> None:
    against = category(explain(client, liver_function="cirrhosis"), "liver_transplantation")["arguments"]["against"]
    assert any("recurrence" in s["because"] for s in against)


def test_investigations_list_the_work_up_with_purposes_and_citations(client: TestClient) -> None:
    body = explain(client)
    ids = [i["id"] for i in body["investigations"]]
    assert ids == [
        "clinical_examination", "blood_tests", "tumour_markers", "imaging", "biopsy", "staging_laparoscopy",
        "angiography", "fitness_assessment", "kras_test",
    ]  # fmt: skip
    assert all(i["purpose"] and i["citations"] for i in body["investigations"])


def test_biopsy_caution_keys_on_an_operable_tumour(client: TestClient) -> None:
    def biopsy_rules(**changes: Any) -> list[str]:
        work_up = {i["id"]: i for i in explain(client, **changes)["investigations"]}
        return [s["rule"] for s in work_up["biopsy"]["relevance"]]

    operable = biopsy_rules(technical_resectability="resectable")
    assert "investigation.biopsy.operable" in operable
    assert "investigation.biopsy.needle_tract" in operable
    assert "investigation.biopsy.operable" not in biopsy_rules(), "operability unknown: no 'operable' caution"
    assert "investigation.biopsy.operable" not in biopsy_rules(technical_resectability="unresectable")
    assert "investigation.biopsy.when_surgical_resection_discussed" not in biopsy_rules(
        extrahepatic_disease="extensive"
    )


def test_unknown_primary_makes_biopsy_relevant_to_find_the_origin(client: TestClient) -> None:
    work_up = {i["id"]: i for i in explain(client, primary_site="unknown")["investigations"]}
    assert "investigation.biopsy.unknown_primary" in [s["rule"] for s in work_up["biopsy"]["relevance"]]


def test_angiography_is_linked_to_vascular_treatments_discussed(client: TestClient) -> None:
    work_up = {i["id"]: i for i in explain(client, technical_resectability="unresectable")["investigations"]}
    linked = [s["rule"] for s in work_up["angiography"]["relevance"]]
    assert "investigation.angiography.when_tace_discussed" in linked
    assert "investigation.angiography.when_hepatic_arterial_infusion_discussed" in linked
    spread = {i["id"]: i for i in explain(client, extrahepatic_disease="extensive")["investigations"]}
    assert spread["angiography"]["relevance"] == [], "no vascular treatment discussed"


def test_about_states_purpose_limits_sources_and_review(client: TestClient) -> None:
    about = client.get("/v1/about").json()
    assert "MDT" in about["purpose"] and "Not for deciding" in about["not_for"]
    assert about["rulebook"] == expected_stamp()
    assert len(about["sources"]) == 5
    assert "few numeric thresholds" in about["limits"]
    assert "colorectal" in about["limits"]
    assert "rules/" in about["review"]
    explanation = explain(client)
    assert explanation["limits"] == about["limits"]
