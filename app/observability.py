"""Request ids and structured logs: one JSON line per request, never any case data.

The access line holds method, path (never the query string), status, duration and the request
id that is also returned in the `X-Request-ID` header. Bodies are never read here, so case data
cannot reach a log line by this route.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.logging import DefaultFormatter as UvicornDefaultFormatter

from app.settings import Settings

ACCESS_LOGGER = "livermets.access"
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id is kept only if it is short and plain, so it cannot inject log content.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# Standard LogRecord attributes; anything else on a record was passed with `extra=` and is logged.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            # The exception type only: messages and tracebacks may quote request data.
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
        return json.dumps(line, default=str)


_HANDLER_MARK = "_livermets_json"


def configure_logging(settings: Settings) -> None:
    """JSON lines on stderr for the service's loggers, once per process (idempotent).

    uvicorn's own access log is switched off: the access line here replaces it, and uvicorn's
    includes the query string. uvicorn's other lines become JSON lines too."""
    root = logging.getLogger("livermets")
    root.setLevel(settings.log_level)
    if not any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(JsonFormatter())
        setattr(stream, _HANDLER_MARK, True)
        root.addHandler(stream)
        root.propagate = False
    logging.getLogger(ACCESS_LOGGER).disabled = not settings.access_log
    logging.getLogger("uvicorn.access").disabled = True
    # uvicorn logs an unhandled exception with its message and traceback, which may quote request
    # data. Its default handlers get the JSON formatter (exception type only); a logging config
    # of the operator's own (`uvicorn --log-config`) is left alone.
    for name in ("uvicorn", "uvicorn.error"):
        for uvicorn_handler in logging.getLogger(name).handlers:
            if isinstance(uvicorn_handler.formatter, UvicornDefaultFormatter):
                uvicorn_handler.setFormatter(JsonFormatter())


def _request_id(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"x-request-id" and _SANE_REQUEST_ID.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestContext:
    """Outermost middleware: assigns the request id, returns it, and logs the finished request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app raises before answering
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                self.log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )
