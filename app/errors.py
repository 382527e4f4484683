"""Clear 4xx answers for bad input: every message names the field and what is allowed."""

import math
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.case import Case

# Bodies that wrap cases: their own top-level fields are not the case's fields.
ENVELOPE_FIELDS = {"/v1/compare": ("a", "b"), "/v1/explain/batch": ("cases",)}


def _problem(err: dict[str, Any], envelope: tuple[str, ...] = ()) -> dict[str, Any]:
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    field = ".".join(loc) or "body"
    kind = err.get("type", "")
    message = err.get("msg", "invalid value")
    if kind == "json_invalid":
        field = "body"
        message = f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
    elif kind == "missing" and field == "body":
        message = "a JSON object describing the case is required"
    elif kind == "missing":
        message = f"field {field!r} is required"
    elif kind == "extra_forbidden":
        allowed = envelope if envelope and len(loc) == 1 else tuple(Case.model_fields)
        message = f"unknown field {field!r}; allowed fields: {', '.join(allowed)}"
    elif kind in {"model_attributes_type", "dict_type"}:
        message = "the body must be a JSON object describing the case (Content-Type: application/json)"
    problem: dict[str, Any] = {"field": field, "message": message, "type": kind}
    shown = err.get("input")
    # Echo short scalar inputs only; NaN and infinities (which Python's JSON parser accepts) cannot be
    # echoed, nor can strings holding a lone surrogate ("\ud800" is valid JSON but not UTF-8).
    if (
        isinstance(shown, (bool, int))
        or (isinstance(shown, float) and math.isfinite(shown))
        or (isinstance(shown, str) and len(shown) <= 200 and _utf8(shown))
    ):
        problem["input"] = shown
    return problem


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    envelope = ENVELOPE_FIELDS.get(request.url.path, ())
    detail = [_problem(e, envelope) for e in exc.errors()]
    return JSONResponse(status_code=422, content={"error": "invalid_request", "detail": detail})


async def unparsable_body(request: Request, exc: Exception) -> Response:
    """FastAPI answers a body that is not UTF-8 with a bare 400; answer it like any other body that
    is not JSON (422, the usual shape). Every other HTTPException keeps FastAPI's answer."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        problem = {
            "field": "body",
            "message": "the body is not valid JSON (it is not UTF-8 text)",
            "type": "json_invalid",
        }
        return JSONResponse(status_code=422, content={"error": "invalid_request", "detail": [problem]})
    return await http_exception_handler(request, exc)


class ServiceNotReady(Exception):
    """Raised by route dependencies while the rulebook is not loaded yet (answered with 503)."""


async def not_ready(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={
            "error": "not_ready",
            "detail": [{"field": "rulebook", "message": "the rulebook is still loading; retry shortly"}],
        },
        headers={"Retry-After": "1"},
    )


class BodySizeLimit:
    """Refuses request bodies over the limit with 413, before the app reads them. `path_limits`
    gives some paths (the batch endpoint) their own limit instead of `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        response = JSONResponse(
            status_code=413,
            content={
                "error": "payload_too_large",
                "detail": [{"field": "body", "message": f"request bodies are limited to {limit} bytes"}],
            },
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
