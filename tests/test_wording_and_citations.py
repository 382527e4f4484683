"""Clinical-safety wording and verbatim citations, across the rulebook and real output."""

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from app.citations import MissingDocuments, SourceTexts, normalise
from app.rulebook import Rulebook, all_citations
from schemas.rulebook import CitationSpec
from tests.strategies import case_dicts

FORBIDDEN = re.compile(r"\brecommend|\bindicated\b|\byou should\b", re.IGNORECASE)


def texts_outside_quotes(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in a response except citation quotes (which must stay verbatim)."""
    if isinstance(node, dict):
        return [t for k, v in node.items() if k != "quote" for t in texts_outside_quotes(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [t for i, v in enumerate(node) for t in texts_outside_quotes(v, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def test_every_quote_in_the_rulebook_occurs_verbatim_in_its_document(book: Rulebook, seeds: Path) -> None:
    texts = SourceTexts(seeds, book.sources)
    problems = [f"{where}: {texts.problem(cite)}" for where, cite in all_citations(book) if texts.problem(cite)]
    assert problems == []
    assert len(list(all_citations(book))) > 100


def test_quote_check_catches_a_changed_word(book: Rulebook, seeds: Path) -> None:
    texts = SourceTexts(seeds, book.sources)
    cite = CitationSpec(
        source="secondary-liver-cancer-guide",
        section="What is the role of chemotherapy in treating liver metastases?",
        quote="Chemotherapy is the most common treatment offered for liver metastases.",
    )
    assert texts.problem(cite) is None
    changed = cite.model_copy(update={"quote": "Chemotherapy is the best treatment offered for liver metastases."})
    assert "quote not found verbatim" in (texts.problem(changed) or "")


def test_normalising_folds_whitespace_and_typographic_quotes() -> None:
    assert normalise("aren\u2019t  \n effective") == "aren't effective"
    assert normalise("\u201cportal vein\u201d") == '"portal vein"'


def test_missing_documents_are_reported_clearly(book: Rulebook, tmp_path: Path) -> None:
    with pytest.raises(MissingDocuments, match="source documents not found"):
        SourceTexts(tmp_path / "nowhere", book.sources)
    with pytest.raises(MissingDocuments, match=r"000_b3b314c00dd6cb2e\.txt"):
        SourceTexts(tmp_path, book.sources)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=case_dicts)
def test_no_output_text_outside_quotes_uses_prescriptive_wording(case: dict[str, Any], client: TestClient) -> None:
    body = client.post("/v1/explain?what_if=true", json=case).json()
    offending = [(p, t) for p, t in texts_outside_quotes(body) if FORBIDDEN.search(t)]
    assert offending == []


@pytest.mark.parametrize("path", ["/v1/categories", "/v1/rules", "/v1/sources", "/v1/about"])
def test_catalogue_text_outside_quotes_uses_no_prescriptive_wording(client: TestClient, path: str) -> None:
    offending = [(p, t) for p, t in texts_outside_quotes(client.get(path).json()) if FORBIDDEN.search(t)]
    assert offending == []
