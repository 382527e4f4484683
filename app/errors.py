"""Every error body of the service, in one shape: an RFC 9457 problem document
(`application/problem+json`), the `ErrorResponse` model, declared once, and the helpers that build
it (`error_body`, `error_response`, `problem_bytes`), used by the exception handlers here, the
pure-ASGI middlewares, the connection guard below the app and the batch's `invalid` entries alike.
An error names its problem type once (`code`, one of PROBLEM_TYPES); the document's `type`, `title`
and `status` follow from it. 4xx answers for bad input list each field at fault and what is allowed
(`errors`).

Error answers are bounded whatever the input: at most MAX_PROBLEMS problems are listed, and an
echoed input is cut to MAX_INPUT_CHARS characters of its JSON text. The input policy for bodies,
which answers with these helpers, is app/body_policy.py."""

import json
import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, NamedTuple

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.case import Case, field_label

# The bounds of an error answer (a bad body of a few KB must not get an answer of hundreds of KB) and of
# the JSON the service reads. Each is published in the OpenAPI document (the descriptions below).
MAX_PROBLEMS = 20  # problems listed in one `errors`; one more entry says how many were left out
MAX_INPUT_CHARS = 200  # characters of an echoed input's JSON text (and of a field name) shown
MAX_JSON_DEPTH = 32  # levels of arrays and objects in a body (a batch of cases needs 4)
LEFT_OUT = "too_many_errors"

PROBLEM_JSON = "application/problem+json"
# A problem document's `type` is this path and its code: a URI reference, resolved against the
# service's own address, where GET answers the type's description (app/routes/problems.py).
PROBLEM_TYPE_PREFIX = "/problems/"

# Bodies that wrap cases: their own top-level fields are not the case's fields.
ENVELOPE_FIELDS = {"/v1/compare": ("a", "b"), "/v1/explain/batch": ("cases",)}


class ProblemType(NamedTuple):
    status: int
    title: str
    about: str


# Every kind of error the service sends, by code. A new kind is one entry here.
PROBLEM_TYPES: dict[str, ProblemType] = {
    "malformed_request": ProblemType(400, "Malformed request", "The HTTP request could not be parsed."),
    "cors_refused": ProblemType(
        400, "CORS preflight refused", "The origin, method or headers of a CORS preflight are not allowed."
    ),
    "invalid_hook_call": ProblemType(
        400,
        "Invalid CDS Hooks call",
        "A call to a CDS service that is not JSON, lacks a field or has an invalid one, or whose prefetch is not "
        "FHIR (CDS Hooks answers these with 400); `errors` lists each one.",
    ),
    "unauthorized": ProblemType(
        401,
        "Unauthorized",
        "An API key is configured and the X-API-Key header is missing or wrong; on /cds-services, where the "
        "server trusts CDS clients' JWTs, the bearer token is missing or does not verify.",
    ),
    "not_found": ProblemType(404, "Not found", "There is nothing at this path."),
    "method_not_allowed": ProblemType(
        405, "Method not allowed", "The path exists; the Allow header lists its methods."
    ),
    "request_timeout": ProblemType(408, "Request timeout", "The request head did not arrive in time."),
    "precondition_failed": ProblemType(
        412,
        "Precondition failed",
        "Data a CDS service needs is neither in the prefetch nor obtainable from the FHIR server (no fhirServer "
        "with fhirAuthorization, or the fetch failed); `errors` names each prefetch key.",
    ),
    "payload_too_large": ProblemType(413, "Payload too large", "The body is over the size limit."),
    "unsupported_media_type": ProblemType(415, "Unsupported media type", "The body is not UTF-8 JSON."),
    "invalid_request": ProblemType(
        422, "Invalid request", "A field, query parameter or the body breaks the contract; `errors` lists each one."
    ),
    "busy": ProblemType(
        503, "Busy", "Too many heavy requests at once on this server; retry after Retry-After seconds."
    ),
    "not_ready": ProblemType(503, "Not ready", "The rulebook is still loading; retry after Retry-After seconds."),
    "too_many_connections": ProblemType(
        503, "Too many connections", "The server holds as many connections as it may; retry later."
    ),
    "internal_error": ProblemType(500, "Internal server error", "An unexpected error; the log has its request id."),
}


class Problem(BaseModel):
    field: str = Field(
        description="The field at fault, dotted for nested fields (`body` for the whole body, `query.<name>` and "
        f"`header.<name>` for a query parameter or header). A key longer than {MAX_INPUT_CHARS} characters is "
        "cut short, ending with `…`."
    )
    message: str = Field(description="What is wrong and what is allowed, in words.")
    kind: str | None = Field(
        default=None,
        description="Machine-readable kind of error (pydantic's error type, or one of the service's own: "
        f"`duplicate_key`, `json_too_deep`, `unsupported_charset`, `unsupported_encoding`, `{LEFT_OUT}`).",
    )
    input: Any = Field(
        default=None,
        description="The offending value, when it is a string, number or boolean: as sent when its JSON text "
        f"has at most {MAX_INPUT_CHARS} characters, otherwise the first {MAX_INPUT_CHARS} characters of that JSON "
        "text (a string), with `input_truncated`.",
    )
    input_truncated: bool | None = Field(
        default=None, description=f"Present, and true, when `input` is cut to {MAX_INPUT_CHARS} characters."
    )


class ErrorResponse(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`): every error the service sends."""

    type: str = Field(
        description=f"URI reference of the problem type: `{PROBLEM_TYPE_PREFIX}<code>`, resolved against the "
        "service's address; GET on it describes the type."
    )
    title: str = Field(description="Short summary of the problem type (the same for every problem of a type).")
    status: int = Field(description="The HTTP status code of this answer.")
    detail: str = Field(description="What went wrong this time, in words.")
    code: str = Field(description="The problem type's short name: " + ", ".join(f"`{c}`" for c in PROBLEM_TYPES) + ".")
    errors: list[Problem] = Field(
        max_length=MAX_PROBLEMS + 1,
        description=f"Each problem found, at most {MAX_PROBLEMS}; when there were more, one last entry (kind "
        f"`{LEFT_OUT}`) says how many more were found and are not listed.",
    )


def problem(field: str, message: str, kind: str | None = None) -> Problem:
    """One entry of `errors`. Fields not given (`kind`, `input`) are left out of the body, not null."""
    return Problem(field=field, message=message) if kind is None else Problem(field=field, message=message, kind=kind)


def shown_key(key: str) -> str:
    """A field name or key as an answer shows it: cut to MAX_INPUT_CHARS characters."""
    return key if len(key) <= MAX_INPUT_CHARS else key[:MAX_INPUT_CHARS] + "…"


def with_input(item: Problem, value: Any) -> Problem:
    """`item` echoing `value` when it is a string, number or boolean, cut to MAX_INPUT_CHARS characters
    of its JSON text."""
    # NaN and infinities (which Python's JSON parser accepts) cannot be echoed, nor can strings holding
    # a lone surrogate ("\ud800" is valid JSON but not UTF-8).
    if not (
        isinstance(value, (bool, int))
        or (isinstance(value, float) and math.isfinite(value))
        or (isinstance(value, str) and _utf8(value))
    ):
        return item
    try:
        text = json.dumps(value, ensure_ascii=False)
    except ValueError:  # an integer too long to write (over sys.get_int_max_str_digits() digits)
        return item
    if len(text) <= MAX_INPUT_CHARS:
        item.input = value
    else:
        item.input = text[:MAX_INPUT_CHARS]
        item.input_truncated = True
    return item


def bounded(detail: Sequence[Problem], whole: str = "body", found: int | None = None) -> list[Problem]:
    """At most MAX_PROBLEMS problems, then one entry (field `whole`) saying how many more were found
    (`found`: the number found, when `detail` holds only the first of them). Bounding twice changes nothing."""
    found = len(detail) if found is None else found
    if found <= MAX_PROBLEMS or (len(detail) == MAX_PROBLEMS + 1 and detail[-1].kind == LEFT_OUT):
        return list(detail)
    more = found - MAX_PROBLEMS
    were = "problem was found and is" if more == 1 else "problems were found and are"
    summary = problem(whole, f"{more} more {were} not listed (at most {MAX_PROBLEMS} are)", LEFT_OUT)
    return [*detail[:MAX_PROBLEMS], summary]


def problem_type(code: str, status: int | None = None) -> ProblemType:
    """The type of `code`; an unlisted code (an HTTPException of another status) gets its status's phrase."""
    known = PROBLEM_TYPES.get(code)
    if known is not None:
        return known
    phrase = HTTPStatus(status or 500).phrase
    return ProblemType(status or 500, phrase, phrase + ".")


def _summary(listed: Sequence[Problem]) -> str:
    """The document's `detail`: the one problem in words, or how many there are (so that the answer
    stays bounded: `errors` has each one)."""
    if len(listed) == 1:
        message = listed[0].message
        return message[:1].upper() + message[1:] + "."
    if listed and listed[-1].kind == LEFT_OUT:
        return f"More than {MAX_PROBLEMS} problems were found; `errors` lists the first {MAX_PROBLEMS}."
    return f"{len(listed)} problems were found; `errors` lists each."


def error_body(error: str, detail: Sequence[Problem], status: int | None = None) -> dict[str, Any]:
    """The problem document of an error (also the OpenAPI examples and the batch's invalid entries),
    bounded. `error` is its code (PROBLEM_TYPES); `status` is needed only for a code not listed there."""
    kind = problem_type(error, status)
    listed = bounded(detail)
    document = ErrorResponse(
        type=PROBLEM_TYPE_PREFIX + error,
        title=kind.title,
        status=status or kind.status,
        detail=_summary(listed),
        code=error,
        errors=listed,
    )
    return document.model_dump(mode="json", exclude_unset=True)


def problem_bytes(status: int, error: str, detail: Sequence[Problem]) -> bytes:
    """The same document as bytes, for the answers written below the app (app/connections.py)."""
    return json.dumps(error_body(error, detail, status), ensure_ascii=False, separators=(",", ":")).encode()


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def error_response(
    status: int, error: str, detail: Sequence[Problem], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Every error the service sends is built here; a middleware sends it with `await r(scope, receive, send)`."""
    return ProblemResponse(status_code=status, content=error_body(error, detail, status), headers=headers)


def validation_problem(err: Mapping[str, Any], envelope: tuple[str, ...] = ()) -> Problem:
    """The `errors` entry for one pydantic validation error (`envelope`: the body's own fields). The
    message says it in words (a field's label, not its name); `field` and `kind` keep the ids."""
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    field = shown_key(".".join(loc)) or "body"
    kind = err.get("type", "")
    message = err.get("msg", "invalid value")
    if kind == "json_invalid":
        field = "body"
        message = f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
    elif kind == "missing" and field == "body":
        message = "a JSON object describing the case is required"
    elif kind == "missing":
        message = f"{field_label(loc[-1])} is required"
    elif kind == "extra_forbidden":
        allowed = envelope if envelope and len(loc) == 1 else tuple(Case.model_fields)
        message = f"unknown field {field!r}; allowed fields: {', '.join(allowed)}"
    elif kind in {"model_attributes_type", "dict_type"}:
        message = "the body must be a JSON object describing the case (Content-Type: application/json)"
    return with_input(problem(field, message, kind), err.get("input"))


def validation_problems(errors: Sequence[Mapping[str, Any]], envelope: tuple[str, ...] = ()) -> list[Problem]:
    """The `errors` of a 422 for pydantic's errors, bounded (only the problems listed are built)."""
    shown = [validation_problem(e, envelope) for e in errors[:MAX_PROBLEMS]]
    return bounded(shown, found=len(errors))


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    envelope = ENVELOPE_FIELDS.get(request.url.path, ())
    return error_response(422, "invalid_request", validation_problems(exc.errors(), envelope))


# The codes of the HTTPExceptions the framework raises itself (routing), by status.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def http_error(request: Request, exc: Exception) -> Response:
    """Every HTTPException (routing's 404 and 405, a route's own) as a problem document, its headers
    (Allow) kept. FastAPI answers a body that is not UTF-8 with a bare 400: that one is answered like
    any other body that is not JSON (422 `invalid_request`)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        not_utf8 = problem("body", "the body is not valid JSON (it is not UTF-8 text)", "json_invalid")
        return error_response(422, "invalid_request", [not_utf8])
    code = _HTTP_CODES.get(exc.status_code) or HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    if exc.status_code == 404:
        message = f"there is nothing at {shown_key(request.url.path)}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed here; allowed: {allowed}" if allowed else str(exc.detail)
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, [problem("request", message)], headers=exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    """An unexpected exception: a 500 problem document (the traceback goes to the log, not the client)."""
    message = "an unexpected error; the service log has this request's id"
    return error_response(500, "internal_error", [problem("request", message)])


class ProblemError(Exception):
    """What a route raises to answer with a problem document: `code` (a key of PROBLEM_TYPES, or a
    new code with its `status`) and the problems. The handler below sends it with error_response."""

    def __init__(
        self,
        code: str,
        problems: Sequence[Problem],
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code, self.problems, self.headers = code, list(problems), headers
        self.status = status or problem_type(code).status


async def problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return error_response(exc.status, exc.code, exc.problems, headers=exc.headers)


class ServiceNotReady(Exception):
    """Raised by route dependencies while the rulebook is not loaded yet (answered with 503)."""


def rulebook_loading() -> Problem:
    return problem("rulebook", "the rulebook is still loading; retry shortly")


async def not_ready(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "not_ready", [rulebook_loading()], headers={"Retry-After": "1"})
