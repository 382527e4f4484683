"""The rulebook stamp people can trust: a content digest beside version and date, recorded in
rules/CHANGELOG.md for every version, and unchanged by anything that is not content."""

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from app.rulebook import Rulebook, load_rulebook
from tests.conftest import RULES_DIR, expected_stamp

ENTRY = re.compile(r"^## (?P<version>\d+\.\d+\.\d+) \((?P<date>\d{4}-\d{2}-\d{2})\)\ndigest: (?P<digest>\S+)$", re.M)


def recorded() -> dict[str, tuple[str, str]]:
    text = (RULES_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    return {m["version"]: (m["date"], m["digest"]) for m in ENTRY.finditer(text)}


def test_the_loaded_rulebook_is_the_one_the_changelog_records_for_its_version(book: Rulebook) -> None:
    entries = recorded()
    assert book.meta.version in entries, f"rules/CHANGELOG.md has no entry for {book.meta.version}: run make digest"
    date, digest = entries[book.meta.version]
    assert date == book.meta.date.isoformat(), "the changelog entry's date is not the rulebook's"
    assert digest == book.digest, (
        "the rulebook's content changed without a new version: bump rules/rulebook.yaml's version and "
        f"date and record `make digest` in rules/CHANGELOG.md (loaded digest {book.digest})"
    )


def test_every_answer_carries_the_digest(client: TestClient) -> None:
    stamp = expected_stamp()
    assert stamp["digest"].startswith("sha256:") and len(stamp["digest"]) == len("sha256:") + 64
    assert client.get("/healthz").json()["rulebook"] == stamp
    assert client.get("/v1/rules").json()["digest"] == stamp["digest"]


def test_comments_and_moving_a_rule_between_files_leave_the_digest_as_it_is(tmp_path: Path, book: Rulebook) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    tace = rules / "topics" / "tace.yaml"
    text = tace.read_text()
    head, _, rest = text.partition("rules:\n")
    first, _, others = rest.partition("\n\n")  # the first rule of the file, moved to a file of its own
    tace.write_text(
        "# yaml-language-server: $schema=../../schemas/json/rule-file.schema.json\n" + head + "rules:\n" + others
    )
    (rules / "topics" / "zz_moved.yaml").write_text("topic: moved\ntitle: a moved rule\nrules:\n" + first + "\n")
    assert load_rulebook(rules, None).digest == book.digest


def test_a_change_of_content_changes_the_digest(tmp_path: Path, book: Rulebook) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    parameters = rules / "parameters.yaml"
    parameters.write_text(parameters.read_text().replace("value: 3\n", "value: 4\n", 1))
    assert load_rulebook(rules, None).digest != book.digest
