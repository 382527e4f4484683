"""The exports, each read back by an independent reader: Moodle XML parsed with ElementTree and compared
with the items; the QTI 1.2 package unzipped, its manifest and items parsed and checked; the Anki package
opened with sqlite3 (notes and GUIDs, the same GUIDs after a rebuild); the handout's page breaks. Golden
files for one vignette (regenerate with `python -m tests.exercise_golden`)."""

import io
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import genanki
import pytest
from fastapi.testclient import TestClient

from app.exercises.anki import note_guid
from app.exercises.export import render_export
from app.exercises.items import Built
from app.exercises.scoring import score
from app.main import create_app
from app.settings import PROJECT_ROOT
from tests.exercise_golden import GOLDEN_DIR, rendered
from tests.exercise_support import FIXTURES, fixture_exercises, settings

SEED, VARIANTS = 3, 2
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app(settings(FIXTURES))) as client:
        yield client


def library() -> list[tuple[Built, list[Built]]]:
    return fixture_exercises().everything(SEED, VARIANTS)


def all_keyed() -> dict[str, Any]:
    return {i: k for parent, variants in library() for b in (parent, *variants) for i, k in b.keyed.items()}


def export(fmt: Any) -> bytes:
    return render_export(fixture_exercises(), fmt, SEED, VARIANTS)


def test_moodle_xml_reads_back_as_the_items_with_their_keys() -> None:
    quiz = ET.fromstring(export("moodle-xml"))
    categories = [q for q in quiz if q.get("type") == "category"]
    questions = [q for q in quiz if q.get("type") == "multichoice"]
    keyed = all_keyed()
    parents = [p.exercise.id for p, _ in library()]
    assert [c.findtext("category/text", "").rsplit("[", 1)[-1].split("]")[0] for c in categories][:1] == parents[:1]
    assert {c.findtext("category/text", "").split("[")[-1].split("]")[0] for c in categories} == set(parents)
    assert [q.findtext("name/text") for q in questions] == list(keyed)
    for q in questions:
        k = keyed[q.findtext("name/text", "")]
        answers = q.findall("answer")
        assert [a.findtext("text") for a in answers] == [c.text for c in k.item.choices]
        assert [int(a.get("fraction", "")) for a in answers] == [round(score(k, c.value) * 100) for c in k.item.choices]
        assert sum(a.get("fraction") == "100" for a in answers) == 1, "one best answer"
        assert all(a.findtext("feedback/text") for a in answers), "per-answer feedback"
        general = q.findtext("generalfeedback/text", "")
        assert "<blockquote>" in general and "multidisciplinary team (MDT)" in general
        assert q.findtext("single") == "true"


def test_the_qti_package_has_a_manifest_and_one_item_per_exercise_item() -> None:
    package = zipfile.ZipFile(io.BytesIO(export("qti12")))
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert [r.get("identifier") for r in resources] == [p.exercise.id for p, _ in library()]
    keyed = all_keyed()
    seen: list[str] = []
    for resource in resources:
        assert resource.get("type") == "imsqti_xmlv1p2"
        file = resource.find(f"{CP}file")
        assert file is not None
        href = file.get("href", "")
        root = ET.fromstring(package.read(href))
        assessment = root.find(f"{QTI}assessment")
        assert assessment is not None and assessment.get("ident") == resource.get("identifier")
        for item in assessment.iter(f"{QTI}item"):
            k = keyed[item.get("ident", "")]
            seen.append(k.item.id)
            meta = {
                f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                for f in item.iter(f"{QTI}qtimetadatafield")
            }
            assert meta["question_type"] == "multiple_choice_question" and meta["points_possible"] == "1"
            labels = item.findall(f"{QTI}presentation/{QTI}response_lid/{QTI}render_choice/{QTI}response_label")
            assert [lab.findtext(f"{QTI}material/{QTI}mattext") for lab in labels] == [c.text for c in k.item.choices]
            credit = {
                c.findtext(f"{QTI}conditionvar/{QTI}varequal"): c.findtext(f"{QTI}setvar")
                for c in item.findall(f"{QTI}resprocessing/{QTI}respcondition")
                if c.find(f"{QTI}setvar") is not None
            }
            expected = {f"choice{n}": score(k, c.value) for n, c in enumerate(k.item.choices) if score(k, c.value) > 0}
            assert {lid: int(v or 0) / 100 for lid, v in credit.items()} == expected
            assert "<blockquote>" in (
                item.findtext(f"{QTI}itemfeedback/{QTI}flow_mat/{QTI}material/{QTI}mattext") or ""
            )
    assert seen == list(keyed)


def anki_notes(data: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    package = zipfile.ZipFile(io.BytesIO(data))
    path = tmp_path / "collection.anki2"
    path.write_bytes(package.read("collection.anki2"))
    with sqlite3.connect(path) as db:
        rows = db.execute("select guid, flds from notes order by id").fetchall()
    path.unlink()
    return [(guid, fields) for guid, fields in rows]


def test_the_anki_deck_has_one_note_per_item_with_a_guid_from_its_id_stable_across_rebuilds(tmp_path: Path) -> None:
    notes = anki_notes(export("anki"), tmp_path)
    keyed = all_keyed()
    by_id = {fields.split("\x1f")[0]: guid for guid, fields in notes}
    assert set(by_id) == set(keyed) and len(notes) == len(keyed)
    assert all(guid == genanki.guid_for(item_id) == note_guid(item_id) for item_id, guid in by_id.items())
    rebuilt = anki_notes(export("anki"), tmp_path)
    assert sorted(guid for guid, _ in rebuilt) == sorted(by_id.values())


def test_the_handout_puts_the_answer_key_after_every_question_on_new_pages() -> None:
    html = export("handout").decode("utf-8")
    assert ".answer-key { break-before: page; page-break-before: always; }" in html
    questions, key = html.split("<div class='answer-key'>")
    assert "Key:" not in questions and "<blockquote>" not in questions
    assert key.count("<blockquote>") > 0 and "multidisciplinary team (MDT)" in key
    for item_id in all_keyed():
        assert item_id in questions and item_id in key
    assert not re.search(r"<(script|link|img)\b", html), "no external assets, no script"


def test_the_golden_files_of_one_vignette_are_current() -> None:
    for name, text in rendered().items():
        golden = (GOLDEN_DIR / name).read_text(encoding="utf-8")
        assert text == golden, f"{name} differs: run `python -m tests.exercise_golden` and review the diff"


@pytest.mark.parametrize(
    ("fmt", "media_type", "suffix"),
    [
        ("moodle-xml", "application/xml", "xml"),
        ("qti12", "application/zip", "zip"),
        ("anki", "application/octet-stream", "apkg"),
        ("handout", "text/html; charset=utf-8", "html"),
    ],
)
def test_the_export_endpoint_serves_each_format_as_an_attachment(
    api: TestClient, fmt: str, media_type: str, suffix: str
) -> None:
    response = api.get(f"/v1/exercises/export?format={fmt}&seed={SEED}&variants={VARIANTS}")
    assert response.status_code == 200 and response.headers["content-type"] == media_type
    assert response.headers["content-disposition"].endswith(f'-seed{SEED}-variants{VARIANTS}.{suffix}"')
    if fmt != "anki":  # the .apkg holds its own timestamps; its GUIDs are checked above
        assert response.content == export(fmt)


def test_an_unknown_export_format_is_422(api: TestClient) -> None:
    response = api.get("/v1/exercises/export?format=pdf")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.format"


def test_the_command_line_writes_the_same_export(tmp_path: Path) -> None:
    out = tmp_path / "handout.html"
    env = {"LIVERMETS_EXERCISES_DIR": str(FIXTURES), "LIVERMETS_SEEDS_DIR": str(settings().seeds_dir), "PATH": ""}
    args = ["export", "--format", "handout", "--seed", str(SEED), "--variants", str(VARIANTS), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "app.exercises", *args], env=env, capture_output=True, check=False, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == export("handout")


def test_an_export_of_chosen_vignettes_holds_only_those(api: TestClient) -> None:
    response = api.get("/v1/exercises/export?format=moodle-xml&ids=lung-unfit")
    names = [q.findtext("name/text", "") for q in ET.fromstring(response.content) if q.get("type") == "multichoice"]
    assert names and all(n.startswith("lung-unfit.") for n in names)
    missing = api.get("/v1/exercises/export?format=handout&ids=lung-unfit,no-such-vignette")
    assert missing.status_code == 404 and "no-such-vignette" in missing.json()["errors"][0]["message"]


def test_the_readmes_moodle_excerpt_is_the_golden_file() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    excerpt = readme.split("### A Moodle import file (excerpt)", 1)[1].split("```xml\n", 1)[1].split("\n```", 1)[0]
    golden = (PROJECT_ROOT / "tests" / "golden" / "exercises" / "crc-solitary-fit.moodle.xml").read_text()
    pieces = [p.strip("\n") for p in excerpt.split("    ...") if p.strip()]
    assert len(pieces) >= 2
    position = 0
    for piece in pieces:
        position = golden.index(piece, position)  # each piece, in order
