"""The service as a real uvicorn process on a loopback port, the way it is deployed; start-up
time and resident memory are read from outside, as an operator would see them."""

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

    def rss_mib(self) -> float:
        """Resident memory of the server process(es): with --workers N, the master and every worker."""
        pids = [self.process.pid, *_children(self.process.pid)]
        return sum(_rss_kib(pid) for pid in pids) / 1024


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


UVICORN = [sys.executable, "-m", "uvicorn", "app.main:app"]


def _spawn(args: list[str], pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    # The service's JSON access log stays on (as deployed); its lines go nowhere.
    return subprocess.Popen(
        [*UVICORN, *args],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=pass_fds,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(workers: int = 1, timeout_s: float = 60) -> Iterator[Server]:
    """`uvicorn app.main:app` (with `--workers N` when N > 1: one socket shared by the workers)."""
    port = free_port()
    args = ["--host", "127.0.0.1", "--port", str(port)] + (["--workers", str(workers)] if workers > 1 else [])
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = _spawn(args)
    try:
        startup = _first_answer(url, process, started, timeout_s)
        yield Server(process=process, url=url, startup_s=startup)
    finally:
        _stop(process)


@contextmanager
def serve_reuseport(processes: int, timeout_s: float = 60) -> Iterator[str]:
    """N single-worker processes, each with its own SO_REUSEPORT socket on one port: the kernel
    spreads connections over them, as a load balancer spreads them over replicas."""
    port = free_port()
    children: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(processes):
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                sock.bind(("127.0.0.1", port))
                sock.listen(2048)
                children.append(_spawn(["--fd", str(sock.fileno())], pass_fds=(sock.fileno(),)))
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        for child in children:
            _first_answer(url, child, started, timeout_s)
        # Fresh connections hash to every socket; a process still starting holds them in its backlog.
        for _ in range(20):
            httpx.get(f"{url}/healthz", timeout=timeout_s).raise_for_status()
        yield url
    finally:
        for child in children:
            _stop(child)


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
