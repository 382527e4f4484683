"""The error body every 4xx/503 of this service has, declared once and put in the OpenAPI
document wherever an operation lists such a status without a schema. The handlers in
app/errors.py are app-wide, so the published document can say what they send everywhere, and
the schemathesis fuzz test then checks error bodies as strictly as successful ones."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

ERROR_STATUSES = ("401", "413", "422", "503")
ERROR_REF = "#/components/schemas/ErrorResponse"


class Problem(BaseModel):
    field: str = Field(description="The field at fault, dotted for nested fields (`body` for the whole body).")
    message: str = Field(description="What is wrong and what is allowed.")
    type: str | None = Field(default=None, description="Machine-readable kind of error (pydantic's error type).")
    input: Any = Field(default=None, description="The offending value, when short and scalar.")


class ErrorResponse(BaseModel):
    error: str = Field(description="invalid_request, payload_too_large, unauthorized or not_ready.")
    detail: list[Problem]


def _ref(response: dict[str, Any]) -> str:
    ref: str = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref


def document_errors(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.setdefault(
                "ErrorResponse", ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            defs = schemas["ErrorResponse"].pop("$defs", {})
            for name, definition in defs.items():
                schemas.setdefault(name, definition)
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    if path.startswith("/v1/"):  # unknown query parameters (app/strict_query.py)
                        operation.setdefault("responses", {}).setdefault(
                            "422", {"description": "Invalid request: an unknown field or query parameter"}
                        )
                    for status, response in operation.get("responses", {}).items():
                        # FastAPI's default 422 schema (HTTPValidationError) is not what app/errors.py sends.
                        if status in ERROR_STATUSES and (
                            "content" not in response or _ref(response).endswith("/HTTPValidationError")
                        ):
                            response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
