"""CDS Hooks 2.0: GET /cds-services (discovery) and POST /cds-services/{id} (the patient-view service). The work
is done in app/cds/; who may call is decided in app/cds_access.py. Malformed requests get 400 (the
specification's code, not the 422 of /v1/*: `invalid_hook_call`), as the service's usual problem document."""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from app.body_policy import json_body_refusal
from app.cds.cards import Urls
from app.cds.chart import BadPrefetch, ChartUnavailable, FhirClient, Issue
from app.cds.discovery import BY_KEY, SERVICE_ID, discovery
from app.cds.patient_view import patient_view
from app.cds_access import CDS_PREFIX, public_base_url
from app.errors import PROBLEM_JSON, Problem, bounded, error_body, error_response, problem, with_input
from app.routes.deps import ServiceDep
from app.settings import Settings
from schemas.cds_hooks import CdsRequest, CdsResponse, Discovery

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "cds" / "example_request.json"
# A malformed call is 400 in CDS Hooks: its own problem type, not /v1's 422 `invalid_request`.
INVALID = "invalid_hook_call"


def _problems(errors: Sequence[Mapping[str, Any]]) -> list[Problem]:
    found = []
    for err in errors[:20]:
        field = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        message = f"field {field!r} is required" if err.get("type") == "missing" else str(err.get("msg"))
        if err.get("type") == "json_invalid":
            field, message = "body", f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
        found.append(with_input(problem(field, message, err.get("type")), err.get("input")))
    return bounded(found, found=len(errors))


def _answered(issues: Sequence[Issue]) -> list[Problem]:
    return [problem(i.field, i.message, i.kind) for i in issues]


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its $defs written in place, for the OpenAPI document (the body is read by
    the handler, not by FastAPI, so FastAPI registers no component for it)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    inlined: dict[str, Any] = walk(schema)
    return inlined


REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _inlined(CdsRequest.model_json_schema()),
            "examples": {
                "colorectal_prefetch": {
                    "summary": "Colorectal primary, two liver lesions (largest 25 mm), ECOG 1, all data prefetched",
                    "value": json.loads(EXAMPLE_FILE.read_text(encoding="utf-8")),
                }
            },
        }
    },
}


def read_hook_call(body: bytes) -> CdsRequest | Response:
    """The request, or the error answer: the JSON input policy of app/errors.py and the request model, with
    400 (the specification's code for a malformed request; 415 for a body that is not UTF-8)."""
    refused = json_body_refusal(body)
    if refused is not None:
        status, error, detail = refused
        return error_response(415, error, detail) if status == 415 else error_response(400, INVALID, detail)
    try:
        return CdsRequest.model_validate_json(body)
    except ValidationError as exc:
        return error_response(400, INVALID, _problems(exc.errors()))


def _error(description: str, code: str, example: Problem) -> dict[str, Any]:
    """A declared error response: the problem document, with an example of `code` (the OpenAPI document
    would otherwise show the first problem type of the status, /v1's)."""
    value = error_body(code, [example])
    return {
        "description": description,
        "content": {
            PROBLEM_JSON: {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                "examples": {code: {"summary": value["title"], "value": value}},
            }
        },
    }


def router(settings: Settings) -> APIRouter:
    client = FhirClient(settings.cds_fhir_servers)
    routes = APIRouter(prefix=CDS_PREFIX, tags=["CDS Hooks"])

    def urls(request: Request) -> Urls:
        base = public_base_url(request.scope, settings.public_base_url)
        # /v1/about describes the rulebook and its sources; behind an API key the page (open to all) does.
        return Urls(base=base, about=f"{base}/" if settings.api_key else f"{base}/v1/about")

    @routes.get(
        "",
        response_model=Discovery,
        response_model_exclude_none=True,
        summary="CDS Hooks discovery: the patient-view service and its prefetch templates",
        responses={200: {"content": {"application/json": {"example": discovery().model_dump(exclude_none=True)}}}},
    )
    async def discover() -> Discovery:
        return discovery()

    @routes.post(
        f"/{SERVICE_ID}",
        response_model=CdsResponse,
        response_model_exclude_none=True,
        summary="Call the patient-view service: one card with the categories commonly discussed for the chart's case",
        description=(
            "CDS Hooks 2.0. The case is read from `prefetch` (each key a FHIR resource, a searchset Bundle or null); "
            "a key left out is fetched from `fhirServer` with `fhirAuthorization`, when given. No liver metastases "
            'on the chart: `{"cards": []}`. A required input not found: one card naming it and the codes looked for.'
        ),
        responses={
            400: _error(
                "Malformed request (`invalid_hook_call`): not JSON, a missing or invalid field, or prefetch data "
                "that is not FHIR",
                INVALID,
                problem("hook", "Input should be 'patient-view'", "literal_error"),
            ),
            412: _error(
                "Needed prefetch data is missing and cannot be fetched (`precondition_failed`: no fhirServer with "
                "fhirAuthorization, or the fetch failed)",
                "precondition_failed",
                problem(
                    "prefetch.conditions",
                    f"{BY_KEY['conditions'].about} not prefetched, and no fhirServer with fhirAuthorization was given "
                    "to fetch it",
                ),
            ),
            413: {"description": "Body too large (`payload_too_large`)"},
            415: {"description": "The body is not UTF-8 (`unsupported_media_type`)"},
        },
        openapi_extra={"requestBody": REQUEST_BODY},
    )
    async def call(request: Request, response: Response, svc: ServiceDep) -> CdsResponse | Response:
        hook_call = read_hook_call(await request.body())
        if isinstance(hook_call, Response):
            return hook_call
        # Cards describe a patient: no shared cache may keep them.
        response.headers["Cache-Control"] = "no-store"
        try:
            return await patient_view(hook_call, svc, client, urls(request))
        except BadPrefetch as bad:
            return error_response(400, INVALID, bounded(_answered(bad.problems)))
        except ChartUnavailable as unavailable:
            return error_response(412, "precondition_failed", _answered(unavailable.problems))

    # Declared after the service, so only other ids reach it; out of the document (it has nothing to offer).
    @routes.post("/{service_id}", include_in_schema=False)
    async def unknown_service(service_id: str) -> Response:
        why = f"no CDS service {service_id!r}; GET {CDS_PREFIX} lists the services"
        return error_response(404, "not_found", [problem("service_id", why)])

    return routes
