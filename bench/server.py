"""The service as a real process on a loopback port, the way it is deployed (`uvicorn app.main:app`,
as in the image, or the project's launcher `python -m app.serve --workers N`); start-up time and
resident memory are read from outside, as an operator would see them."""

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    startup_s: float
    name: str  # what was started, as an operator would type it (address left out)

    def rss_mib(self) -> float:
        """Resident memory of the server: the process and every process it started (its workers)."""
        return rss_mib(self.pids())

    def pids(self) -> list[int]:
        """The server process and every process it started (its workers)."""
        return [self.process.pid, *_descendants(self.process.pid)]


def rss_mib(pids: list[int]) -> float:
    """Resident memory of these processes together, read from /proc."""
    return sum(_rss_kib(pid) for pid in pids) / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds these processes have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _rss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:  # exited meanwhile
        return 0
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = _children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += _children(child)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_command(port: int) -> list[str]:
    """The service as the image runs it (Dockerfile CMD): `uvicorn app.main:app`, one process."""
    return [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]


def launcher_command(port: int, workers: int) -> list[str]:
    """The project's launcher (`make run WORKERS=N`): N single-worker processes on one port."""
    return [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


def launcher_available() -> bool:
    return importlib.util.find_spec("app.serve") is not None


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    # The service's JSON access log stays on (as deployed); its lines go nowhere.
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an operator (or a container runtime) stops it; anything it started and left
    running is then killed by pid, so no worker outlives the run."""
    left = {pid: _started(pid) for pid in _descendants(process.pid)}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 5
    for pid, started in left.items():
        while _started(pid) == started and time.monotonic() < deadline:
            time.sleep(0.05)
        if _started(pid) == started:  # the same process (not a reused pid), still running
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _started(pid: int) -> str | None:
    """The start time of a running process (field 22 of /proc/PID/stat), which tells it from a later
    process with the same pid; None once it has exited (a zombie included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


@contextmanager
def _serve(command: list[str], name: str, url: str, timeout_s: float, spread: bool) -> Iterator[Server]:
    started = time.perf_counter()
    process = _spawn(command)
    try:
        startup = _first_answer(url, process, started, timeout_s)
        if spread:
            # Fresh connections reach every worker; one still starting holds them in its backlog.
            for _ in range(20):
                httpx.get(f"{url}/healthz", timeout=timeout_s).raise_for_status()
        yield Server(process=process, url=url, startup_s=startup, name=name)
    finally:
        _stop(process)


@contextmanager
def serve(timeout_s: float = 60) -> Iterator[Server]:
    """One server process on a free loopback port, as deployed: `python -m app.serve --workers 1` (the
    image's command; the server runs in that process), or `uvicorn app.main:app` in a checkout
    without the launcher."""
    port = free_port()
    if launcher_available():
        command, name = launcher_command(port, 1), "python -m app.serve --workers 1"
    else:
        command, name = uvicorn_command(port), "uvicorn app.main:app"
    with _serve(command, name, f"http://127.0.0.1:{port}", timeout_s, spread=False) as server:
        yield server


@contextmanager
def serve_launcher(workers: int, timeout_s: float = 60) -> Iterator[Server]:
    """`python -m app.serve --workers N` on a free loopback port; rss_mib counts the launcher and its
    workers; stopped with SIGTERM. RuntimeError when it does not answer (or is not there yet)."""
    if not launcher_available():
        raise RuntimeError("app.serve is not there")
    port = free_port()
    name = f"python -m app.serve --workers {workers}"
    with _serve(launcher_command(port, workers), name, f"http://127.0.0.1:{port}", timeout_s, spread=True) as server:
        yield server


def _first_answer(url: str, process: subprocess.Popen[bytes], started: float, timeout_s: float) -> float:
    """Seconds from spawning the process to the first 200 from /healthz."""
    with httpx.Client(timeout=2) as client:
        while time.perf_counter() - started < timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited during start-up (code {process.returncode})")
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    raise RuntimeError(f"no answer from {url}/healthz within {timeout_s} s")
