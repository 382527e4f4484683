"""Connection limits for `python -m app.serve`: what uvicorn does not bound by itself.

- **Header timeout** (LIVERMETS_HEADER_TIMEOUT_S): a client has that long, from the moment its
  connection is accepted (or from the end of the previous answer on a keep-alive connection), to
  send a complete request head. The clock is not restarted by each byte, so sending the head one
  byte at a time (slowloris) does not hold the connection. Closed on expiry; a client that had
  sent part of a head gets a 408 first, a silent one gets nothing.
- **Connection cap** (LIVERMETS_MAX_CONNECTIONS, per worker): a connection accepted while the
  worker already holds that many gets a 503 at once and is closed, so its descriptor is freed at
  once and an idle flood cannot take the worker to its file limit.
- **Answers below the app** (the 400 for a malformed request, the 408, the 503) are problem
  documents like the app's own errors and carry the same security headers and an X-Request-ID,
  and each is one JSON log line (logger `livermets.connections`) with the reason and the peer
  address; never a traceback.

The keep-alive idle timeout (LIVERMETS_KEEP_ALIVE_S) is uvicorn's own `timeout_keep_alive`; the
header timeout also runs from the end of each answer, so the idle time is at most the shorter of
the two. Reading a body is not timed: once the head is in, the app runs, and the body limits bound
how much a client can send (a slow body holds its connection, which counts against the cap). The
rest of a body the app has already answered (a 413 sent before reading it) is part of the time
allowed for the next head, so uvicorn does not read and discard a huge upload for ever.

`GuardedH11Protocol` subclasses uvicorn's h11 protocol, the one uvicorn picks when httptools is not
installed (it is not a dependency of this project); `protocol_class()` pins it, so installing
httptools later does not silently drop these limits."""

import asyncio
import errno
import logging
import math
import resource
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from app.errors import PROBLEM_JSON, problem, problem_bytes
from app.observability import REQUEST_ID_HEADER
from app.security import ALWAYS, API_CSP

log = logging.getLogger("livermets.connections")

# uvicorn's default listen backlog. asyncio also accepts up to this many connections in one go
# before any of them reaches the protocol, so the worker's descriptor budget must include it.
LISTEN_BACKLOG = 2048
# The least backlog accepted when the descriptor limit is tight (a smaller queue drops bursts).
MIN_LISTEN_BACKLOG = 128
# Descriptors the worker needs for itself: the listening socket, epoll, stdio, log streams,
# the rulebook and source files read at start-up, the engine's own.
FD_RESERVE = 64
# What uvicorn logs (without the peer) before its own 400; our line replaces it.
_UVICORN_400_WARNING = "Invalid HTTP request received."
_ACCEPT_OUT_OF_RESOURCES = "socket.accept() out of system resource"


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    max_connections: int


def new_request_id() -> str:
    """A fresh request id, in the format app.observability gives requests without one."""
    return uuid.uuid4().hex


def protocol_answer(
    status: int, code: str, message: str, default_headers: list[tuple[bytes, bytes]]
) -> tuple[bytes, str]:
    """A complete `Connection: close` answer written below the app: the same problem document as the
    app's errors (app/errors.py, `code` one of its PROBLEM_TYPES), the app's security headers and a
    fresh X-Request-ID; and that id."""
    request_id = new_request_id()
    body = problem_bytes(status, code, [problem("request", message)])
    headers = [
        *default_headers,  # date and server, as on the app's answers
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *ALWAYS,
        (b"content-security-policy", API_CSP),
        (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
    ]
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())]
    lines.extend(name + b": " + value + b"\r\n" for name, value in headers)
    return b"".join([*lines, b"\r\n", body]), request_id


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout, a connection cap, and its answers below the
    app carrying the security headers and a request id. Use `protocol_class(limits)`."""

    limits: ClassVar[ConnectionLimits]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_scope: object = None  # the request scope when the timer was armed
        self._head_bytes = 0  # bytes received since the timer was armed
        self._answered = 0  # responses completed on this connection
        self._refused = False

    # The connection cap.

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse()
            return
        self._arm_head_timer()

    def _refuse(self) -> None:
        self._refused = True
        self.connections.discard(self)
        message = "the server holds as many connections as it may; try again later"
        answer, request_id = protocol_answer(503, "too_many_connections", message, self.server_state.default_headers)
        log.warning(
            "connection refused: too many open connections",
            extra={
                "reason": "max_connections",
                "peer": self._peer(),
                "limit": self.limits.max_connections,
                "status": 503,
                "request_id": request_id,
            },
        )
        self.transport.write(answer)
        self.transport.close()

    # The header timeout.

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_scope = self.scope
        self._head_bytes = len(self.conn.trailing_data[0])  # part of the next head may be buffered
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_timer is not None and self.scope is not self._head_scope:
            self._cancel_head_timer()  # h11 parsed a complete request head: the app takes over

    def on_response_complete(self) -> None:
        scope = self.scope
        super().on_response_complete()  # arms uvicorn's keep-alive timer, runs a pipelined request
        self._answered += 1
        if not self.transport.is_closing() and self.scope is scope:
            self._arm_head_timer()  # no next request yet: its head is due within the timeout

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes == 0 and self._answered:
            # An idle keep-alive connection (only when the keep-alive timeout is the longer one):
            # closed quietly, like uvicorn's keep-alive timeout.
            self.transport.close()
            return
        waiting_for_head = self.conn.their_state is h11.IDLE
        extra: dict[str, Any] = {
            # Else the client is still sending the body of a request already answered (a 413 sent
            # before the body was read): it had the same time to finish it and start the next head.
            "reason": "header_timeout" if waiting_for_head else "answered_body_timeout",
            "peer": self._peer(),
            "timeout_s": self.limits.header_timeout_s,
            "bytes_received": self._head_bytes,
        }
        answer = b""
        if self._head_bytes and waiting_for_head:  # a client that started a head is told why it is closed
            message = "the request head was not received in time"
            answer, extra["request_id"] = protocol_answer(
                408, "request_timeout", message, self.server_state.default_headers
            )
            extra["status"] = 408
        log.warning("connection closed: no complete request head in time", extra=extra)
        if answer:
            self.transport.write(answer)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    # uvicorn's own 400, for a request h11 cannot parse.

    def send_400_response(self, msg: str) -> None:
        self._cancel_head_timer()
        # uvicorn's `msg` is always "Invalid HTTP request received."; the document says it in its words.
        why = "the HTTP request could not be parsed"
        answer, request_id = protocol_answer(400, "malformed_request", why, self.server_state.default_headers)
        log.warning(
            "invalid HTTP request: answered 400 and closed",
            extra={"reason": "malformed_request", "peer": self._peer(), "status": 400, "request_id": request_id},
        )
        self.transport.write(answer)
        self.transport.close()

    def _peer(self) -> str:
        if self.client is None:
            return "unknown"
        host, port = self.client
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def protocol_class(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """The protocol class to pass as `uvicorn.Config(http=...)`, with these limits."""

    class Guarded(GuardedH11Protocol):
        pass

    Guarded.limits = limits
    return Guarded


class _DropUvicorn400Warning(logging.Filter):
    """uvicorn logs "Invalid HTTP request received." before calling send_400_response, without the
    peer; GuardedH11Protocol logs the complete line, so uvicorn's is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _UVICORN_400_WARNING


def quiet_uvicorn_400_warning() -> None:
    """Drop uvicorn's own line for a malformed request (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropUvicorn400Warning) for f in logger.filters):
        logger.addFilter(_DropUvicorn400Warning())


class AcceptErrorLog:
    """An asyncio exception handler. When accept() fails for want of descriptors, asyncio (3.11)
    logs a traceback for every further attempt in the same batch (up to the backlog, every
    second), which filled the log at about 8 MB/s. This logs one JSON line a second at most,
    counting the repeats; anything else goes to asyncio's default handler."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.last = -math.inf
        self.repeats = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != _ACCEPT_OUT_OF_RESOURCES:
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last < self.interval_s:
            self.repeats += 1
            return
        error = context.get("exception")
        code = errno.errorcode.get(error.errno, "unknown") if isinstance(error, OSError) and error.errno else "unknown"
        log.error(
            "cannot accept connections: out of file descriptors or memory (retrying in 1 s)",
            extra={"reason": "accept_failed", "error": code, "repeats": self.repeats},
        )
        self.last, self.repeats = now, 0


class DescriptorLimitError(ValueError):
    pass


def descriptor_budget(max_connections: int) -> int:
    """The listen backlog for a worker holding up to `max_connections` connections, after raising
    this process's soft RLIMIT_NOFILE to its hard limit (as Go does at start-up; no privilege needed).
    The worker needs max_connections + backlog + FD_RESERVE descriptors: the backlog is uvicorn's
    2,048, lowered to fit a tight limit but never below MIN_LISTEN_BACKLOG. Raises
    DescriptorLimitError, naming LIVERMETS_MAX_CONNECTIONS, when even that does not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # an infinite hard limit above fs.nr_open: keep the soft limit
    if soft == resource.RLIM_INFINITY:
        return LISTEN_BACKLOG
    backlog = min(LISTEN_BACKLOG, soft - max_connections - FD_RESERVE)
    if backlog < MIN_LISTEN_BACKLOG:
        most = soft - MIN_LISTEN_BACKLOG - FD_RESERVE
        raise DescriptorLimitError(
            f"LIVERMETS_MAX_CONNECTIONS={max_connections} does not fit this process's file descriptor "
            f"limit of {soft} (ulimit -n, hard limit {'unlimited' if hard == resource.RLIM_INFINITY else hard}): "
            f"each worker needs one per connection plus {MIN_LISTEN_BACKLOG} for queued connections and "
            f"{FD_RESERVE} for itself. Set LIVERMETS_MAX_CONNECTIONS to at most {max(most, 0)}, "
            "or raise the limit (for Docker: --ulimit nofile=N:N)."
        )
    return backlog
