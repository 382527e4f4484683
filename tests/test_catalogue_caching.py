"""The catalogue answers change only with the rulebook: each has a strong ETag naming the rulebook,
Cache-Control asking for revalidation, and If-None-Match gets 304 with no body. Explanations stay
no-store (they describe a patient's case)."""

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.main import create_app
from app.rulebook import Rulebook
from app.settings import Settings
from tests.conftest import BASE_CASE, RULES_DIR

CATALOGUE = ["/v1/sources", "/v1/categories", "/v1/rules", "/v1/about"]
# The plain representation: the gzip coding's own tags are tested in tests/test_compression.py.
PLAIN = {"Accept-Encoding": "identity"}


def get(client: TestClient, path: str, if_none_match: str | None = None) -> Response:
    headers = PLAIN if if_none_match is None else {**PLAIN, "If-None-Match": if_none_match}
    response: Response = client.get(path, headers=headers)
    return response


@pytest.mark.parametrize("path", CATALOGUE)
def test_a_catalogue_answer_has_a_strong_tag_naming_the_rulebook(client: TestClient, book: Rulebook, path: str) -> None:
    response = get(client, path)
    assert response.status_code == 200
    tag = response.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"'), "a strong tag, not W/"
    assert tag.strip('"').startswith(book.digest.removeprefix("sha256:")[:16])
    assert response.headers["cache-control"] == "no-cache"
    assert get(client, path).headers["etag"] == tag, "the same rulebook gives the same tag"


@pytest.mark.parametrize("path", CATALOGUE)
def test_if_none_match_with_the_current_tag_gets_304_and_no_body(client: TestClient, path: str) -> None:
    tag = get(client, path).headers["etag"]
    for held in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = get(client, path, held)
        assert again.status_code == 304, held
        assert again.content == b""
        assert again.headers["etag"] == tag
        assert again.headers["cache-control"] == "no-cache"


def test_a_stale_tag_gets_the_whole_answer(client: TestClient) -> None:
    response = get(client, "/v1/rules", '"0000000000000000-0000000000000000"')
    assert response.status_code == 200
    assert response.json()["rules"]


def test_each_catalogue_answer_has_its_own_tag(client: TestClient) -> None:
    tags = {get(client, path).headers["etag"] for path in CATALOGUE}
    assert len(tags) == len(CATALOGUE)


def test_head_answers_with_the_same_tag_and_304(client: TestClient) -> None:
    tag = get(client, "/v1/categories").headers["etag"]
    assert client.head("/v1/categories", headers=PLAIN).headers["etag"] == tag
    assert client.head("/v1/categories", headers={**PLAIN, "If-None-Match": tag}).status_code == 304


def test_a_changed_rulebook_changes_every_tag(client: TestClient, seeds: Path, tmp_path: Path) -> None:
    """Another rulebook (here one more sentence in its limits) never matches an old tag, even for an
    answer whose own bytes did not change (the sources)."""
    changed = tmp_path / "rules"
    shutil.copytree(RULES_DIR, changed)
    meta = changed / "rulebook.yaml"
    text = meta.read_text(encoding="utf-8")
    assert "\nlimits: >-\n" in text
    meta.write_text(text.replace("\nlimits: >-\n", "\nlimits: >-\n  One more sentence.\n", 1), encoding="utf-8")
    with TestClient(create_app(Settings(rules_dir=changed, seeds_dir=seeds))) as other:
        for path in CATALOGUE:
            old = get(client, path).headers["etag"]
            answer = get(other, path, old)
            assert answer.status_code == 200, path
            assert answer.headers["etag"] != old


def test_explanations_are_still_never_stored(client: TestClient) -> None:
    response = client.post("/v1/explain", json=BASE_CASE)
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


def test_the_contract_declares_the_tag_and_the_304(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in CATALOGUE:
        operation = document["paths"][path]["get"]
        assert "304" in operation["responses"]
        assert {"ETag", "Cache-Control"} <= set(operation["responses"]["200"]["headers"])
        assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in operation["parameters"])
