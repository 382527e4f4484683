"""A bad rulebook stops start-up with a message naming the file and the rule; a good one is
compiled once, at start-up, not at import."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.rulebook import RulebookError
from app.settings import Settings
from tests.conftest import RULES_DIR

ABLATION = "topics/ablation.yaml"


def broken(tmp_path: Path, relative: str, edit: Callable[[str], str]) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    target = rules / relative
    new = edit(target.read_text())
    assert new != target.read_text(), "the edit must change the file"
    target.write_text(new)
    return rules


def start(rules: Path, seeds: Path) -> None:
    with TestClient(create_app(Settings(rules_dir=rules, seeds_dir=seeds))):
        pass


CASES: list[tuple[str, str, Callable[[str], str], list[str]]] = [
    (
        "unknown key",
        ABLATION,
        lambda t: t.replace("    effect: not_discussed\n", "    effect: not_discussed\n    severity: high\n", 1),
        ["rules/topics/ablation.yaml", "rule ablation.not_discussed.too_large", "severity", "Extra inputs"],
    ),
    (
        "missing citation",
        ABLATION,
        lambda t: re.sub(r"    cites:\n      - source: pkli-rc\n(        .*\n){2}", "    cites: []\n", t, count=1),
        ["rules/topics/ablation.yaml", "rule ablation.discussed.recurrence_after_surgery", "cites"],
    ),
    (
        "quote not in its document",
        ABLATION,
        lambda t: t.replace('usually less than 3 cm in diameter)"\n', 'usually less than 5 cm in diameter)"\n', 1),
        ["rules/topics/ablation.yaml", "rule ablation.not_discussed.too_large", "quote not found verbatim"],
    ),
    (
        "example that fails",
        ABLATION,
        lambda t: t.replace(
            "fires: [{largest_lesion_cm: 3}, {largest_lesion_cm: 12}]", "fires: [{largest_lesion_cm: 2}]"
        ),
        ["rules/topics/ablation.yaml", "rule ablation.not_discussed.too_large", "did not fire"],
    ),
    (
        "unknown case field",
        ABLATION,
        lambda t: t.replace(
            "{field: lesion_count, op: gt, param: few_lesions_max}", "{field: lesions, op: gt, param: few_lesions_max}"
        ),
        ["rules/topics/ablation.yaml", "rule ablation.not_discussed.too_many", "unknown field 'lesions'"],
    ),
    (
        "value not allowed for the field",
        "topics/tace.yaml",
        lambda t: t.replace("value: [limited, extensive]", "value: [limited, widespread]"),
        ["rules/topics/tace.yaml", "rule tace.not_discussed.extrahepatic", "'widespread'"],
    ),
    (
        "unknown parameter",
        ABLATION,
        lambda t: t.replace("param: few_lesions_max}", "param: several_lesions_max}"),
        [
            "rules/topics/ablation.yaml",
            "rule ablation.not_discussed.too_many",
            "unknown parameter 'several_lesions_max'",
        ],
    ),
    (
        "fact no rule derives",
        ABLATION,
        lambda t: t.replace("{fact: no_operation_for_patient}", "{fact: surgery_impossible}"),
        ["rule ablation.discussed.small_unfit_or_unwilling", "fact 'surgery_impossible' that no rule derives"],
    ),
    (
        "prescriptive wording",
        ABLATION,
        lambda t: t.replace(
            "Small, few tumours in a patient", "Ablation is recommended: small, few tumours in a patient"
        ),
        ["rule ablation.discussed.small_unfit_or_unwilling", "wording 'recommend'"],
    ),
    (
        "malformed YAML",
        ABLATION,
        lambda t: t.replace("rules:\n", "rules: [\n", 1),
        ["rules/topics/ablation.yaml", "not valid YAML"],
    ),
    (
        "duplicate rule id",
        ABLATION,
        lambda t: t.replace("id: ablation.not_discussed.too_many", "id: ablation.not_discussed.too_large"),
        ["rule ablation.not_discussed.too_large", "duplicate rule id"],
    ),
    (
        "missing citation source",
        "categories.yaml",
        lambda t: t.replace("source: birmingham-hpb", "source: birmingham-clinic", 1),
        ["category active_monitoring", "unknown source 'birmingham-clinic'"],
    ),
]


@pytest.mark.parametrize(("name", "relative", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_rulebook_stops_start_up_naming_file_and_rule(
    tmp_path: Path, seeds: Path, name: str, relative: str, edit: Callable[[str], str], expected: list[str]
) -> None:
    rules = broken(tmp_path, relative, edit)
    with pytest.raises(RulebookError) as failure:
        start(rules, seeds)
    for words in expected:
        assert words in str(failure.value), f"{name}: {words!r} not in {failure.value}"


def test_missing_rule_file_stops_start_up(tmp_path: Path, seeds: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    (rules / "parameters.yaml").unlink()
    with pytest.raises(RulebookError, match=r"rules/parameters.yaml: file is missing"):
        start(rules, seeds)


def test_missing_source_documents_stop_start_up(tmp_path: Path) -> None:
    with pytest.raises(RulebookError, match="source documents not found"):
        start(RULES_DIR, tmp_path / "no-seeds")


def test_creating_the_app_does_not_load_the_rulebook(tmp_path: Path) -> None:
    app = create_app(Settings(rules_dir=tmp_path / "missing", seeds_dir=None))
    assert not hasattr(app.state, "service")
