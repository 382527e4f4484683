"""Every change this service makes to its generated OpenAPI document, in one place, applied once
by `customise_openapi` (called from create_app). The document then says what the app-wide parts
send, which FastAPI cannot see from the routes alone:

- the `ErrorResponse` body (app/errors.py) wherever an operation lists a 401/413/422/503 without a
  schema, instead of FastAPI's own 422 schema, which is not what the handlers send;
- a 422 on every /v1/ operation, for unknown query parameters (app/strict_query.py);
- on every /v1/ operation that takes a JSON body, the input policy app/errors.py reads it by
  (`JsonBodyPolicy`): a 415 for a body that is not UTF-8, and what else its 422 covers;
- the API key (app/security.py), when one is configured, so /docs offers an Authorize button; the CDS
  clients' JWT on /cds-services when LIVERMETS_CDS_JWT_ISSUERS is set (app/cds_access.py).

The schemathesis fuzz test then checks error bodies as strictly as successful ones."""

from typing import Any

from fastapi import FastAPI

from app.cds_access import CDS_PREFIX
from app.errors import MAX_JSON_DEPTH, V1_PREFIX, ErrorResponse
from app.security import API_KEY_HEADER, PROTECTED_PREFIX
from app.settings import Settings
from app.strict_query import PREFIX as STRICT_QUERY_PREFIX

ERROR_STATUSES = ("401", "413", "415", "422", "503")
PREFIXES_WITH_CDS = (PROTECTED_PREFIX, CDS_PREFIX)
ERROR_REF = "#/components/schemas/ErrorResponse"
NOT_UTF8 = (
    "The body is not UTF-8 (`unsupported_media_type`): a Content-Type charset other than utf-8, or "
    "UTF-16 or UTF-32 text."
)
BODY_POLICY = (
    " Also a body that breaks the input policy: a key repeated in one JSON object (`duplicate_key`), nesting "
    f"deeper than {MAX_JSON_DEPTH} levels (`json_too_deep`), invalid UTF-8 or not JSON (`json_invalid`)."
)


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": ERROR_REF}}}


def customise_openapi(app: FastAPI, settings: Settings) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _document_errors(schema)
            if settings.api_key:
                # /cds-services takes the API key too, unless CDS clients' JWTs guard it (app/security.py).
                _document_api_key(schema, (PROTECTED_PREFIX,) if settings.cds_jwt_issuers else PREFIXES_WITH_CDS)
            if settings.cds_jwt_issuers:
                _document_cds_jwt(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, op) for path, operations in schema.get("paths", {}).items() for op in operations.values()]


def _ref(response: dict[str, Any]) -> str:
    ref: str = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref


def _document_errors(schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorResponse", ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}"))
    for name, definition in schemas["ErrorResponse"].pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    for path, operation in _operations(schema):
        if path.startswith(STRICT_QUERY_PREFIX):
            operation.setdefault("responses", {}).setdefault(
                "422",
                {
                    "description": "Invalid request: an unknown field or query parameter, a query parameter "
                    "given twice, or a boolean one other than `true` or `false`"
                },
            )
        if path.startswith(V1_PREFIX) and "requestBody" in operation:
            responses = operation["responses"]
            responses["415"] = {"description": NOT_UTF8}
            responses["422"]["description"] = responses["422"].get("description", "").rstrip(".") + "." + BODY_POLICY
        for status, response in operation.get("responses", {}).items():
            # FastAPI's default 422 schema (HTTPValidationError) is not what app/errors.py sends.
            if status in ERROR_STATUSES and (
                "content" not in response or _ref(response).endswith("/HTTPValidationError")
            ):
                response["content"] = _error_content()


def _document_api_key(schema: dict[str, Any], prefixes: tuple[str, ...]) -> None:
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["ApiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": API_KEY_HEADER,
    }
    for path, operation in _operations(schema):
        if path.startswith(prefixes):
            operation["security"] = [{"ApiKey": []}]
            operation.setdefault("responses", {})["401"] = {
                "description": f"Missing or wrong {API_KEY_HEADER}",
                "content": _error_content(),
            }


def _document_cds_jwt(schema: dict[str, Any]) -> None:
    """The CDS clients' signed JWT on /cds-services (app/cds_access.py)."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["CdsClientJwt"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT signed (ES384 or RS384) by a trusted CDS client, `aud` the URL called (CDS Hooks 2.0).",
    }
    for path, operation in _operations(schema):
        if path.startswith(CDS_PREFIX):
            operation["security"] = [{"CdsClientJwt": []}]
            operation.setdefault("responses", {})["401"] = {
                "description": "Missing or invalid CDS client JWT",
                "content": _error_content(),
            }
