"""The service starts without the source documents (the Docker image) only on a recorded check of its
rulebook's quotes, and says in /v1/about and the start-up log which digest was verified and when;
with the documents it checks every quote itself, and the committed record is kept current."""

import json
import logging
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app.settings
from app.main import create_app
from app.quotes import RECORD_NAME, document_digests, read_record
from app.rulebook import RulebookError
from app.settings import Settings
from tests.conftest import RULES_DIR, loaded_rulebook


@pytest.fixture
def no_documents_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the image: nothing at the default place of the documents, and none given."""
    monkeypatch.setattr(app.settings, "DEFAULT_SEEDS_DIR", tmp_path / "no-seeds")


def copied_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    return rules


def about(settings: Settings) -> dict[str, object]:
    with TestClient(create_app(settings)) as client:
        body: dict[str, object] = client.get("/v1/about").json()
        return body


def test_the_committed_record_is_for_the_committed_rulebook_and_documents(seeds: Path) -> None:
    book = loaded_rulebook()  # loading with the documents found every quote verbatim
    record = read_record(RULES_DIR)
    fix = "run `make verified` (livermets check-rules --record) and commit rules/" + RECORD_NAME
    assert record is not None, fix
    assert record.digest == book.digest, fix
    assert record.documents == document_digests(book, seeds), fix


def test_with_the_documents_every_quote_is_checked_at_start_up(app_settings: Settings) -> None:
    quotes = about(app_settings)["quotes"]
    assert isinstance(quotes, dict)
    assert quotes["at_start_up"] is True
    assert quotes["verified_digest"] == loaded_rulebook().digest
    assert "when the rulebook was loaded at start-up" in quotes["statement"]


@pytest.mark.usefixtures("no_documents_here")
def test_without_documents_it_starts_on_the_record_and_says_which_digest_and_when(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = read_record(RULES_DIR)
    assert record is not None
    with caplog.at_level(logging.INFO, logger="livermets"):
        quotes = about(Settings(rules_dir=RULES_DIR))["quotes"]
    assert isinstance(quotes, dict)
    assert quotes["at_start_up"] is False
    assert quotes["verified_digest"] == record.digest == loaded_rulebook().digest
    assert quotes["verified_at"] == record.verified_at.isoformat().replace("+00:00", "Z")
    for said in (quotes["statement"], caplog.text):
        assert "not available" in said and record.digest in said and record.verified_at.strftime("%Y-%m-%d") in said


@pytest.mark.usefixtures("no_documents_here")
def test_without_documents_a_rulebook_never_checked_does_not_start(tmp_path: Path) -> None:
    rules = copied_rules(tmp_path)
    edited = (rules / "categories.yaml").read_text().replace("label: Ablation", "label: Ablation (local)", 1)
    (rules / "categories.yaml").write_text(edited)
    with pytest.raises(RulebookError, match=r"cannot be checked.*LIVERMETS_SEEDS_DIR.*LIVERMETS_VERIFY_QUOTES=false"):
        about(Settings(rules_dir=rules))
    (rules / RECORD_NAME).unlink()
    with pytest.raises(RulebookError, match=f"{RECORD_NAME} does not exist"):
        about(Settings(rules_dir=rules))


@pytest.mark.usefixtures("no_documents_here")
def test_switched_off_it_starts_and_says_nothing_was_checked(tmp_path: Path) -> None:
    rules = copied_rules(tmp_path)
    (rules / RECORD_NAME).unlink()
    quotes = about(Settings(rules_dir=rules, verify_quotes=False))["quotes"]
    assert isinstance(quotes, dict)
    assert quotes["verified_digest"] is None and quotes["verified_at"] is None
    assert "not checked" in quotes["statement"]


def test_given_documents_missing_a_quote_stop_start_up_whatever_the_record(tmp_path: Path, seeds: Path) -> None:
    documents = tmp_path / "seeds"
    shutil.copytree(seeds, documents)
    source = next(iter(loaded_rulebook().sources.values()))
    (documents / source.document).write_text("A document without any of its quotes.\n")
    with pytest.raises(RulebookError, match="quote not found verbatim"):
        about(Settings(rules_dir=RULES_DIR, seeds_dir=documents))


def test_a_record_that_cannot_be_read_stops_start_up(tmp_path: Path, no_documents_here: None) -> None:
    rules = copied_rules(tmp_path)
    (rules / RECORD_NAME).write_text(json.dumps({"digest": "sha256:0"}))
    with pytest.raises(RulebookError, match="not a valid record"):
        about(Settings(rules_dir=rules))
