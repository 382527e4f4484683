"""The Python API (`from app import Explainer`): the README's example runs as written, and the
answers are the HTTP API's answers."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app import Explainer, InvalidCase
from app.rulebook import RulebookError
from app.settings import PROJECT_ROOT
from schemas.explanation import Explanation
from tests.conftest import BASE_CASE, RULES_DIR


@pytest.fixture(scope="module")
def explainer(seeds: Path) -> Explainer:
    return Explainer.load(rules_dir=RULES_DIR, seeds_dir=seeds)


def readme_example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the README's Python API section has a python example"
    return found.group(1)


def test_the_readme_example_runs(seeds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(readme_example(), "README.md (Python API)", "exec"), {})
    printed = capsys.readouterr().out
    assert "commonly discussed in the sources" in printed
    assert "recommended" not in printed


def test_answers_are_the_http_answers(explainer: Explainer, client: TestClient) -> None:
    assert explainer.explain_json(BASE_CASE) == client.post("/v1/explain", json=BASE_CASE).content
    explanation = explainer.explain(BASE_CASE, what_if=True)
    assert isinstance(explanation, Explanation) and explanation.what_if is not None
    other = {**BASE_CASE, "extrahepatic_disease": "extensive"}
    http = client.post("/v1/compare", json={"a": BASE_CASE, "b": other}).json()
    assert explainer.compare(BASE_CASE, other).model_dump(mode="json") == http


def test_many_cases_give_one_result_each_in_order(explainer: Explainer) -> None:
    results = list(explainer.explain_many([BASE_CASE, {"primary_site": "lung"}, {**BASE_CASE, "lesion_count": 3}]))
    assert isinstance(results[0], Explanation) and isinstance(results[2], Explanation)
    assert results[2].case.lesion_count == 3
    assert isinstance(results[1], InvalidCase)
    assert {e["loc"] for e in results[1].errors} >= {("lesion_count",), ("performance_status",)}


def test_an_invalid_case_raises_and_a_bad_rulebook_names_its_file(explainer: Explainer, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="lesion_count"):
        explainer.explain({**BASE_CASE, "lesion_count": 0})
    with pytest.raises(RulebookError, match=r"rulebook\.yaml: file is missing"):
        Explainer.load(rules_dir=tmp_path, verify_quotes=False)
    assert "MDT" in explainer.rulebook.meta.disclaimer
    assert explainer.quotes.at_start_up is True and explainer.quotes.verified_digest == explainer.stamp.digest
