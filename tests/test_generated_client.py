"""A client generated from the live server's own OpenAPI document (openapi-python-client, a pinned
dev dependency) works: it generates without warnings, imports, and calls explain, compare and batch
against a real server on loopback, its typed models reading every answer, errors included."""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import BASE_CASE

PACKAGE = "livermets_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def generated(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    where = tmp_path_factory.mktemp("client")
    (where / "openapi.json").write_bytes(httpx.get(f"{live_server}/openapi.json").content)
    (where / "config.yaml").write_text(
        f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\npost_hooks: []\n", encoding="utf-8"
    )
    command = ["generate", "--path", "openapi.json", "--config", "config.yaml", "--meta", "none"]
    run = subprocess.run(
        [str(GENERATOR), *command, "--output-path", PACKAGE],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The generator reports what it could not read from the document as warnings: there must be none.
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_explain_through_the_generated_client(generated: ModuleType, live_server: str) -> None:
    models, explain = _module("models"), _module("api.explain.explain")
    with generated.Client(base_url=live_server) as client:
        answer = explain.sync(client=client, body=models.Case.from_dict(BASE_CASE))
        with_what_if = explain.sync(client=client, body=models.Case.from_dict(BASE_CASE), what_if=True)
    assert isinstance(answer, models.Explanation)
    assert answer.discussed and isinstance(answer.discussed[0].category, models.CategoryId)
    assert isinstance(answer.discussed[0].basis, models.Basis)
    assert isinstance(answer.case.primary_site, models.PrimarySite)
    assert isinstance(answer.disclaimer_citations[0].source, models.SourceId)
    assert isinstance(answer.what_if, generated.types.Unset)  # absent unless asked for
    assert isinstance(with_what_if.what_if, models.WhatIf) and with_what_if.what_if.changes


def test_compare_through_the_generated_client(generated: ModuleType, live_server: str) -> None:
    models, compare = _module("models"), _module("api.explain.compare")
    pair = models.CompareRequest.from_dict({"a": BASE_CASE, "b": {**BASE_CASE, "extrahepatic_disease": "extensive"}})
    with generated.Client(base_url=live_server) as client:
        answer = compare.sync(client=client, body=pair)
    assert isinstance(answer, models.Comparison)
    assert [d.field for d in answer.changed_inputs] == ["extrahepatic_disease"]
    assert all(isinstance(d.a, models.Status) for d in answer.differences)


def test_batch_through_the_generated_client(generated: ModuleType, live_server: str) -> None:
    models, batch = _module("models"), _module("api.explain.batch")
    request = models.BatchRequest.from_dict({"cases": [BASE_CASE, {**BASE_CASE, "lesion_count": 2}]})
    with generated.Client(base_url=live_server) as client:
        answer = batch.sync(client=client, body=request)
    assert isinstance(answer, models.BatchResponse)
    assert (answer.count, answer.explained, answer.invalid) == (2, 2, 0)
    assert all(isinstance(r, models.Explained) for r in answer.results)
    # An entry the server found invalid reads as an `Invalid` with its problem document.
    entry = models.BatchResponse.from_dict(
        httpx.post(f"{live_server}/v1/explain/batch", json={"cases": [{**BASE_CASE, "lesion_count": 0}]}).json()
    ).results[0]
    assert isinstance(entry, models.Invalid)
    assert entry.problem.code == "invalid_request" and entry.problem.errors[0].field == "lesion_count"


def test_an_error_reads_as_the_problem_document(generated: ModuleType, live_server: str) -> None:
    models, sources = _module("models"), _module("api.catalogue.list_sources")
    with generated.Client(base_url=live_server, raise_on_unexpected_status=True) as client:
        listed = sources.sync(client=client)
    assert listed and isinstance(listed[0].id, models.SourceId)
    refused = models.ErrorResponse.from_dict(httpx.get(f"{live_server}/v1/sources?x=1").json())
    assert (refused.status, refused.code, refused.errors[0].field) == (422, "invalid_request", "query.x")
