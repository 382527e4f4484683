"""The wording invariants of tests/test_wording_and_citations.py, extended to exercise text and feedback:
every quote verbatim in its document (with its section), the MDT disclaimer on every feedback and export,
no directive wording outside quotes, and no claim of a learning effect anywhere (items are scored, that is all)."""

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.citations import SourceTexts
from app.exercises.export import render_export
from app.main import create_app
from app.settings import PROJECT_ROOT
from tests.conftest import loaded_rulebook, seeds_dir
from tests.exercise_support import LIBRARY, every_exercises, settings
from tests.test_wording_and_citations import FORBIDDEN, texts_outside_quotes

LEARNING_CLAIM = re.compile(
    r"\b(improv|boost|enhanc|increas)\w*\b[^.]{0,40}\b(learning|knowledge|competence|performance|outcomes?)\b"
    r"|\blearning (effect|gain|outcome)s?\b|\bproven\b|\beffective (teaching|learning)\b",
    re.IGNORECASE,
)
SEED, VARIANTS = 2, 2


@pytest.fixture(scope="module")
def library_api() -> Any:
    with TestClient(create_app(settings(LIBRARY))) as client:
        yield client


def quotes(node: Any) -> list[dict[str, Any]]:
    """Every object holding a `quote` (citations and vignette sources)."""
    if isinstance(node, dict):
        return ([node] if "quote" in node else []) + [q for v in node.values() for q in quotes(v)]
    if isinstance(node, list):
        return [q for v in node for q in quotes(v)]
    return []


def test_exercise_text_and_feedback_quote_verbatim_carry_the_disclaimer_and_use_no_directive_wording(
    library_api: TestClient,
) -> None:
    texts = SourceTexts(seeds_dir(), loaded_rulebook().sources)
    disclaimer = " ".join(loaded_rulebook().meta.disclaimer.split())
    listed = library_api.get("/v1/exercises").json()
    assert listed
    for summary in listed:
        detail = library_api.get(f"/v1/exercises/{summary['id']}?with_key=true&seed={SEED}&variants={VARIANTS}").json()
        sheet = {"mode": "test", "seed": SEED, "variants": VARIANTS, "answers": {}}
        report = library_api.post(f"/v1/exercises/{summary['id']}/answers", json=sheet).json()
        assert detail["disclaimer"] == disclaimer == report["disclaimer"]
        assert report["results"] and all(r["feedback"]["disclaimer"] == disclaimer for r in report["results"])
        for body in (summary, detail, report):
            assert [(p, t) for p, t in texts_outside_quotes(body) if FORBIDDEN.search(t)] == []
            assert [(p, t) for p, t in texts_outside_quotes(body) if LEARNING_CLAIM.search(t)] == []
            for q in quotes(body):
                assert texts.quote_problem(q["source"], q["quote"]) is None, q
                if q.get("section"):
                    assert texts.quote_problem(q["source"], q["section"]) is None, q


def outside_blockquotes(document: str) -> str:
    return re.sub(r"<blockquote>.*?</blockquote>", " ", unescape(document), flags=re.DOTALL)


@pytest.mark.parametrize("fmt", ["moodle-xml", "handout"])
def test_every_export_carries_the_disclaimer_and_no_directive_wording_outside_quotes(fmt: Any) -> None:
    for ex in every_exercises():
        document = render_export(ex, fmt, SEED, VARIANTS).decode("utf-8")
        assert "multidisciplinary team (MDT)" in document
        text = outside_blockquotes(document)
        assert not FORBIDDEN.search(text), FORBIDDEN.search(text)
        assert not LEARNING_CLAIM.search(text), LEARNING_CLAIM.search(text)


def test_the_readme_teaching_section_claims_no_learning_effect() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Teaching", 1)[1].split("\n## ", 1)[0]
    assert "not a validated script concordance test" in section
    assert not LEARNING_CLAIM.search(section), LEARNING_CLAIM.search(section)
    assert not FORBIDDEN.search(section)
