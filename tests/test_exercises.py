"""The exercise library loader and the /v1/exercises API: listing, items with and without keys, scoring in
practice and test mode with elaborated feedback, seeded variants, errors."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.exercises.library import ExerciseLibraryError, load_library
from app.main import create_app
from schemas.exercise import CONCORDANCE_NOTE
from tests.conftest import expected_stamp, loaded_rulebook, seeds_dir
from tests.exercise_support import FIXTURES, settings

VID = "crc-solitary-fit"


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app(settings(FIXTURES))) as client:
        yield client


def broken_library(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "vignettes"
    shutil.copytree(FIXTURES, folder)
    path = folder / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return folder


def load_error(folder: Path) -> str:
    with pytest.raises(ExerciseLibraryError) as caught:
        load_library(folder, loaded_rulebook(), seeds_dir())
    return str(caught.value)


# ---- the loader ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("difficulty: introductory", "difficulty: easy", "difficulty: Input should be 'introductory'"),
        ("tags: [colorectal", "colour: red\ntags: [colorectal", "colour: Extra inputs are not permitted"),
        ("id: crc-solitary-fit", "id: crc-other", "id: 'crc-other' differs from the file name 'crc-solitary-fit'"),
        ("resection.discussed.favourable_primary,", "resection.no_such_rule,", "rules.0: unknown rule"),
        ("such as colorectal or ovarian cancers.", "such as colorectal cancers.", "sources.0.quote: quote not found"),
        ("source: patient-plus", "source: wikipedia", "sources.1.source: unknown source 'wikipedia'"),
        ("performance_status: 0", "performance_status: 7", "case.performance_status: Input should be less"),
        ("  surgical_resection: discussed", "  surgery: discussed", "expect.surgery: unknown category"),
        ("He works full time", "Resection is recommended; he works full time", "story: directive wording"),
    ],
)
def test_a_bad_vignette_stops_loading_naming_the_file_and_the_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    error = load_error(broken_library(tmp_path, f"{VID}.yaml", old, new))
    assert f"vignettes/{VID}.yaml: " in error and message in error


def test_a_yaml_alias_is_refused(tmp_path: Path) -> None:
    folder = broken_library(
        tmp_path, f"{VID}.yaml", "tags: [colorectal, boundary-size]", "tags: &t [a]\nobjectives2: *t"
    )
    assert "aliases" in load_error(folder)


def test_a_missing_folder_is_an_empty_library(tmp_path: Path) -> None:
    assert load_library(tmp_path / "nowhere", loaded_rulebook(), seeds_dir()).vignettes == {}


# ---- the API ---------------------------------------------------------------------------------------


def test_the_list_gives_id_title_objectives_difficulty_and_tags(api: TestClient) -> None:
    listed = api.get("/v1/exercises").json()
    assert VID in [e["id"] for e in listed]
    assert all(set(e) == {"id", "title", "objectives", "difficulty", "tags"} for e in listed)


def test_items_come_without_keys_unless_asked(api: TestClient) -> None:
    plain = api.get(f"/v1/exercises/{VID}").json()
    keyed = api.get(f"/v1/exercises/{VID}?with_key=true").json()
    assert plain["exercise"]["case"]["primary_site"] == "colorectal"
    assert plain["disclaimer"] and plain["rulebook"] == expected_stamp()
    assert all(i["key"] is None and i["before"] is None and i["after"] is None for i in plain["exercise"]["items"])
    keys_in_words = ("commonly discussed", "not typically discussed", "depends")
    assert not [
        i["note"] for i in plain["exercise"]["items"] if i["note"] and any(w in i["note"] for w in keys_in_words)
    ]
    assert all(i["key"]["status"] in ("discussed", "not_discussed", "depends") for i in keyed["exercise"]["items"])
    assert [i["id"] for i in plain["exercise"]["items"]] == [i["id"] for i in keyed["exercise"]["items"]]
    types = {i["type"] for i in keyed["exercise"]["items"]}
    assert {"status", "change", "concordance"} <= types
    change = next(i for i in keyed["exercise"]["items"] if i["type"] == "change")
    assert change["case_after"] and change["before"] and change["after"] == change["key"]["status"]


def test_the_same_seed_gives_the_same_variants_each_with_its_parent(api: TestClient) -> None:
    first = api.get(f"/v1/exercises/{VID}?seed=11&variants=3&with_key=true").json()
    again = api.get(f"/v1/exercises/{VID}?seed=11&variants=3&with_key=true").json()
    assert first == again and first["seed"] == 11 and first["variants"]
    for variant in first["variants"]:
        assert variant["parent"] == VID and variant["changes"] and variant["case"] != first["exercise"]["case"]
        assert all(i["parent"] for i in variant["items"])


def test_an_unknown_exercise_is_404(api: TestClient) -> None:
    for response in (
        api.get("/v1/exercises/no-such-thing"),
        api.post("/v1/exercises/no-such-thing/answers", json={"answers": {}}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def items(api: TestClient, **query: Any) -> dict[str, dict[str, Any]]:
    body = api.get(f"/v1/exercises/{VID}", params={"with_key": "true", **query}).json()
    found = body["exercise"]["items"] + [i for v in body["variants"] for i in v["items"]]
    return {i["id"]: i for i in found}


def right_answer(item: dict[str, Any]) -> str | int:
    field = {"concordance": "value", "why_not": "option"}.get(item["type"], "status")
    answer: str | int = item["key"][field]
    return answer


def test_practice_mode_scores_and_explains_each_answered_item(api: TestClient) -> None:
    keyed = items(api)
    status = next(i for i in keyed.values() if i["type"] == "status" and i["key"]["status"] == "discussed")
    wrong = "not_discussed"
    body = api.post(f"/v1/exercises/{VID}/answers", json={"answers": {status["id"]: wrong}}).json()
    assert body["mode"] == "practice" and body["max_score"] == 1 and body["score"] == 0
    fb = body["results"][0]["feedback"]
    assert fb["answer"] == wrong and fb["key"]["status"] == "discussed" and not fb["correct"]
    assert fb["answer_text"] == "not typically discussed" and fb["key_text"] == "commonly discussed"
    assert fb["reasons"] and all(r["because"] for r in fb["reasons"])
    assert fb["citations"] and all(c["source"] and c["section"] and c["quote"] for c in fb["citations"])
    assert "multidisciplinary team (MDT)" in fb["disclaimer"]
    assert body["most_missed_rules"][0]["rule"] in {r["rule"] for r in fb["reasons"]}


def test_test_mode_scores_every_item_and_the_right_answers_score_full_marks(api: TestClient) -> None:
    keyed = items(api, seed=5, variants=2)
    answers = {item_id: right_answer(item) for item_id, item in keyed.items()}
    sheet = {"mode": "test", "seed": 5, "variants": 2, "answers": answers}
    body = api.post(f"/v1/exercises/{VID}/answers", json=sheet).json()
    assert body["score"] == body["max_score"] == len(keyed)
    assert body["unanswered"] == [] and body["most_missed_rules"] == []
    half = dict(list(answers.items())[: len(answers) // 2])
    partial = api.post(f"/v1/exercises/{VID}/answers", json={**sheet, "answers": half}).json()
    assert partial["max_score"] == len(keyed) and set(partial["unanswered"]) == set(answers) - set(half)
    assert all(r["feedback"]["answer_text"] == "no answer" for r in partial["results"] if r["id"] not in half)


def test_concordance_scores_one_minus_the_distance_over_four(api: TestClient) -> None:
    item = next(i for i in items(api).values() if i["type"] == "concordance")
    key = item["key"]["value"]
    answer = 2 if key <= 0 else -2
    body = api.post(f"/v1/exercises/{VID}/answers", json={"answers": {item["id"]: answer}}).json()
    assert body["results"][0]["score"] == 1 - abs(answer - key) / 4
    assert body["results"][0]["feedback"]["note"] == CONCORDANCE_NOTE


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"crc-solitary-fit.status.nothing": "discussed"}, "answers.crc-solitary-fit.status.nothing"),
        ({"crc-solitary-fit.status.ablation": "maybe"}, "answers.crc-solitary-fit.status.ablation"),
        ({"crc-solitary-fit.status.ablation": 1}, "answers.crc-solitary-fit.status.ablation"),
    ],
)
def test_an_answer_outside_the_exercise_or_its_choices_is_422(
    api: TestClient, answers: dict[str, Any], field: str
) -> None:
    response = api.post(f"/v1/exercises/{VID}/answers", json={"answers": answers})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_a_boolean_answer_is_refused(api: TestClient) -> None:
    response = api.post(f"/v1/exercises/{VID}/answers", json={"answers": {f"{VID}.status.ablation": True}})
    assert response.status_code == 422


def test_the_exercise_endpoints_are_published_with_examples(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    paths = doc["paths"]
    assert {"/v1/exercises", "/v1/exercises/export", "/v1/exercises/{exercise_id}"} <= set(paths)
    post = paths["/v1/exercises/{exercise_id}/answers"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]
    assert {"Item", "ItemKey", "ScoreReport", "Feedback", "ExerciseDetail"} <= set(doc["components"]["schemas"])
    export = paths["/v1/exercises/export"]["get"]
    assert {"format", "seed", "variants", "ids"} <= {p["name"] for p in export["parameters"]}
    assert {"application/xml", "application/zip", "application/octet-stream", "text/html"} <= set(
        export["responses"]["200"]["content"]
    )


def test_variants_without_a_seed_make_no_variants(api: TestClient) -> None:
    body = api.get(f"/v1/exercises/{VID}?variants=2").json()
    assert body["variants"] == [] and body["seed"] is None
