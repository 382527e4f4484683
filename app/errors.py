"""Every error body of the service: the `ErrorResponse` model, declared once, and the one helper
that builds a response from it (`error_response`), used by the exception handlers here and by
the pure-ASGI middlewares alike. 4xx answers for bad input name the field and what is allowed."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.case import Case

# Bodies that wrap cases: their own top-level fields are not the case's fields.
ENVELOPE_FIELDS = {"/v1/compare": ("a", "b"), "/v1/explain/batch": ("cases",)}


class Problem(BaseModel):
    field: str = Field(description="The field at fault, dotted for nested fields (`body` for the whole body).")
    message: str = Field(description="What is wrong and what is allowed.")
    type: str | None = Field(default=None, description="Machine-readable kind of error (pydantic's error type).")
    input: Any = Field(default=None, description="The offending value, when short and scalar.")


class ErrorResponse(BaseModel):
    error: str = Field(description="invalid_request, payload_too_large, unauthorized, not_ready or busy.")
    detail: list[Problem]


def problem(field: str, message: str, kind: str | None = None) -> Problem:
    """One detail item. Fields not given (`type`, `input`) are left out of the body, not null."""
    return Problem(field=field, message=message) if kind is None else Problem(field=field, message=message, type=kind)


def error_body(error: str, detail: Sequence[Problem]) -> dict[str, Any]:
    """The JSON body of an error (also the OpenAPI examples and the batch's invalid entries)."""
    return ErrorResponse(error=error, detail=list(detail)).model_dump(mode="json", exclude_unset=True)


def error_response(
    status: int, error: str, detail: Sequence[Problem], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Every error the service sends is built here; a middleware sends it with `await r(scope, receive, send)`."""
    return JSONResponse(status_code=status, content=error_body(error, detail), headers=headers)


def validation_problem(err: Mapping[str, Any], envelope: tuple[str, ...] = ()) -> Problem:
    """The detail item for one pydantic validation error (`envelope`: the body's own fields)."""
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
    item = problem(field, message, kind)
    shown = err.get("input")
    # Echo short scalar inputs only; NaN and infinities (which Python's JSON parser accepts) cannot be
    # echoed, nor can strings holding a lone surrogate ("\ud800" is valid JSON but not UTF-8).
    if (
        isinstance(shown, (bool, int))
        or (isinstance(shown, float) and math.isfinite(shown))
        or (isinstance(shown, str) and len(shown) <= 200 and _utf8(shown))
    ):
        item.input = shown
    return item


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    envelope = ENVELOPE_FIELDS.get(request.url.path, ())
    return error_response(422, "invalid_request", [validation_problem(e, envelope) for e in exc.errors()])


async def unparsable_body(request: Request, exc: Exception) -> Response:
    """FastAPI answers a body that is not UTF-8 with a bare 400; answer it like any other body that
    is not JSON (422, the usual shape). Every other HTTPException keeps FastAPI's answer."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        not_utf8 = problem("body", "the body is not valid JSON (it is not UTF-8 text)", "json_invalid")
        return error_response(422, "invalid_request", [not_utf8])
    return await http_exception_handler(request, exc)


class ServiceNotReady(Exception):
    """Raised by route dependencies while the rulebook is not loaded yet (answered with 503)."""


def rulebook_loading() -> Problem:
    return problem("rulebook", "the rulebook is still loading; retry shortly")


async def not_ready(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "not_ready", [rulebook_loading()], headers={"Retry-After": "1"})


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
        response = error_response(
            413, "payload_too_large", [problem("body", f"request bodies are limited to {limit} bytes")]
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
