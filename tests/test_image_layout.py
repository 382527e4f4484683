"""The Docker image, without Docker (no container engine runs here): the project's wheel and the
locked dependencies installed into a clean virtual environment, started as the image's CMD from a
folder laid out like its WORKDIR, with the image's ENV and nothing mounted (no source documents).
It must serve /healthz (through the image's own HEALTHCHECK command) and /v1/explain, and say which
rulebook digest had its quotes verified and when.

Offline: the dependencies come from build/wheelhouse, which `make wheelhouse` (part of `make test`)
fills from requirements.lock with hash-checked downloads."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.quotes import read_record
from app.settings import PROJECT_ROOT
from tests.conftest import BASE_CASE, RULES_DIR, loaded_rulebook

pytestmark = pytest.mark.slow

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
WHEELHOUSE = PROJECT_ROOT / "build" / "wheelhouse"
START_TIMEOUT_S = 60.0


def image_env() -> dict[str, str]:
    """The ENV of the image's final stage (PATH aside)."""
    stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    block = stage.split("\nENV ", 1)[1].split("\n", 1)[0]
    rest = stage.split("\nENV ", 1)[1].split("\n")
    lines = [block]
    for line in rest[1:]:
        if not lines[-1].rstrip().endswith("\\"):
            break
        lines.append(line)
    pairs = re.findall(r"(\w+)=(\S+?)\s*(?:\\|$)", " ".join(lines))
    return {name: value for name, value in pairs if name != "PATH"}


def workdir() -> str:
    found: list[str] = re.findall(r"^WORKDIR (\S+)$", DOCKERFILE.rsplit("\nFROM ", 1)[1], re.MULTILINE)
    return found[-1]


def run(*command: str | Path, cwd: Path | None = None) -> None:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv holding the project's wheel and the locked dependencies, as the builder stage makes it."""
    if not (WHEELHOUSE / ".stamp").exists():
        pytest.fail("no build/wheelhouse: run `make wheelhouse` (make test does)", pytrace=False)
    root = tmp_path_factory.mktemp("image")
    source = root / "build"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(PROJECT_ROOT / name, source)
    for name in ("app", "schemas"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    python = Path(sys.executable)
    run(python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", source, "-w", root)
    venv = root / "opt" / "venv"
    run(python, "-m", "venv", venv)
    # The lock's versions, without its hashes: durable-rules is a wheel built from the hashed sdist here.
    locked = re.findall(r"^(\S+==\S+) \\$", (PROJECT_ROOT / "requirements.lock").read_text(), re.MULTILINE)
    (root / "versions.txt").write_text("\n".join(locked) + "\n")
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-index", "--no-deps"]
    run(*pip, "--find-links", WHEELHOUSE, "-r", root / "versions.txt")
    run(*pip, *root.glob("livermets_explainer-*.whl"))
    run(venv / "bin" / "python", "-m", "pip", "check")
    return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(image: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("srv")
    srv = root / workdir().lstrip("/")
    srv.mkdir(parents=True)
    # What the final stage copies from the project (rules/, exercises/), as `COPY <dir> ./<dir>` says.
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    for folder in re.findall(r"^COPY (\w+) \./\1$", final_stage, re.MULTILINE):
        shutil.copytree(PROJECT_ROOT / folder, srv / folder)
    env = {name: value.replace("/srv", str(srv)) for name, value in image_env().items()}
    env.update(PATH=f"{image / 'bin'}:/usr/bin:/bin", HOME=str(root))
    port = free_port()
    cmd = re.findall(r'^CMD \["python", (.*)\]$', DOCKERFILE, re.MULTILINE)[-1]
    args = [a.strip().strip('"') for a in cmd.split(",")]
    args[args.index("0.0.0.0")] = "127.0.0.1"  # loopback only in tests
    args[args.index("8000")] = str(port)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [image / "bin" / "python", *args], cwd=srv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the image's server did not start:\n{log.read().decode()}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)  # polling the start-up, bounded by the deadline
            yield url, port
            log.seek(0)
            assert "The source documents were not available at start-up" in log.read().decode()
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_the_image_serves_without_documents_and_says_which_digest_was_verified(served: tuple[str, int]) -> None:
    url, _ = served
    explained = httpx.post(f"{url}/v1/explain", json=BASE_CASE, timeout=30)
    assert explained.status_code == 200
    assert explained.json()["rulebook"]["digest"] == loaded_rulebook().digest
    quotes = httpx.get(f"{url}/v1/about", timeout=10).json()["quotes"]
    record = read_record(RULES_DIR)
    assert record is not None
    assert quotes["at_start_up"] is False and quotes["verified_digest"] == record.digest


def test_the_images_health_check_command_passes(served: tuple[str, int], image: Path) -> None:
    _, port = served
    check = re.search(r'CMD \["python", "-c", "(.*)"\]', DOCKERFILE.split("HEALTHCHECK", 1)[1])
    assert check
    one_liner = check.group(1).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    assert subprocess.run([image / "bin" / "python", "-c", one_liner], timeout=30).returncode == 0


def test_the_console_script_is_installed(image: Path) -> None:
    shown = subprocess.run([image / "bin" / "livermets", "--help"], capture_output=True, text=True, env=os.environ)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: livermets ")


def test_the_image_serves_the_projects_teaching_exercises(served: tuple[str, int]) -> None:
    url, _ = served
    listed = httpx.get(f"{url}/v1/exercises", timeout=30).json()
    shipped = sorted(p.stem for p in (PROJECT_ROOT / "exercises" / "vignettes").glob("*.yaml"))
    assert sorted(e["id"] for e in listed) == shipped
