"""Connection limits of `python -m app.serve` (app/connections.py), with real sockets against a
launcher process: slow or silent clients are closed at the header timeout (not restarted by each
byte), idle keep-alive connections at the keep-alive timeout, connections over the cap are
refused at once, and the answers written below the app (400, 408, 503) carry the security headers
and a request id. The server runs with short limits (1 s, cap 20) so the tests are quick; every
wait is for an event (an answer, a close), bounded by ten times the setting."""

import json
import logging
import re
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from app.connections import (
    FD_RESERVE,
    LISTEN_BACKLOG,
    MIN_LISTEN_BACKLOG,
    AcceptErrorLog,
    ConnectionLimits,
    DescriptorLimitError,
    descriptor_budget,
)
from app.security import ALWAYS, API_CSP
from app.serve import server_config
from app.settings import Settings
from tests.conftest import RULES_DIR
from tests.test_launcher import HOST, PROJECT_ROOT, STOP_TIMEOUT_S, Launched, _env, _free_port, _wait_healthy

HEADER_TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
MAX_CONNECTIONS = 20
BOUND_S = 10 * HEADER_TIMEOUT_S  # generous: every close is expected after about 1 s
LIMITS = {
    "LIVERMETS_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "LIVERMETS_KEEP_ALIVE_S": str(KEEP_ALIVE_S),
    "LIVERMETS_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
}
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
Address = tuple[str, int]


@contextmanager
def launch(
    env: dict[str, str], workers: int = 1, nofile: tuple[int, int] | None = None, wait: bool = True
) -> Iterator[Launched]:
    """`python -m app.serve --workers N` with these LIVERMETS_* values (and optionally this file
    descriptor limit), as tests/test_launcher.py starts it; stopped with SIGTERM at the end."""
    port = _free_port()

    def limit_files() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

    with ExitStack() as stack:
        stderr = stack.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(
            [sys.executable, "-m", "app.serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            cwd=PROJECT_ROOT,
            env={**_env(RULES_DIR), **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=limit_files,
        )
        launched = Launched(process, port, stderr)
        try:
            if wait:
                _wait_healthy(launched)
            yield launched
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[Launched]:
    """One worker with short limits, started with a soft file limit of 256 (its hard limit unchanged)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with launch(LIMITS, nofile=(256, hard)) as launched:
        yield launched


def log_lines(launched: Launched) -> list[dict[str, object]]:
    """The JSON lines of the server's stderr; also checks there is no traceback anywhere in it."""
    text = launched.stderr_text()
    assert "Traceback" not in text, text[-4000:]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def lines_for(launched: Launched, peer: Address) -> list[dict[str, object]]:
    return [line for line in log_lines(launched) if line.get("peer") == f"{peer[0]}:{peer[1]}"]


def connect(launched: Launched) -> socket.socket:
    return socket.create_connection((HOST, launched.port), timeout=BOUND_S)


def read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the deadline)."""
    data = b""
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except TimeoutError:
            pytest.fail(f"the connection was still open after {BOUND_S} s (received {data!r})")
        if not chunk:
            return data
        data += chunk


def headers_of(answer: bytes) -> tuple[int, dict[str, str]]:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    return status, {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:])}


def assert_answered_below_the_app(answer: bytes, status: int) -> str:
    """The answer has this status, closes, carries the app's security headers and a request id."""
    got, headers = headers_of(answer)
    assert got == status, answer
    assert headers["connection"] == "close"
    for name, value in ALWAYS:
        assert headers[name.decode()] == value.decode(), name
    assert headers["content-security-policy"] == API_CSP.decode()
    request_id = headers["x-request-id"]
    assert REQUEST_ID.fullmatch(request_id), request_id
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert len(body) == int(headers["content-length"])
    # The same problem document (RFC 9457) as every error of the app.
    assert headers["content-type"] == "application/problem+json"
    document = json.loads(body)
    assert document["status"] == status
    assert document["type"] == "/problems/" + document["code"]
    assert document["title"] and document["detail"] and document["errors"][0]["message"]
    return request_id


# Timeouts.


@pytest.mark.server
def test_a_slowloris_client_is_closed_at_the_header_timeout_not_when_it_finishes(server: Launched) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n"
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        started = time.monotonic()
        sent = 0
        # One byte every 0.2 s, until the server answers or closes (select is the 0.2 s pace).
        while sent < len(head) and not select.select([sock], [], [], 0.2)[0]:
            assert time.monotonic() - started < BOUND_S, "the server kept the slow connection open"
            sock.sendall(head[sent : sent + 1])
            sent += 1
        answer = read_until_closed(sock, started + BOUND_S)
    assert sent < len(head), "the client finished its head before the server closed the connection"
    request_id = assert_answered_below_the_app(answer, 408)
    (line,) = lines_for(server, peer)
    assert line["reason"] == "header_timeout"
    assert line["status"] == 408
    assert line["request_id"] == request_id
    assert line["timeout_s"] == HEADER_TIMEOUT_S
    assert line["level"] == "warning"
    assert line["logger"] == "livermets.connections"


@pytest.mark.server
def test_a_silent_connection_is_closed_without_an_answer(server: Launched) -> None:
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        assert read_until_closed(sock, time.monotonic() + BOUND_S) == b""
    (line,) = lines_for(server, peer)
    assert line["reason"] == "header_timeout"
    assert line["bytes_received"] == 0
    assert "status" not in line


@pytest.mark.server
def test_a_head_sent_in_pieces_within_the_timeout_is_served(server: Launched) -> None:
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        for piece in (b"GET /healthz HT", b"TP/1.1\r\nHost: x\r\n", b"Connection: close\r\n\r\n"):
            sock.sendall(piece)
            select.select([sock], [], [], 0.1)  # a pause between pieces (no answer is due yet)
        answer = read_until_closed(sock, time.monotonic() + BOUND_S)
    assert headers_of(answer)[0] == 200
    assert lines_for(server, peer) == []


@pytest.mark.server
def test_an_idle_keep_alive_connection_is_closed_after_its_request(server: Launched) -> None:
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(sock, time.monotonic() + BOUND_S)  # the answer, then the close
    status, headers = headers_of(answer)
    assert status == 200
    assert headers.get("connection") != "close", "the answer itself must keep the connection alive"
    assert lines_for(server, peer) == [], "closing an idle keep-alive connection is normal: not logged"


@pytest.mark.server
def test_a_second_request_on_a_keep_alive_connection_has_the_header_timeout_again(server: Launched) -> None:
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first or not first.endswith(b"}"):
            first += sock.recv(65536)
        assert headers_of(first)[0] == 200
        sock.sendall(b"GET /hea")  # part of a second head, never finished: keep-alive no longer applies
        answer = read_until_closed(sock, time.monotonic() + BOUND_S)
    assert_answered_below_the_app(answer, 408)
    (line,) = lines_for(server, peer)
    assert line["reason"] == "header_timeout"
    assert line["bytes_received"] == len(b"GET /hea")


@pytest.mark.server
def test_the_rest_of_an_answered_body_is_not_read_for_ever(server: Launched) -> None:
    """A 413 goes out before the body is read; uvicorn would then read and discard all of a
    declared 100 MB. The client gets the header timeout to finish it and start its next head."""
    head = b"POST /v1/explain HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
    answer = b""
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        started = time.monotonic()
        sock.sendall(head)
        with suppress(ConnectionError):  # once the server closes, sending fails
            while time.monotonic() - started < BOUND_S:
                sock.sendall(b"x" * 65536)
                if select.select([sock], [], [], 0.05)[0]:
                    if not (chunk := sock.recv(65536)):
                        break
                    answer += chunk
        closed_after = time.monotonic() - started
    assert headers_of(answer)[0] == 413
    assert closed_after < BOUND_S, "the server kept reading the body of a request it had answered"
    (line,) = [x for x in lines_for(server, peer) if x["logger"] == "livermets.connections"]
    assert line["reason"] == "answered_body_timeout"
    assert "status" not in line


# The cap.


@pytest.mark.server
def test_an_idle_flood_over_the_cap_is_refused_at_once_then_health_answers(server: Launched) -> None:
    socks = [connect(server) for _ in range(MAX_CONNECTIONS + 5)]
    peers: list[Address] = [s.getsockname() for s in socks]
    first_event: dict[int, tuple[float, bytes]] = {}  # index -> (when, what the server sent)
    deadline = time.monotonic() + BOUND_S
    try:
        while len(first_event) < len(socks) and time.monotonic() < deadline:
            waiting = [s for i, s in enumerate(socks) if i not in first_event]
            for sock in select.select(waiting, [], [], deadline - time.monotonic())[0]:
                first_event[socks.index(sock)] = (time.monotonic(), read_until_closed(sock, deadline))
    finally:
        for sock in socks:
            sock.close()
    assert len(first_event) == len(socks), "some connections were neither refused nor closed"
    refused = {i: answer for i, (_, answer) in first_event.items() if answer}
    held = {i for i, (_, answer) in first_event.items() if not answer}
    assert len(refused) >= 5, f"only {len(refused)} of {len(socks)} connections refused with a cap of 20"
    assert len(held) <= MAX_CONNECTIONS
    # Refused at accept, before any held connection reached its header timeout.
    assert max(first_event[i][0] for i in refused) < min(first_event[i][0] for i in held)
    for i, answer in refused.items():
        request_id = assert_answered_below_the_app(answer, 503)
        (line,) = lines_for(server, peers[i])
        assert (line["reason"], line["status"], line["request_id"]) == ("max_connections", 503, request_id)
        assert line["limit"] == MAX_CONNECTIONS
    for i in held:
        (line,) = lines_for(server, peers[i])
        assert line["reason"] == "header_timeout"
    # The flood is over: the next client is served (the server frees the slots as it sees the closes).
    with httpx.Client(base_url=server.url, timeout=BOUND_S) as client:
        while (status := client.get("/healthz").status_code) != 200 and time.monotonic() < deadline + BOUND_S:
            time.sleep(0.05)
    assert status == 200


# Malformed requests.


@pytest.mark.server
def test_a_malformed_request_line_gets_a_400_with_security_headers_and_a_request_id(server: Launched) -> None:
    with connect(server) as sock:
        peer: Address = sock.getsockname()
        sock.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
        answer = read_until_closed(sock, time.monotonic() + BOUND_S)
    request_id = assert_answered_below_the_app(answer, 400)
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "malformed_request"
    (line,) = lines_for(server, peer)
    assert (line["reason"], line["status"], line["request_id"]) == ("malformed_request", 400, request_id)
    uvicorn_lines = [x for x in log_lines(server) if x.get("message") == "Invalid HTTP request received."]
    assert uvicorn_lines == [], "uvicorn's own line (without the peer) is replaced by ours"


@pytest.mark.server
def test_the_soft_file_limit_is_raised_to_the_hard_limit(server: Launched) -> None:
    limits = Path(f"/proc/{server.process.pid}/limits").read_text()
    (row,) = [line for line in limits.splitlines() if line.startswith("Max open files")]
    soft, hard = row.split()[3:5]
    assert soft == hard, row


# Start-up checks and configuration.


@pytest.mark.server
def test_a_cap_above_the_file_limit_stops_start_up_naming_the_variable() -> None:
    with launch({"LIVERMETS_MAX_CONNECTIONS": "200"}, nofile=(256, 256), wait=False) as launched:
        code = launched.process.wait(timeout=STOP_TIMEOUT_S)
        stderr = launched.stderr_text()
    assert code == 3, stderr
    assert "LIVERMETS_MAX_CONNECTIONS=200 does not fit" in stderr
    assert f"at most {256 - MIN_LISTEN_BACKLOG - FD_RESERVE}" in stderr
    assert "Traceback" not in stderr


@pytest.mark.server
def test_a_bad_limit_stops_the_launcher_before_any_worker_naming_the_variable() -> None:
    with launch({"LIVERMETS_HEADER_TIMEOUT_S": "0"}, workers=2, wait=False) as launched:
        code = launched.process.wait(timeout=STOP_TIMEOUT_S)
        stderr = launched.stderr_text()
    assert code == 3, stderr
    assert "LIVERMETS_HEADER_TIMEOUT_S must be a positive number of seconds, got '0'" in stderr
    assert "Traceback" not in stderr


@pytest.mark.server
def test_every_worker_of_a_multi_worker_launcher_has_the_limits() -> None:
    with launch(LIMITS, workers=2) as launched:
        socks = [connect(launched) for _ in range(8)]  # the kernel spreads them over both workers
        try:
            for sock in socks:
                assert read_until_closed(sock, time.monotonic() + BOUND_S) == b""
        finally:
            for sock in socks:
                sock.close()
        lines = [x for x in log_lines(launched) if x.get("reason") == "header_timeout"]
    assert len(lines) == len(socks)


@pytest.mark.parametrize("name", ["LIVERMETS_HEADER_TIMEOUT_S", "LIVERMETS_KEEP_ALIVE_S"])
@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "soon", "nan", "inf", ""])
def test_a_bad_timeout_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} must be a positive number of seconds, got '{value}'"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "many"])
def test_a_bad_connection_cap_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LIVERMETS_MAX_CONNECTIONS", value)
    with pytest.raises(ValueError, match=f"LIVERMETS_MAX_CONNECTIONS must be a positive whole number, got '{value}'"):
        Settings.from_env()


def test_the_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LIMITS:
        monkeypatch.delenv(name, raising=False)
    defaults = Settings.from_env()
    assert (defaults.header_timeout_s, defaults.keep_alive_s, defaults.max_connections) == (10.0, 5.0, 512)
    monkeypatch.setenv("LIVERMETS_HEADER_TIMEOUT_S", "2.5")
    monkeypatch.setenv("LIVERMETS_KEEP_ALIVE_S", "7")
    monkeypatch.setenv("LIVERMETS_MAX_CONNECTIONS", "100")
    settings = Settings.from_env()
    assert (settings.header_timeout_s, settings.keep_alive_s, settings.max_connections) == (2.5, 7.0, 100)


def test_the_worker_configuration_carries_the_limits() -> None:
    settings = Settings(header_timeout_s=3, keep_alive_s=2.5, max_connections=7)
    config = server_config("127.0.0.1", 8000, settings, backlog=300)
    assert config.timeout_keep_alive == 2.5
    assert config.backlog == 300
    assert isinstance(config.http, type)
    assert config.http.limits == ConnectionLimits(header_timeout_s=3.0, max_connections=7)  # type: ignore[attr-defined]


def test_the_backlog_shrinks_to_fit_a_tight_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = {resource.RLIMIT_NOFILE: (1024, 1024)}
    monkeypatch.setattr(resource, "getrlimit", lambda which: limits[which])
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: limits.__setitem__(which, value))
    assert descriptor_budget(512) == 1024 - 512 - FD_RESERVE
    limits[resource.RLIMIT_NOFILE] = (1024, 1_048_576)  # the soft limit is raised to the hard one
    assert descriptor_budget(512) == LISTEN_BACKLOG
    assert limits[resource.RLIMIT_NOFILE] == (1_048_576, 1_048_576)
    limits[resource.RLIMIT_NOFILE] = (1024, 1024)
    with pytest.raises(DescriptorLimitError, match="LIVERMETS_MAX_CONNECTIONS=900 does not fit"):
        descriptor_budget(900)


def test_running_out_of_descriptors_logs_one_line_a_second_without_a_traceback() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("livermets.connections")
    logger.addHandler(handler)
    try:
        handle = AcceptErrorLog(interval_s=3600)
        context = {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many")}
        for _ in range(2048):  # asyncio 3.11 reports every try of a 2,048-connection accept batch
            handle(None, context)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
    (record,) = records
    assert record.exc_info is None
    assert record.__dict__["error"] == "EMFILE"
