"""`python -m app.serve` (app/serve.py): several worker processes on one port, each keeping
TCP_NODELAY on the connections it accepts.

The proof is a socket option, not a timing: the test copies the workers' socket descriptors into
itself with pidfd_getfd(2) (Linux 5.6+, needs ptrace rights over the workers: root, or their
ancestor under Yama scope 1), picks the TCP connections whose peer is one of its own client
sockets, and reads TCP_NODELAY on each. Where that is not permitted the test skips with the reason,
except in CI (CI=true), where it fails. A negative control shows the same check reads 0 on a
connection accepted by asyncio from a listening socket created with proto 0 (what `uvicorn
--workers` and `--fd` hand their workers)."""

import asyncio
import ctypes
import errno
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

import httpx
import pytest

from tests.conftest import RULES_DIR, seeds_dir

pytestmark = pytest.mark.server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
POLL_S = 0.05
SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture
Address = tuple[str, int]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: this check must run in CI)", pytrace=False)
    pytest.skip(reason)


def _pidfd_getfd(pidfd: int, target_fd: int) -> int | None:
    """A copy of another process's descriptor in this one; None if it was closed meanwhile."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd: int = libc.syscall(SYS_PIDFD_GETFD, pidfd, target_fd, 0)
    if fd >= 0:
        return fd
    code = ctypes.get_errno()
    if code == errno.EBADF:
        return None
    if code in (errno.EPERM, errno.EACCES, errno.ENOSYS):
        _unavailable(f"pidfd_getfd is not permitted here ({errno.errorcode[code]}): cannot read the workers' sockets")
    raise OSError(code, os.strerror(code))


def accepted_nodelay(pid: int, clients: set[Address]) -> dict[Address, int]:
    """TCP_NODELAY, as process `pid` has it, on each of its TCP connections whose peer is one of
    `clients` (the test's own client sockets), keyed by that client address."""
    if not hasattr(os, "pidfd_open"):
        _unavailable("os.pidfd_open needs Linux: cannot read the workers' sockets")
    found: dict[Address, int] = {}
    pidfd = os.pidfd_open(pid)
    try:
        for entry in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if not os.readlink(entry).startswith("socket:"):
                    continue
            except OSError:
                continue  # closed meanwhile
            fd = _pidfd_getfd(pidfd, int(entry.name))
            if fd is None:
                continue
            with socket.socket(fileno=fd) as sock:  # closes the copy only
                if sock.family != socket.AF_INET or sock.type != socket.SOCK_STREAM:
                    continue
                try:
                    peer = sock.getpeername()
                except OSError:
                    continue  # a listening socket
                if peer in clients:
                    found[peer] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        os.close(pidfd)
    return found


# The negative control: the check itself can see a connection without TCP_NODELAY.


class _Accepted(asyncio.Protocol):
    def __init__(self, accepted: asyncio.Event) -> None:
        self.accepted = accepted

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.accepted.set()


async def _nodelay_on_accepted(proto: int) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    listener.bind((HOST, 0))
    address = listener.getsockname()
    accepted = asyncio.Event()
    server = await asyncio.get_running_loop().create_server(lambda: _Accepted(accepted), sock=listener)
    async with server:
        _, writer = await asyncio.open_connection(*address)
        try:
            await asyncio.wait_for(accepted.wait(), timeout=10)
            client: Address = writer.get_extra_info("sockname")
            found = accepted_nodelay(os.getpid(), {client})
        finally:
            writer.close()
            await writer.wait_closed()
    assert list(found) == [client], "the check must find the accepted side of the connection"
    return found[client]


def test_the_check_reads_nodelay_off_when_the_listening_socket_has_proto_0() -> None:
    assert asyncio.run(_nodelay_on_accepted(0)) == 0
    assert asyncio.run(_nodelay_on_accepted(socket.IPPROTO_TCP)) != 0


# The launcher as a process.


@dataclass
class Launched:
    process: subprocess.Popen[bytes]
    port: int
    stderr: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def workers(self) -> list[int]:
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _env(rules_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any LIVERMETS_* variable of the shell, plus the test rulebook."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVERMETS_")}
    env.update(LIVERMETS_RULES_DIR=str(rules_dir), LIVERMETS_SEEDS_DIR=str(seeds_dir()), **(extra or {}))
    return env


@contextmanager
def launch(rules_dir: Path = RULES_DIR, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[Launched]:
    """`python -m app.serve --workers N` on a free loopback port (`env`: LIVERMETS_* settings for it);
    stopped (SIGTERM) at the end."""
    port = _free_port()
    with ExitStack() as stack:
        stderr = stack.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(
            [sys.executable, "-m", "app.serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            cwd=PROJECT_ROOT,
            env=_env(rules_dir, env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            yield Launched(process, port, stderr)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()  # its workers get SIGTERM from the kernel (PR_SET_PDEATHSIG)
                    process.wait()


def _wait_healthy(launched: Launched) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer"
    with httpx.Client(base_url=launched.url, timeout=5) as client:
        while time.monotonic() < deadline:
            if launched.process.poll() is not None:
                pytest.fail(
                    f"the launcher exited (code {launched.process.returncode}):\n{launched.stderr_text()[-4000:]}"
                )
            try:
                response = client.get("/healthz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            time.sleep(POLL_S)
    pytest.fail(f"no 200 from /healthz within {START_TIMEOUT_S} s ({last}):\n{launched.stderr_text()[-4000:]}")


def _keep_alive_connection(port: int) -> tuple[http.client.HTTPConnection, Address]:
    """A connection that has had two answers (so it is kept alive), and its client address."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    for _ in range(2):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert not response.will_close
    assert connection.sock is not None
    client: Address = connection.sock.getsockname()
    return connection, client


def test_every_worker_keeps_tcp_nodelay_on_its_connections() -> None:
    with launch(workers=2) as launched:
        _wait_healthy(launched)
        workers = launched.workers()
        assert len(workers) == 2, f"expected 2 worker processes, got {workers}"
        nodelay: dict[Address, tuple[int, int]] = {}  # client address -> (worker pid, TCP_NODELAY)
        connections: list[http.client.HTTPConnection] = []
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            # The kernel picks a worker per new connection: open them until both workers have some.
            while {pid for pid, _ in nodelay.values()} != set(workers) or len(nodelay) < 8:
                assert time.monotonic() < deadline, f"connections reached only {nodelay} of workers {workers}"
                connection, client = _keep_alive_connection(launched.port)
                connections.append(connection)
                owners = {}
                for pid in workers:
                    found = accepted_nodelay(pid, {client})
                    if client in found:
                        owners[pid] = found[client]
                assert len(owners) == 1, f"connection {client} found in workers {owners} (of {workers})"
                ((pid, value),) = owners.items()
                nodelay[client] = (pid, value)
        finally:
            for connection in connections:
                connection.close()
    without = {client: pid for client, (pid, value) in nodelay.items() if value == 0}
    assert not without, f"TCP_NODELAY is off on accepted connections (client -> worker): {without}"


def _launcher_processes(port: int) -> list[int]:
    """Processes still running `app.serve` with this port (the parent or a worker)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                args = (proc / "cmdline").read_bytes().split(b"\0")
                if b"app.serve" in args and str(port).encode() in args:
                    found.append(int(proc.name))
    return found


def _wait_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while (alive := [pid for pid in pids if Path(f"/proc/{pid}").exists()]) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return alive


def test_sigterm_stops_the_launcher_and_every_worker() -> None:
    with launch(workers=2) as launched:
        _wait_healthy(launched)
        workers = launched.workers()
        assert len(workers) == 2
        launched.process.send_signal(signal.SIGTERM)
        code = launched.process.wait(timeout=STOP_TIMEOUT_S)
        assert code == 0, launched.stderr_text()[-4000:]
        assert _wait_gone(workers) == [], "workers still running after the launcher stopped"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((HOST, launched.port), timeout=5).close()


def test_a_bad_rulebook_stops_the_launcher_with_the_error_on_stderr(tmp_path: Path) -> None:
    with launch(rules_dir=tmp_path, workers=2) as launched:  # an empty rulebook folder
        try:
            code = launched.process.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the launcher kept running with a bad rulebook:\n{launched.stderr_text()[-4000:]}")
        stderr = launched.stderr_text()
        assert code == 3, stderr[-4000:]  # uvicorn's STARTUP_FAILURE, passed on from the worker
        assert "invalid rulebook" in stderr
        assert "rulebook.yaml: file is missing" in stderr
        assert "Application startup failed" in stderr
        assert "exited with code 3; stopping the others" in stderr
        assert _wait_gone(_launcher_processes(launched.port)) == []
