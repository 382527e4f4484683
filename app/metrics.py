"""Prometheus metrics (the official client library, prometheus-client), served at GET /metrics in
the Prometheus text format (app/routes/metrics.py):

- `livermets_http_requests_total{method, route, status}`: every answer, by route template (the path
  as declared, `/static/{name}`; `unmatched` for any path no route serves, so scanners cannot make
  new series) and status, counted when the answer is finished;
- `livermets_http_request_duration_seconds{method, route}`: a histogram of the time from the request
  to the last byte of the answer (a streamed batch included);
- `livermets_errors_total{kind}`: error answers by the error's code in the body (`invalid_request`,
  `payload_too_large`, `unauthorized`, `busy`, ...); `http_<status>` for an error answer without one,
  `internal_error` when the app raised;
- `livermets_engine_evaluations_total{engine}`: evaluations by the rules engine: `whole` (the whole
  rulebook: explain, compare, batch, what-if), `status` (the alternatives behind depends_on),
  `field` (one input's rules, for what-if);
- `livermets_rulebook_info{version, date, digest}`: 1, for the rulebook in use.

Labels take only values the service chooses (route templates, known methods, status codes, error
codes), so their number is bounded whatever clients send. Nothing of a case reaches a metric.

Several workers (`python -m app.serve --workers N`): each is a process of its own, and a scrape
reaches whichever worker takes the connection. So the launcher gives its workers one directory for
the client library's multiprocess mode (PROMETHEUS_MULTIPROC_DIR; `shared_between_workers`), and
every worker answers /metrics with the sums over all of them. An operator may set that variable
themselves (an empty directory of their own, for another launcher); it must be set before start."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:  # only types: the launcher imports this module and must stay small
    from app.core.evaluation import Evaluate, Evaluation
    from app.core.service import ExplainerService

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# From a cached catalogue answer (about a millisecond) to a streamed 1,000-case batch (seconds).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TEMPLATES_KEPT = 1024  # matching a path against every route costs about 10 µs; a dict lookup does not
_ERROR_BODY_LIMIT = 64 * 1024  # error bodies are bounded (app/errors.py); read no more than this
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """The metrics of one app, in a registry of its own (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "livermets_http_requests",
            "HTTP answers, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "livermets_http_request_duration_seconds",
            "Seconds from the request to the last byte of its answer, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "livermets_errors", "Error answers, by the error's code.", ["kind"], registry=self.registry
        )
        self.evaluations = Counter(
            "livermets_engine_evaluations",
            "Rules-engine evaluations, by rulebook: whole, status (depends_on) or field (what-if).",
            ["engine"],
            registry=self.registry,
        )
        # An info metric (value 1, the facts in labels), as a gauge: the client library's Info type is
        # not available in multiprocess mode, and both are written the same in the text format.
        self.rulebook = Gauge(
            "livermets_rulebook_info",
            "The rulebook in use (value 1).",
            ["version", "date", "digest"],
            registry=self.registry,
            multiprocess_mode="max",
        )

    def exposition(self) -> bytes:
        """The text format: this process's metrics, or every worker's summed in multiprocess mode."""
        if multiprocess():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    def observed(self, svc: ExplainerService) -> ExplainerService:
        """`svc` with every engine evaluation counted, and the rulebook recorded."""
        stamp = svc.explainer.stamp
        self.rulebook.labels(stamp.version, stamp.date.isoformat(), stamp.digest).set(1)
        by_field = {k: (b, self._counted(e, "field")) for k, (b, e) in (svc.evaluate_by_field or {}).items()}
        return replace(
            svc,
            evaluate=self._counted(svc.evaluate, "whole"),
            evaluate_status=self._counted(svc.evaluate_status, "status") if svc.evaluate_status else None,
            evaluate_by_field={k: (b, self._counted(e, "field")) for k, (b, e) in by_field.items()}
            if by_field
            else None,
        )

    def _counted(self, evaluate: Evaluate, engine: str) -> Evaluate:
        counter = self.evaluations.labels(engine)

        def counted(facts: dict[str, Any]) -> Evaluation:
            counter.inc()
            return evaluate(facts)

        return counted


def served_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route that serves a path (it has a template), through included routers: FastAPI keeps
    an included router as one entry of `app.routes`, holding the router it includes."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from served_routes(included.routes)
        elif isinstance(getattr(route, "path", None), str):
            yield route


def route_template(scope: Scope, routes: Iterable[Any]) -> str:
    """The template of the route that serves this path (whatever the method), or UNMATCHED."""
    for route in routes:
        match, _ = route.matches(scope)
        if match != Match.NONE:
            path: str = route.path
            return path
    return UNMATCHED


def error_kind(status: int, body: bytes, content_encoding: bytes | None) -> str:
    """The code an error answer names (`code`, or `error` in the older shape), else `http_<status>`."""
    try:
        if content_encoding == b"gzip":
            body = zlib.decompressobj(31).decompress(body, _ERROR_BODY_LIMIT)
        document = json.loads(body)
    except (ValueError, zlib.error):
        return f"http_{status}"
    code = (document.get("code") or document.get("error")) if isinstance(document, dict) else None
    return code if isinstance(code, str) and _CODE.fullmatch(code) else f"http_{status}"


class RequestMetrics:
    """Counts and times every answer; placed just inside RequestContext, so answers made by the
    outer middlewares (401, 413, CORS) are counted too. Bodies are only looked at when the status is
    an error, to read the error's code."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.routes: list[Any] | None = None  # built on first use: the routes are all registered by then
        self.templates: dict[str, str] = {}  # path -> template, for the first TEMPLATES_KEPT paths seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        answered = False
        encoding: bytes | None = None
        error_body = bytearray()

        async def watching(message: Message) -> None:
            nonlocal status, answered, encoding
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                encoding = next((v for k, v in message.get("headers", ()) if k.lower() == b"content-encoding"), None)
            elif message["type"] == "http.response.body" and status >= 400:
                error_body.extend(message.get("body", b"")[: _ERROR_BODY_LIMIT - len(error_body)])
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = self._template(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.duration.labels(method, route).observe(time.perf_counter() - started)
            if status >= 400:
                kind = error_kind(status, bytes(error_body), encoding) if answered else "internal_error"
                self.metrics.errors.labels(kind).inc()

    def _template(self, scope: Scope) -> str:
        path: str = scope["path"]
        found = self.templates.get(path)
        if found is None:
            if self.routes is None:
                self.routes = list(served_routes(getattr(scope.get("app"), "routes", ())))
            found = route_template(scope, self.routes)
            if len(self.templates) < TEMPLATES_KEPT:
                self.templates[path] = found
        return found


@contextmanager
def shared_between_workers() -> Iterator[None]:
    """For the launcher of several workers: a fresh, empty directory for the client library's
    multiprocess mode, in the environment the workers inherit, removed when they have stopped.
    A directory the operator named (PROMETHEUS_MULTIPROC_DIR already set) is used as it is."""
    if multiprocess():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="livermets-metrics-") as directory:
        os.environ[MULTIPROC_ENV] = directory
        try:
            yield
        finally:
            os.environ.pop(MULTIPROC_ENV, None)
