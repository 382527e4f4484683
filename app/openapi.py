"""Every change this service makes to its generated OpenAPI document, in one place, applied once
by `customise_openapi` (called from create_app). The document then says what the app-wide parts
send, which FastAPI cannot see from the routes alone, and reads well to a client generator:

- every error response an operation can send, with the problem document (`ErrorResponse`,
  `application/problem+json`, app/errors.py) and an example, declared generically from what the
  operation is: 500 and 503 (the connection cap) everywhere, 503 `not_ready` where it needs the
  loaded rulebook and `busy` where it takes a heavy-work slot (app/limits.py), 401 and a 422 for
  unknown query parameters (app/strict_query.py) on every /v1/ operation, and on every /v1/
  operation that takes a JSON body the input policy app/body_policy.py reads it by (413, 415, 422);
  the errors no operation sends (404, 405, and the 400 and 408 of app/connections.py) are
  `components/responses`;
- the API key (app/security.py), always, as optional: a client generated against a development
  server works against one with a key; on /cds-services the CDS clients' JWT too, always, as an
  alternative (app/cds_access.py: the JWT when LIVERMETS_CDS_JWT_ISSUERS is set, else the key);
- what a client generator reads well (app/openapi_naming.py): short operation ids, named enums,
  category and source id enums and response examples; the document is cached only once the
  rulebook is loaded, since those last two come from it.

The schemathesis fuzz test then checks error bodies as strictly as successful ones."""

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.body_policy import V1_PREFIX
from app.cds_access import CDS_PREFIX
from app.errors import MAX_JSON_DEPTH, PROBLEM_JSON, PROBLEM_TYPES, ErrorResponse, error_body, problem
from app.openapi_naming import name_for_clients
from app.routes import deps
from app.security import API_KEY_HEADER, PROTECTED_PREFIX
from app.settings import Settings

ERROR_REF = "#/components/schemas/ErrorResponse"
NOT_UTF8 = (
    "The body is not UTF-8 (`unsupported_media_type`): a Content-Type charset other than utf-8, or "
    "UTF-16 or UTF-32 text."
)
BODY_POLICY = (
    " Also a body that breaks the input policy: a key repeated in one JSON object (`duplicate_key`), nesting "
    f"deeper than {MAX_JSON_DEPTH} levels (`json_too_deep`), invalid UTF-8 or not JSON (`json_invalid`)."
)
# What each error response says, and an example of its body.
_EXAMPLE_MESSAGES = {
    "invalid_request": problem(
        "primary_site", "Input should be 'colorectal', 'breast', ... or 'other'", "literal_error"
    ),
    "unauthorized": problem(API_KEY_HEADER, f"a valid API key is required in the {API_KEY_HEADER} header"),
    "payload_too_large": problem("body", "request bodies are limited to 65536 bytes"),
    "unsupported_media_type": problem(
        "header.content-type", "charset 'latin-1' is not supported", "unsupported_charset"
    ),
    "busy": problem("request", "too many what-if requests at once on this server; retry in a moment"),
    "not_ready": problem("rulebook", "the rulebook is still loading; retry shortly"),
}


def customise_openapi(app: FastAPI, settings: Settings) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        app.openapi_schema = None  # FastAPI caches what it built; this function decides what is kept
        _document_errors(schema, _route_needs(app))
        _document_cds_jwt(schema)
        _document_api_key(schema)
        service = getattr(app.state, "service", None)
        name_for_clients(schema, service)
        if service is not None:
            app.openapi_schema = schema  # complete only once the rulebook is loaded
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            yield path, method, operation


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    """Every dependency `dependant` runs, its dependencies' own included."""
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, those of included routers too (FastAPI keeps an included router as one entry
    holding the router: `original_router`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _route_needs(app: FastAPI) -> dict[tuple[str, str], set[Callable[..., Any]]]:
    """For each operation, the dependencies it runs (the loaded service, a heavy-work slot...)."""
    return {
        (route.path_format, method.lower()): _calls(route.dependant)
        for route in _api_routes(app.routes)
        for method in route.methods or ()
    }


def _problem_response(description: str, *codes: str) -> dict[str, Any]:
    example = {
        code: {
            "summary": PROBLEM_TYPES[code].title,
            "value": error_body(code, [_EXAMPLE_MESSAGES.get(code) or problem("request", PROBLEM_TYPES[code].about)]),
        }
        for code in codes
    }
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": ERROR_REF}, "examples": example}}}


def _problem_content(status: int) -> dict[str, Any]:
    """The problem document of a status a route declares itself, with an example of its problem type
    (the first of PROBLEM_TYPES with that status, else one named after the status)."""
    code = next((c for c, t in PROBLEM_TYPES.items() if t.status == status), None)
    if code is not None:
        content: dict[str, Any] = _problem_response("", code)["content"]
        return content
    name = HTTPStatus(status).phrase.lower().replace(" ", "_")
    value = error_body(name, [problem("request", HTTPStatus(status).description)], status)
    return {
        PROBLEM_JSON: {"schema": {"$ref": ERROR_REF}, "examples": {name: {"summary": value["title"], "value": value}}}
    }


def _errors_of(path: str, operation: dict[str, Any], needs: set[Callable[..., Any]]) -> dict[str, dict[str, Any]]:
    """Every error response the operation can send (status -> response)."""
    declared = operation.get("responses", {})
    errors: dict[str, dict[str, Any]] = {}

    def said(status: str, default: str) -> str:
        text: str = declared.get(status, {}).get("description", "")
        return default if not text or text == "Validation Error" else text

    unavailable = ["too_many_connections"]
    if deps.service in needs or "503" in declared:
        unavailable.insert(0, "not_ready")
    if deps.limits in needs:
        unavailable.insert(0, "busy")
    reasons = {
        "busy": "too many heavy requests at once on this server (`busy`, with Retry-After)",
        "not_ready": "the rulebook is still loading (`not_ready`, with Retry-After)",
        "too_many_connections": "the server holds as many connections as it may (`too_many_connections`, "
        "`python -m app.serve`)",
    }
    own = declared.get("503", {}).get("description")
    text = (
        own.rstrip(".") + "; or " + reasons["too_many_connections"] + "."
        if own
        else "Service unavailable: " + "; or ".join(reasons[c] for c in unavailable) + "."
    )
    errors["503"] = _problem_response(text, *unavailable)
    errors["500"] = _problem_response("An unexpected error (`internal_error`).", "internal_error")
    if path.startswith(PROTECTED_PREFIX):
        errors["401"] = _problem_response(
            f"Only when the server has an API key configured (LIVERMETS_API_KEY): the {API_KEY_HEADER} header "
            "is missing or wrong (`unauthorized`).",
            "unauthorized",
        )
    if path.startswith(V1_PREFIX):
        errors["422"] = _problem_response(
            said(
                "422",
                "Invalid request: an unknown field or query parameter, a query parameter given twice, or a "
                "boolean one other than `true` or `false`",
            ),
            "invalid_request",
        )
    if path.startswith(V1_PREFIX) and "requestBody" in operation:
        errors["413"] = _problem_response(said("413", "Body too large (`payload_too_large`)"), "payload_too_large")
        errors["415"] = _problem_response(NOT_UTF8, "unsupported_media_type")
        errors["422"]["description"] = errors["422"]["description"].rstrip(".") + "." + BODY_POLICY
    return errors


def _document_errors(schema: dict[str, Any], needs: dict[tuple[str, str], set[Callable[..., Any]]]) -> None:
    components = schema.setdefault("components", {})
    schemas_ = components.setdefault("schemas", {})
    schemas_.pop("HTTPValidationError", None)
    schemas_.pop("ValidationError", None)
    schemas_["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schemas_["ErrorResponse"].pop("$defs", {}).items():
        schemas_[name] = definition
    for path, method, operation in _operations(schema):
        responses = operation.setdefault("responses", {})
        responses.update(_errors_of(path, operation, needs.get((path, method), set())))
        for status, response in responses.items():
            # An error a route declares itself (a 404, a 409...) is a problem document like the rest.
            if status[0] in "45" and "examples" not in response.get("content", {}).get(PROBLEM_JSON, {}):
                response["content"] = _problem_content(int(status))
        operation["responses"] = dict(sorted(responses.items()))
    # Sent for no operation of the document, but sent all the same: for a path that does not exist,
    # a method a path does not serve, and below the app (app/connections.py).
    components["responses"] = {
        name: _problem_response(text, code)
        for name, text, code in (
            ("NotFound", "No such path (`not_found`).", "not_found"),
            (
                "MethodNotAllowed",
                "The path does not serve this method; the Allow header lists those it does (`method_not_allowed`).",
                "method_not_allowed",
            ),
            (
                "MalformedRequest",
                "An HTTP request that cannot be parsed (`malformed_request`), answered below the app.",
                "malformed_request",
            ),
            (
                "RequestTimeout",
                "The request head did not arrive within LIVERMETS_HEADER_TIMEOUT_S (`request_timeout`).",
                "request_timeout",
            ),
            (
                "CorsRefused",
                "A CORS preflight (OPTIONS) from an origin, or for a method or headers, not allowed "
                "(`cors_refused`; only with LIVERMETS_CORS_ALLOW_ORIGINS set).",
                "cors_refused",
            ),
        )
    }


def _document_api_key(schema: dict[str, Any]) -> None:
    """Always published, as optional: the key is required only when the server is configured with one."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["ApiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": API_KEY_HEADER,
        "description": "Required on /v1/ only when the server has LIVERMETS_API_KEY set; otherwise not needed.",
    }
    for path, _, operation in _operations(schema):
        if path.startswith(PROTECTED_PREFIX):
            operation["security"] = [{}, {"ApiKey": []}]
        elif path.startswith(CDS_PREFIX):
            operation["security"] = [{}, {"ApiKey": []}, {"CdsClientJwt": []}]
            operation.setdefault("responses", {})["401"] = _problem_response(
                "Only when the server guards /cds-services: the CDS client's JWT (LIVERMETS_CDS_JWT_ISSUERS set) or "
                f"else the {API_KEY_HEADER} header (LIVERMETS_API_KEY set) is missing or wrong (`unauthorized`).",
                "unauthorized",
            )


def _document_cds_jwt(schema: dict[str, Any]) -> None:
    """The CDS clients' signed JWT on /cds-services (app/cds_access.py), always published as optional."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["CdsClientJwt"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT signed (ES384 or RS384) by a trusted CDS client, `aud` the URL called (CDS Hooks 2.0); "
        "required only when the server has LIVERMETS_CDS_JWT_ISSUERS set.",
    }
