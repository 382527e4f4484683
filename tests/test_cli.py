"""The `livermets` command line on real files: explain, batch (JSON Lines and CSV, bad rows kept,
re-runs resumed), check-rules (for rule authors), serve, and the --help texts the README shows."""

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.quotes import RECORD_NAME, read_record
from app.settings import PROJECT_ROOT
from tests.conftest import BASE_CASE, RULES_DIR, loaded_rulebook

HELP_COMMANDS = [[], ["explain"], ["batch"], ["check-rules"], ["exercises", "export"]]


@pytest.fixture(autouse=True)
def documents(seeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVERMETS_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps help to the terminal's width


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def help_text(capsys: pytest.CaptureFixture[str], command: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_the_console_script_is_the_function_python_m_app_cli_runs() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["livermets"] == "app.cli:main"
    shown = subprocess.run(
        [sys.executable, "-m", "app.cli", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.startswith("usage: livermets ")


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "livermets")
def test_the_readme_shows_each_help_text_as_it_is(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    text = help_text(capsys, command)
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = f"$ livermets {' '.join([*command, '--help'])}\n{text}"
    assert block in readme, f"README's CLI section should show (COLUMNS=100):\n{block}"


def test_the_top_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys, [])
    for command in ("explain", "batch", "check-rules", "exercises", "serve"):
        assert re.search(rf"^\s+{command}\s", text, re.MULTILINE), command
    assert "MDT" in text and "not medical advice" in text


def test_serve_is_python_m_app_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: livermets serve ") and "--workers" in text and "--port" in text


def test_explain_prints_the_api_answer_for_a_file_and_for_stdin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE))
    code, out, _ = run(capsys, "explain", str(case))
    assert code == 0
    answer = json.loads(out)
    assert answer["case"]["primary_site"] == "colorectal"
    assert "MDT" in answer["disclaimer"]
    assert answer["rulebook"]["digest"] == loaded_rulebook().digest
    monkeypatch.setattr(sys, "stdin", io.StringIO(case.read_text()))
    code, from_stdin, _ = run(capsys, "explain", "-")
    assert code == 0 and json.loads(from_stdin) == answer


def test_explain_says_why_a_case_is_invalid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({**BASE_CASE, "lesion_count": 0}))
    code, out, err = run(capsys, "explain", str(case))
    assert code == 1 and out == ""
    assert "lesion_count" in err and "greater than or equal to 1" in err
    case.write_text('{"lesion_count": 1, "lesion_count": 2}')
    code, _, err = run(capsys, "explain", str(case))
    assert code == 1 and "repeated key 'lesion_count'" in err


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_of_json_lines_keeps_a_line_for_every_row_bad_ones_included(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "\n".join([json.dumps(BASE_CASE), "{not json", "", json.dumps({**BASE_CASE, "liver_function": "poor"})])
        + "\n"
        + json.dumps({**BASE_CASE, "primary_site": "breast"})
        + "\n"
    )
    out = tmp_path / "results.jsonl"
    code, _, err = run(capsys, "batch", str(cases), "--out", str(out))
    assert code == 1, "some rows are invalid"
    results = lines(out)
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == ["ok", "invalid", "invalid", "ok"]
    assert results[0]["explanation"]["case"]["primary_site"] == "colorectal"
    assert results[3]["explanation"]["case"]["primary_site"] == "breast"
    assert "line 2" in results[1]["problem"]["errors"][0]["field"]
    assert results[2]["problem"]["errors"][0]["field"] == "liver_function"
    assert "4 cases, 2 explained, 2 invalid" in err
    assert "[#" not in err, "no progress bar when stderr is not a terminal"


def test_batch_re_run_keeps_what_still_holds_and_redoes_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases.jsonl"
    rows = [{**BASE_CASE, "lesion_count": n} for n in (1, 2, 3)]
    cases.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "results.jsonl"
    assert run(capsys, "batch", str(cases), "--out", str(out))[0] == 0
    first = out.read_text().splitlines()
    # An interrupted run: the last line cut short, and one result of an older rulebook.
    stale = json.loads(first[0])
    stale["explanation"]["rulebook"]["digest"] = "sha256:older"
    out.write_text(json.dumps(stale) + "\n" + first[1] + "\n" + first[2][:100])
    rows[1]["lesion_count"] = 5  # and the input changed since
    cases.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run(capsys, "batch", str(cases), "--out", str(out))
    assert code == 0
    assert "0 kept from an earlier run" in err
    results = lines(out)
    assert [r["explanation"]["case"]["lesion_count"] for r in results] == [1, 5, 3]
    assert all(r["explanation"]["rulebook"]["digest"] == loaded_rulebook().digest for r in results)
    again = run(capsys, "batch", str(cases), "--out", str(out))
    assert again[0] == 0 and "3 kept from an earlier run" in again[2]
    assert lines(out) == results
    assert not (tmp_path / "results.jsonl.tmp").exists()


def test_batch_reads_csv_with_empty_cells_unknown_and_lists_split_on_semicolons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "primary_site,lesion_count,largest_lesion_cm,extrahepatic_disease,liver_function,performance_status,"
        "symptomatic,prior_treatments,kras_status\n"
        "colorectal,2,2.5,none,normal,0,false,chemotherapy;ablation,\n"
        "breast,1,3,limited,normal,1,,none,mutant\n"
        "lung,many,2,none,normal,0,,,\n"
    )
    out = tmp_path / "results.jsonl"
    code, _, _ = run(capsys, "batch", str(cases), "--out", str(out))
    assert code == 1
    first, second, third = lines(out)
    assert first["explanation"]["case"]["prior_treatments"] == ["chemotherapy", "ablation"]
    assert first["explanation"]["case"]["symptomatic"] is False
    assert "kras_status" in first["explanation"]["unknown_inputs"]
    assert second["explanation"]["case"]["prior_treatments"] == []
    assert second["explanation"]["case"]["largest_lesion_cm"] == 3.0
    assert "symptomatic" in second["explanation"]["unknown_inputs"]
    assert third["status"] == "invalid" and third["problem"]["errors"][0]["field"] == "lesion_count"


def test_check_rules_passes_on_the_project_rulebook_and_prints_passage_coverage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "check-rules", str(RULES_DIR), "--uncited")
    assert code == 0, err
    assert loaded_rulebook().digest in out
    for source in loaded_rulebook().sources:
        assert re.search(rf"^  {re.escape(source)}\s+\d+ of\s+\d+\s+\d+%$", out, re.MULTILINE), source
    assert "not cited: " in out
    assert f"record: {RECORD_NAME} is current" in out


def test_check_rules_names_file_and_rule_of_each_problem_and_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    ablation = rules / "topics" / "ablation.yaml"
    text = ablation.read_text()
    text = text.replace('usually less than 3 cm in diameter)"\n', 'usually less than 5 cm in diameter)"\n', 1)
    text = text.replace("fires: [{largest_lesion_cm: 3}, {largest_lesion_cm: 12}]", "fires: [{largest_lesion_cm: 2}]")
    ablation.write_text(text)
    recorded = (rules / RECORD_NAME).read_text()
    code, _, err = run(capsys, "check-rules", str(rules), "--record")
    assert code == 1
    assert "rules/topics/ablation.yaml: rule ablation.not_discussed.too_large: quote not found verbatim" in err
    assert "rules/topics/ablation.yaml: rule ablation.not_discussed.too_large: example fires[0]" in err
    assert (rules / RECORD_NAME).read_text() == recorded, "no record for a rulebook that fails its checks"


def test_check_rules_record_is_written_only_after_every_check_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    categories = rules / "categories.yaml"
    categories.write_text(categories.read_text().replace("label: Ablation", "label: Ablation (local)", 1))
    code, out, _ = run(capsys, "check-rules", str(rules))
    assert code == 0 and "is for another digest" in out
    code, out, _ = run(capsys, "check-rules", str(rules), "--record")
    record = read_record(rules)
    assert code == 0 and record is not None
    assert record.digest != loaded_rulebook().digest and record.digest in out
    written = (rules / RECORD_NAME).read_text()
    code, out, _ = run(capsys, "check-rules", str(rules), "--record")
    assert code == 0 and f"record: {RECORD_NAME} is current" in out
    assert (rules / RECORD_NAME).read_text() == written, "a record that still holds is kept as it is"


def test_check_rules_without_documents_fails_saying_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check-rules", str(RULES_DIR), "--seeds", str(tmp_path / "none"))
    assert code == 1 and "quotes not checked: source documents not found" in err


def test_batch_csv_from_a_spreadsheet_names_unknown_columns_and_surplus_cells(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases.csv"
    header = ",".join(BASE_CASE) + ",kras"
    values = ",".join(str(v) for v in BASE_CASE.values())
    # A byte-order mark, as spreadsheets write: not part of the first column's name.
    cases.write_text(f"\ufeff{header}\n{values},\n{values},mutant\n{values},,extra\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    assert run(capsys, "batch", str(cases), "--out", str(out))[0] == 1
    ok, unknown_column, surplus = lines(out)
    assert ok["status"] == "ok"
    assert unknown_column["status"] == "invalid" and unknown_column["problem"]["errors"][0]["field"] == "kras"
    assert surplus["status"] == "invalid" and "more than the header names" in surplus["problem"]["errors"][0]["message"]


def test_batch_draws_a_progress_bar_on_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(BASE_CASE) + "\n" + json.dumps(BASE_CASE) + "\n")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    _, _, err = run(capsys, "batch", str(cases), "--out", str(tmp_path / "results.jsonl"))
    assert "] 2/2\n" in err and "[" + "#" * 30 + "]" in err
    _, _, err = run(capsys, "batch", str(cases), "--out", str(tmp_path / "again.jsonl"), "--no-progress")
    assert "2/2" not in err


@pytest.mark.server
def test_serve_serves_the_api(tmp_path: Path, seeds: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVERMETS_")}
    env.update(LIVERMETS_RULES_DIR=str(RULES_DIR), LIVERMETS_SEEDS_DIR=str(seeds))
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    answer = httpx.post(f"http://127.0.0.1:{port}/v1/explain", json=BASE_CASE, timeout=10)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)  # polling the start-up, bounded by the deadline
            else:
                log.seek(0)
                pytest.fail(f"livermets serve did not start:\n{log.read().decode()}")
            assert answer.status_code == 200 and answer.json()["case"]["primary_site"] == BASE_CASE["primary_site"]
        finally:
            process.terminate()
            # uvicorn stops gracefully, then re-raises the SIGTERM it caught
            assert process.wait(timeout=30) in (0, -signal.SIGTERM)


def test_exercises_export_writes_what_the_export_function_makes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from app.exercises.export import export

    out = tmp_path / "quiz.xml"
    code, _, err = run(
        capsys, "exercises", "export", "--format", "moodle-xml", "--ids", "crc-solitary-fit", "--out", str(out)
    )
    assert code == 0, err
    assert out.read_bytes() == export("moodle-xml", None, 0, ["crc-solitary-fit"])
    assert b"<quiz" in out.read_bytes()
