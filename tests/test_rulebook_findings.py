"""The findings of the rulebook review (rulebook 2.0.0), one test each, written from the reported case:
each failed on rulebook 1.0.0 and passes now. Golden cases (test_golden.py) and invariants
(test_rulebook_invariants.py) hold the general form of each lesson."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import BASE_CASE
from tests.test_api_explain import partition


def explain(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/explain", json={**BASE_CASE, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def category(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in body["discussed"] + body["not_discussed"] if c["category"] == name)
    return found


def shown_rules(cat: dict[str, Any]) -> list[str]:
    parts = ("rationale", "caveats", "variants", "reasons")
    statements = [s for p in parts for s in cat.get(p, [])]
    statements += cat["arguments"]["in_favour"] + cat["arguments"]["against"]
    return [s["rule"] for s in statements]


BIG_BILOBAR = {"lesion_count": 12, "largest_lesion_cm": 8.0, "lobar_distribution": "bilobar"}


def test_1_options_follow_their_own_passages_not_frailty(client: TestClient) -> None:
    fit = partition(explain(client, **BIG_BILOBAR, performance_status=0))[0]
    frail = partition(explain(client, **BIG_BILOBAR, performance_status=4))[0]
    assert {"tace", "sirt"} <= fit, "TACE and SIRT ask for liver-only (or liver-dominant) disease, not frailty"
    assert {"tace", "sirt"} <= frail
    assert "hepatic_arterial_infusion" not in frail, "the HAI pump is placed in an operation"


def test_2_disease_set_aside_for_resection_reaches_the_liver_directed_options(client: TestClient) -> None:
    melanoma = partition(explain(client, primary_site="melanoma", lesion_count=6, largest_lesion_cm=3.5,
                                 performance_status=1))[0]  # fmt: skip
    assert "surgical_resection" not in melanoma
    assert {"tace", "sirt", "external_radiotherapy"} <= melanoma
    uveal = partition(explain(client, primary_site="uveal_melanoma", lesion_count=4, performance_status=1))[0]
    assert {"tace", "sirt", "external_radiotherapy"} <= uveal
    for site in ("lung", "pancreas"):
        small = explain(client, primary_site=site, lesion_count=2, largest_lesion_cm=1.5)
        assert {"ablation", "external_radiotherapy"} <= partition(small)[0], site
        labels = [v["label"] for v in category(small, "external_radiotherapy")["variants"]]
        assert "Stereotactic body radiotherapy (SBRT)" in labels


def test_3_sirt_takes_either_situation_of_its_passage(client: TestClient) -> None:
    body = explain(client, lesion_count=20, lobar_distribution="bilobar")
    assert "sirt" in partition(body)[0]


def test_4_hai_for_unresectable_liver_only_disease_not_through_cirrhosis(client: TestClient) -> None:
    assert "hepatic_arterial_infusion" in partition(explain(client, technical_resectability="unresectable"))[0]
    assert "hepatic_arterial_infusion" in partition(explain(client, liver_function="cirrhosis"))[1]


def test_5_liver_transplantation_can_be_discussed(client: TestClient) -> None:
    body = explain(client, technical_resectability="unresectable")
    transplant = category(body, "liver_transplantation")
    assert transplant in body["discussed"]
    assert "transplant.caveat.limited_data_early_recurrence" in shown_rules(transplant)


def test_6_standard_of_care_only_for_resectable_disease(client: TestClient) -> None:
    big = category(explain(client, **BIG_BILOBAR), "surgical_resection")
    assert "resection.discussed.colorectal_standard_of_care" not in shown_rules(big)
    resectable = category(explain(client, technical_resectability="resectable"), "surgical_resection")
    assert "resection.discussed.colorectal_standard_of_care" in shown_rules(resectable)


def test_7_hedges_stay_hedges(client: TestClient) -> None:
    cirrhosis = category(explain(client, liver_function="cirrhosis"), "surgical_resection")
    assert cirrhosis["summary"].endswith("commonly discussed in the sources for a case like this.")
    assert "resection.caveat.cirrhosis" in shown_rules(cirrhosis)
    too_large = next(r for r in category(explain(client, largest_lesion_cm=3.0), "ablation")["reasons"]
                     if r["rule"] == "ablation.not_discussed.too_large")  # fmt: skip
    assert "reading" in too_large["because"] and "usually" in too_large["because"]
    assert "surgical_resection" in partition(explain(client, primary_site="breast", lesion_count=1))[0]
    for site in ("breast", "stomach", "melanoma", "unknown"):
        assert "surgical_resection" in partition(explain(client, primary_site=site, lesion_count=2))[1], site


def test_8_entries_listed_for_every_case_are_marked_general(client: TestClient) -> None:
    body = explain(client, symptomatic=False, technical_resectability="resectable")
    basis = {c["category"]: c["basis"] for c in body["discussed"]}
    assert basis["immunotherapy"] == basis["clinical_trial"] == "general"
    assert basis["surgical_resection"] == "case"
    monitoring = category(body, "active_monitoring")
    assert "monitoring.caveat.curative_option_discussed" in shown_rules(monitoring)


def test_9_arguments_and_reasons_in_context(client: TestClient) -> None:
    frail = category(explain(client, performance_status=4), "surgical_resection")
    assert "resection.for.colorectal_survival" not in shown_rules(frail)
    mutant = category(explain(client, kras_status="mutant"), "targeted_therapy")
    assert "targeted.discussed.colorectal_egfr" not in shown_rules(mutant)
    unresectable = explain(client, technical_resectability="unresectable")
    chemo = category(unresectable, "systemic_chemotherapy")
    assert not any("safer for a surgeon" in c["quote"] for s in chemo["rationale"] for c in s["citations"])
    solitary = category(explain(client, lesion_count=1), "surgical_resection")
    assert "resection.variant.ex_vivo" not in shown_rules(solitary)
    declined = explain(client, declines_surgery=True)
    for cat in declined["discussed"]:
        for s in cat["rationale"]:
            if s["rule"] != "sirt.discussed.liver_primary_problem":  # quotes the whole "or" sentence
                assert not any("surgeon can't remove" in c["quote"] for c in s["citations"]), s["rule"]
    treated = category(explain(client, prior_treatments=["chemotherapy"]), "surgical_resection")
    assert "resection.for.normal_liver" not in shown_rules(treated)
    assert "resection.caveat.prior_chemotherapy" in shown_rules(treated)
    work_up = {i["id"]: i for i in explain(client)["investigations"]}
    assert "investigation.biopsy.operable" not in [s["rule"] for s in work_up["biopsy"]["relevance"]]
