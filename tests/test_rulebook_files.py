"""Rule files that could take start-up down or out of reach are refused, quickly and by name: only
regular files inside rules/ are opened, each under a size limit and all of them under a total one,
YAML aliases are refused (a "billion laughs" file stays small), and every problem reading a file (bad
UTF-8, a directory, a cycle between derived facts) names the file and the rule, never a traceback."""

import os
import shutil
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.rulebook import RulebookError, load_rulebook
from app.rulebook import load as load_module
from app.settings import Settings
from tests.conftest import RULES_DIR

KIB = 1024
TACE = "topics/tace.yaml"
FIXED = ("rulebook.yaml", "sources.yaml", "categories.yaml", "parameters.yaml", "investigations.yaml")


def rule_files(rules: Path) -> list[Path]:
    """The files load_rulebook reads, in its order (rules/TEMPLATE.yaml is not one)."""
    return [*(rules / name for name in FIXED), *sorted((rules / "topics").glob("*.yaml"))]


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the project's rules/ to break."""
    copy = tmp_path / "rules"
    shutil.copytree(RULES_DIR, copy)
    return copy


def refused(rules: Path, *words: str, **limits: int) -> str:
    """load_rulebook's error message, checked to contain every one of `words`."""
    with pytest.raises(RulebookError) as failure:
        load_rulebook(rules, None, **limits)
    message = str(failure.value)
    for word in words:
        assert word in message, f"{word!r} not in {message}"
    return message


def bomb(levels: int = 9) -> str:
    """A YAML flow list holding "billion laughs": level i is ten aliases of level i-1, so the last of
    ten levels stands for 10**10 strings in a few hundred bytes."""
    nested = [f"&l0 [{', '.join(['lol'] * 10)}]"]
    nested += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "[" + ", ".join(nested) + "]"


# --- not a regular file inside rules/ ---


def test_a_symlink_to_dev_zero_is_refused_without_reading_it(rules: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    (rules / "topics" / "zero.yaml").symlink_to("/dev/zero")
    refused(rules, "rules/topics/zero.yaml", "a symlink out of rules/", "/dev/zero")


def test_a_symlink_out_of_rules_is_refused_even_to_a_good_rule_file(rules: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    shutil.move(rules / TACE, elsewhere)
    (rules / TACE).symlink_to(elsewhere)
    refused(rules, "rules/topics/tace.yaml", "a symlink out of rules/")


def test_a_topics_folder_linked_out_of_rules_is_refused(rules: Path, tmp_path: Path) -> None:
    shutil.move(rules / "topics", tmp_path / "topics")
    (rules / "topics").symlink_to(tmp_path / "topics")
    refused(rules, "rules/topics/tace.yaml", "a symlink out of rules/")


def test_a_symlink_to_a_regular_file_inside_rules_is_accepted(rules: Path) -> None:
    """The layout of a Kubernetes ConfigMap volume: every file a link into a hidden folder of the
    same mount. Links that stay inside rules/ and end at a regular file load as the file would."""
    digest = load_rulebook(RULES_DIR, None).digest
    (rules / "..data").mkdir()
    for name in ("parameters.yaml", "sources.yaml"):
        shutil.move(rules / name, rules / "..data" / name)
        (rules / name).symlink_to(Path("..data") / name)
    assert load_rulebook(rules, None).digest == digest


def test_a_rules_folder_reached_through_a_symlink_loads(rules: Path, tmp_path: Path) -> None:
    """rules/ itself may be a link (a deployment switching versions atomically): inside means
    inside the folder it leads to."""
    (tmp_path / "current").symlink_to(rules)
    load_rulebook(tmp_path / "current", None)


def test_a_loop_of_symlinks_is_refused_by_name(rules: Path) -> None:
    (rules / "topics" / "a.yaml").symlink_to("b.yaml")
    (rules / "topics" / "b.yaml").symlink_to("a.yaml")
    refused(rules, "rules/topics/a.yaml: a symlink that cannot be followed", "rules/topics/b.yaml")


def test_a_dangling_symlink_is_refused_by_name(rules: Path) -> None:
    (rules / "topics" / "gone.yaml").symlink_to(rules / "topics" / "nowhere.yaml")
    refused(rules, "rules/topics/gone.yaml", "a symlink to a missing file")


@pytest.fixture
def unblock_fifo_later() -> Iterator[list[Path]]:
    """If the loader ever opens a FIFO it blocks until a writer comes: after 10 s, open each FIFO
    given for writing so the test fails instead of hanging."""
    fifos: list[Path] = []
    opened: list[bool] = []

    def unblock() -> None:
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                opened.append(True)
            except OSError:  # no reader waiting: the loader never opened it
                pass

    timer = threading.Timer(10, unblock)
    timer.start()
    yield fifos
    timer.cancel()
    assert not opened, "the loader opened a FIFO"


def test_a_fifo_is_refused_without_opening_it(rules: Path, unblock_fifo_later: list[Path]) -> None:
    fifo = rules / "topics" / "pipe.yaml"
    os.mkfifo(fifo)
    unblock_fifo_later.append(fifo)
    refused(rules, "rules/topics/pipe.yaml", "not a regular file (a FIFO)")


def test_a_directory_named_like_a_rule_file_is_refused(rules: Path) -> None:
    (rules / "topics" / "more.yaml").mkdir()
    refused(rules, "rules/topics/more.yaml", "is a directory")


def test_every_refused_file_is_named_at_once(rules: Path) -> None:
    (rules / "topics" / "more.yaml").mkdir()
    (rules / "parameters.yaml").unlink()
    refused(rules, "rules/topics/more.yaml: is a directory", "rules/parameters.yaml: file is missing")


# --- sizes ---


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(rules: Path) -> None:
    text = (rules / TACE).read_text(encoding="utf-8")
    (rules / TACE).write_text(text + "#" * (20 * KIB - len(text)) + "\n", encoding="utf-8")
    refused(
        rules,
        "rules/topics/tace.yaml: 20481 bytes, over the per-file limit of 16384 bytes",
        max_file_bytes=16 * KIB,
    )


def test_a_file_that_grew_after_its_size_was_checked_is_caught_while_reading(
    rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that lies about its size (or grows between stat and read) gets no further: at most
    the limit and one byte more are read."""
    (rules / "topics" / "big.yaml").write_text("#" * (20 * KIB), encoding="utf-8")
    inspect = load_module._inspect

    def lying(path: Path, root: Path) -> load_module.RuleFile | str:
        found = inspect(path, root)
        return found._replace(size=0) if isinstance(found, load_module.RuleFile) else found

    monkeypatch.setattr(load_module, "_inspect", lying)
    refused(rules, "rules/topics/big.yaml: more than 16384 bytes", max_file_bytes=16 * KIB)


def test_rule_files_over_the_total_limit_are_refused(rules: Path) -> None:
    total = sum(p.stat().st_size for p in rule_files(rules))
    message = refused(
        rules, f"bytes, over the total limit of {total - 1} bytes", "rules/topics/", max_total_bytes=total - 1
    )
    assert "rules/topics/work_up_relevance.yaml" in message, "the file that crosses the limit is named"


def test_the_project_rulebook_loads_well_within_the_default_limits() -> None:
    sizes = {p.relative_to(RULES_DIR.parent).as_posix(): p.stat().st_size for p in rule_files(RULES_DIR)}
    largest = max(sizes, key=lambda name: sizes[name])
    total = sum(sizes.values())
    print(f"\nrule files: {len(sizes)}, total {total} bytes, largest {largest} {sizes[largest]} bytes")
    assert sizes[largest] * 10 < load_module.MAX_FILE_BYTES
    assert total * 10 < load_module.MAX_TOTAL_BYTES
    load_rulebook(RULES_DIR, None)


# --- YAML aliases ---


def test_a_billion_laughs_file_is_refused_in_little_memory(rules: Path) -> None:
    text = (rules / TACE).read_text(encoding="utf-8")
    (rules / TACE).write_text(text.replace("value: [limited, extensive]", f"value: {bomb()}", 1), encoding="utf-8")
    tracemalloc.start()
    try:
        refused(rules, "rules/topics/tace.yaml", "YAML aliases (*l0) are not allowed")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * KIB * KIB, f"peak {peak / KIB / KIB:.0f} MB"


def test_a_plain_alias_is_refused_naming_file_and_line(rules: Path) -> None:
    path = rules / TACE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = [i for i, line in enumerate(lines) if line.startswith("      - source: ")][:2]
    lines[first] = lines[first].replace("- source: ", "- &quoted\n        source: ", 1)
    lines[second] = "      - *quoted\n"
    # drop the rest of the second citation (its section and quote lines)
    del lines[second + 1 : second + 3]
    path.write_text("".join(lines), encoding="utf-8")
    line = "".join(lines).splitlines().index("      - *quoted") + 1
    refused(rules, f"rules/topics/tace.yaml: line {line}: YAML aliases (*quoted) are not allowed")


def test_an_anchor_without_an_alias_is_harmless(rules: Path) -> None:
    path = rules / TACE
    path.write_text(path.read_text(encoding="utf-8").replace("rules:\n", "rules: &all\n", 1), encoding="utf-8")
    assert load_rulebook(rules, None).digest == load_rulebook(RULES_DIR, None).digest


@pytest.mark.parametrize("depth", [60, 300, 50_000])
def test_yaml_nested_too_deeply_is_refused_by_name(rules: Path, depth: int) -> None:
    """Deeper than any rule file needs: a RecursionError in PyYAML, or in pydantic further on."""
    path = rules / TACE
    nested = "[" * depth + "]" * depth
    path.write_text(path.read_text(encoding="utf-8").replace("value: [limited, extensive]", f"value: {nested}", 1))
    refused(rules, "rules/topics/tace.yaml: line ", "nested more than 50 levels deep")


def test_yaml_nested_as_deep_as_allowed_is_reported_as_a_rule_problem(rules: Path) -> None:
    path = rules / TACE
    depth = 50 - 5  # the file, its rules, the rule, its conditions, the condition hold the value
    nested = "[" * depth + "]" * depth
    path.write_text(path.read_text(encoding="utf-8").replace("value: [limited, extensive]", f"value: {nested}", 1))
    refused(rules, "rules/topics/tace.yaml: rule tace.not_discussed.extrahepatic", "is not allowed for")


# --- reading errors name the file ---


def test_invalid_utf8_names_the_file_and_the_byte(rules: Path) -> None:
    path = rules / TACE
    data = path.read_bytes()
    offset = data.index(b"title:")
    path.write_bytes(data[:offset] + b"\xff" + data[offset:])
    line = data[:offset].count(b"\n") + 1
    refused(rules, f"rules/topics/tace.yaml: not valid UTF-8 at byte {offset} (line {line}): invalid start byte")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_named_with_the_reason(rules: Path) -> None:
    (rules / TACE).chmod(0)
    refused(rules, "rules/topics/tace.yaml: cannot be read: Permission denied")


# --- derived facts ---

CYCLE_RULE = """# yaml-language-server: $schema=../../schemas/json/rule-file.schema.json
topic: {topic}
title: One half of a cycle between derived facts
rules:
  - id: {topic}.derive
    version: 1
    date: 2026-12-04
    effect: derive
    derives: {derives}
    when:
      - {{fact: {uses}}}
    because: >-
      A test rule that derives one fact from another, which is derived from the first one.
    cites:
      - source: secondary-liver-cancer-guide
        section: What is the treatment of liver metastases?
        quote: "the presence of any metastases in other parts of the body"
    examples:
      fires: [{{lesion_count: 1}}]
      not_fires: [{{lesion_count: 2}}]
"""


def test_a_cycle_between_derived_facts_names_the_rules_and_files(rules: Path) -> None:
    for topic, derives, uses in (("cycle_a", "fact_one", "fact_two"), ("cycle_b", "fact_two", "fact_one")):
        text = CYCLE_RULE.format(topic=topic, derives=derives, uses=uses)
        (rules / "topics" / f"{topic}.yaml").write_text(text, encoding="utf-8")
    refused(
        rules,
        "derived facts form a cycle",
        "rules/topics/cycle_a.yaml: rule cycle_a.derive derives fact_one using fact_two; "
        "rules/topics/cycle_b.yaml: rule cycle_b.derive derives fact_two using fact_one",
    )


# --- settings and start-up ---


def test_the_limits_are_settings_with_the_loaders_defaults() -> None:
    settings = Settings(seeds_dir=None)
    assert settings.rules_max_file_bytes == load_module.MAX_FILE_BYTES == 1_048_576
    assert settings.rules_max_total_bytes == load_module.MAX_TOTAL_BYTES == 10_485_760


@pytest.mark.parametrize("name", ["LIVERMETS_RULES_MAX_FILE_BYTES", "LIVERMETS_RULES_MAX_TOTAL_BYTES"])
def test_a_limit_of_zero_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ValueError, match=f"{name} must be a positive whole number, got '0'"):
        Settings.from_env()


def test_the_limits_from_the_environment_reach_start_up(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVERMETS_RULES_MAX_FILE_BYTES", str(10 * KIB))
    monkeypatch.setenv("LIVERMETS_RULES_MAX_TOTAL_BYTES", str(100 * KIB * KIB))
    settings = Settings.from_env().model_copy(update={"rules_dir": rules, "seeds_dir": None})
    assert settings.rules_max_file_bytes == 10 * KIB
    with (
        pytest.raises(RulebookError, match=r"rules/categories.yaml: \d+ bytes, over the per-file limit of 10240"),
        TestClient(create_app(settings)),
    ):
        pass
