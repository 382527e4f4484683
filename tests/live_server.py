"""A real uvicorn server on a loopback port, for tests that need real HTTP (concurrency through
the server, stalled clients, the browser page).

`serve_process(settings)` (what the `live_server` fixture uses) runs the server in a child
process, as it is deployed: it has its own interpreter, so it does not compete for the GIL with
the test's client threads. The parent binds and listens on a free port and hands the socket to the
child, then polls /readyz (bounded by a timeout) until the rulebook is loaded; the child is
terminated when the block ends.

`serve(app)` runs an app object in a thread of the test process, for the few tests that must
change the app (add a route) or read the server's log records in-process.

Run as `python -m tests.live_server FD SETTINGS` it is that child: it serves create_app(settings)
on the inherited listening socket FD until SIGTERM."""

import base64
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import httpx
import uvicorn
from fastapi import FastAPI

from app.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    return sock


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app in a thread of this process. The socket is bound and listening before the server
    starts, so clients can connect at once: no polling, no sleeping."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def serve_process(settings: Settings, timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """create_app(settings) served by uvicorn in a child process; yields its base URL once
    /readyz answers 200. The child's output is kept and shown if it fails to start."""
    with tempfile.TemporaryFile() as output:
        with _listening_socket() as sock:
            port = sock.getsockname()[1]
            payload = base64.b64encode(pickle.dumps(settings)).decode("ascii")
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.live_server", str(sock.fileno()), payload],
                cwd=PROJECT_ROOT,
                env=dict(os.environ),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
            )
        # The child holds the listening socket now; connections queue in its backlog until it serves.
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base_url, process, output, timeout_s)
            yield base_url
        finally:
            _stop(process)


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes], output: IO[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    with httpx.Client(base_url=base_url) as client:
        while (remaining := deadline - time.monotonic()) > 0:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the live server exited during start-up (code {process.returncode}):\n{_tail(output)}"
                )
            try:
                # Blocks (at most `remaining` s) until the child accepts and answers: no busy loop.
                response = client.get("/readyz", timeout=remaining)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            # Not ready yet: wait a little for the child, returning at once if it exits.
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=min(0.1, max(remaining, 0.0)))
    raise RuntimeError(f"the live server was not ready within {timeout_s} s ({last}):\n{_tail(output)}")


def _tail(output: IO[bytes], limit: int = 4000) -> str:
    output.seek(0)
    return output.read().decode("utf-8", "replace")[-limit:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: uvicorn shuts down gracefully
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _main(argv: list[str]) -> None:
    fd, payload = int(argv[0]), argv[1]
    settings = pickle.loads(base64.b64decode(payload))
    if not isinstance(settings, Settings):
        raise SystemExit(f"expected pickled Settings, got {type(settings).__name__}")
    from app.main import create_app

    sock = socket.socket(fileno=fd)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    server.run(sockets=[sock])


if __name__ == "__main__":
    _main(sys.argv[1:])
