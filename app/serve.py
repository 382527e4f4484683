"""Serve the app with one or more processes, keeping TCP_NODELAY on every accepted connection.

    python -m app.serve [--host 127.0.0.1] [--port 8000] [--workers N]

`--workers` defaults to LIVERMETS_WORKERS, else 1.

Why not `uvicorn --workers N` (or `--fd`): uvicorn hands its workers a listening socket whose
`proto` is 0, and asyncio sets TCP_NODELAY on accepted connections only when the listening socket
says IPPROTO_TCP. Without it every keep-alive answer waits about 40 ms for a delayed ACK. Here each
process creates its own socket with proto=IPPROTO_TCP.

With one worker the server runs in this process. With N workers this process only supervises: it
starts N copies of itself, each binding its own SO_REUSEPORT socket on host:port so that the kernel
spreads new connections over them (one shared socket sends most connections to one worker). It
forwards SIGTERM and SIGINT to the workers as SIGTERM (a graceful stop) and waits for them. If a
worker exits on its own (a bad rulebook at start-up, a crash later) it stops the others and exits
non-zero, leaving restarts to the orchestrator. Each worker builds the app with
`create_app()` (app.main:app) and runs its lifespan, so a bad rulebook stops it with the message
on stderr. Logging is uvicorn's default configuration, as with `uvicorn app.main:app`.

Every worker bounds its connections (app/connections.py, set by LIVERMETS_* variables read with
`Settings.from_env()`): a header timeout not restarted by each byte, uvicorn's keep-alive timeout,
and a cap on open connections, checked against the file descriptor limit at start-up (the soft
limit is raised to the hard one; a cap that still does not fit stops start-up, exit code 3)."""

import argparse
import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from contextlib import suppress
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from app.connections import (
    LISTEN_BACKLOG,
    AcceptErrorLog,
    ConnectionLimits,
    descriptor_budget,
    protocol_class,
    quiet_uvicorn_400_warning,
)
from app.metrics import shared_between_workers
from app.settings import Settings

APP = "app.main:app"
DESCRIPTION = "Serve the app with one or more processes, keeping TCP_NODELAY on every accepted connection."
WORKERS_ENV = "LIVERMETS_WORKERS"
_PR_SET_PDEATHSIG = 1
log = logging.getLogger("uvicorn.error")


def bound_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A bound TCP socket created with proto=IPPROTO_TCP, so that asyncio sets TCP_NODELAY on the
    connections it accepts. It is not listening yet: asyncio listens once the app has started, so a
    worker still loading the rulebook gets no connections from the kernel."""
    family, *_ = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # Out of descriptors anyway (the cap leaves room): one line a second, not a traceback per try.
        asyncio.get_running_loop().set_exception_handler(AcceptErrorLog())
        await super().startup(sockets=sockets)
        # uvicorn says where it listens only when it created the socket itself.
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            log.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit) [%d]", shown, port, os.getpid())


def server_config(
    host: str, port: int, settings: Settings | None = None, backlog: int = LISTEN_BACKLOG
) -> uvicorn.Config:
    """uvicorn's configuration for one worker: the app, and the connection limits of `settings`."""
    settings = settings or Settings()
    limits = ConnectionLimits(header_timeout_s=settings.header_timeout_s, max_connections=settings.max_connections)
    return uvicorn.Config(
        APP,
        host=host,
        port=port,
        http=protocol_class(limits),
        # Typed int by uvicorn, which only hands it to loop.call_later (a float is what that takes).
        timeout_keep_alive=settings.keep_alive_s,  # type: ignore[arg-type]
        backlog=backlog,
    )


def serve(host: str, port: int, reuse_port: bool = False, settings: Settings | None = None) -> int:
    """One uvicorn server in this process, on a socket of its own; the exit code."""
    try:
        settings = settings or Settings.from_env()
        backlog = descriptor_budget(settings.max_connections)
    except ValueError as error:  # a bad LIVERMETS_* value, or a cap above the descriptor limit
        print(f"app.serve: {error}", file=sys.stderr)
        return STARTUP_FAILURE
    try:
        sock = bound_socket(host, port, reuse_port)
    except OSError as error:
        print(f"app.serve: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return STARTUP_FAILURE
    server = _Server(server_config(host, port, settings, backlog))
    quiet_uvicorn_400_warning()  # after uvicorn has configured its loggers
    with sock, suppress(KeyboardInterrupt):  # a second Ctrl-C: uvicorn re-raises it once stopped
        server.run(sockets=[sock])  # a failed start-up exits with STARTUP_FAILURE (3)
    return 0


def _die_with_parent() -> None:
    """In a worker before exec (Linux): SIGTERM when the supervisor dies, even by SIGKILL."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def supervise(host: str, port: int, workers: int) -> int:
    """N worker processes on host:port, each with its own SO_REUSEPORT socket; the exit code."""
    command = [sys.executable, "-m", "app.serve", "--host", host, "--port", str(port), "--workers", "1"]
    running: dict[int, subprocess.Popen[bytes]] = {}
    stopping = False
    failed = 0

    def stop(signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid, process in running.items():
            if process.returncode is None:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)  # not reaped yet, so the pid is still this worker's

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(workers):
            if stopping:
                break
            process = subprocess.Popen([*command, "--reuse-port"], preexec_fn=_die_with_parent)
            running[process.pid] = process
        while any(p.returncode is None for p in running.values()):
            try:
                pid, status = os.waitpid(-1, 0)  # a signal runs `stop`, then the wait goes on
            except ChildProcessError:
                break
            if pid not in running:
                continue
            code = running[pid].returncode = os.waitstatus_to_exitcode(status)
            if not stopping:
                failed = code if code > 0 else 1
                print(f"app.serve: worker {pid} exited with code {code}; stopping the others", file=sys.stderr)
                stop()
            elif code not in (0, -signal.SIGTERM, -signal.SIGINT):
                failed = failed or 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return failed


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None, prog: str = "python -m app.serve") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--workers", type=_positive, default=None, help=f"worker processes (default ${WORKERS_ENV}, else 1)"
    )
    # Internal: how the supervisor starts each worker.
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workers: int | None = args.workers
    if workers is None:
        try:
            workers = _positive(os.environ.get(WORKERS_ENV, "1"))
        except argparse.ArgumentTypeError as error:
            parser.error(f"{WORKERS_ENV} {error}")
    try:
        settings = Settings.from_env()
    except ValueError as error:
        print(f"app.serve: {error}", file=sys.stderr)
        return STARTUP_FAILURE
    if workers == 1:
        return serve(args.host, args.port, reuse_port=args.reuse_port, settings=settings)
    if args.port == 0:
        parser.error("--port 0 gives every worker a different port: name a port with --workers > 1")
    try:  # before any worker starts (each checks again); the raised soft limit is inherited
        descriptor_budget(settings.max_connections)
    except ValueError as error:
        print(f"app.serve: {error}", file=sys.stderr)
        return STARTUP_FAILURE
    with shared_between_workers():  # every worker answers /metrics with the sums over all (app/metrics.py)
        return supervise(args.host, args.port, workers)


if __name__ == "__main__":
    sys.exit(main())
