"""CDS Hooks 2.0: GET /cds-services (discovery) and POST /cds-services/{id} (the patient-view service). The work
is done in app/cds/; who may call is decided in app/cds_access.py. Malformed requests get 400 (the
specification's code, not the 422 of /v1/*), with the service's usual error body."""

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from app.cds.cards import Urls
from app.cds.chart import BadPrefetch, ChartUnavailable, FhirClient
from app.cds.discovery import SERVICE_ID, discovery
from app.cds.patient_view import patient_view
from app.cds_access import CDS_PREFIX, public_base_url
from app.errors import ErrorResponse, Problem, bounded, error_response, json_body_refusal, problem, with_input
from app.routes.deps import ServiceDep
from app.settings import Settings
from schemas.cds_hooks import CdsRequest, CdsResponse, Discovery

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "cds" / "example_request.json"


def _problems(errors: list[dict[str, Any]]) -> list[Problem]:
    found = []
    for err in errors[:20]:
        field = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        message = f"field {field!r} is required" if err.get("type") == "missing" else str(err.get("msg"))
        if err.get("type") == "json_invalid":
            field, message = "body", f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
        found.append(with_input(problem(field, message, err.get("type")), err.get("input")))
    return bounded(found, found=len(errors))


class CdsRoute(APIRoute):
    """Reads a body by the service's JSON input policy (app/errors.py) and answers what the policy or the
    request model refuses with 400 (415 for a body that is not UTF-8)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if request.method == "POST":
                refused = json_body_refusal(await request.body())
                if refused is not None:
                    status, error, detail = refused
                    return error_response(415 if status == 415 else 400, error, detail)
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_response(400, "invalid_request", _problems(list(exc.errors())))

        return handle


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


def router(settings: Settings) -> APIRouter:
    client = FhirClient(settings.cds_fhir_servers)
    routes = APIRouter(prefix=CDS_PREFIX, tags=["CDS Hooks"], route_class=CdsRoute)

    def urls(request: Request) -> Urls:
        base = public_base_url(request.scope, settings.public_base_url)
        # /v1/about describes the rulebook and its sources; behind an API key the page (open to all) does.
        return Urls(base=base, about=f"{base}/" if settings.api_key else f"{base}/v1/about")

    @routes.get(
        "",
        response_model=Discovery,
        response_model_exclude_none=True,
        summary="CDS Hooks discovery: the patient-view service and its prefetch templates",
    )
    async def discover() -> Discovery:
        return discovery()

    @routes.post(
        "/{service_id}",
        response_model=CdsResponse,
        response_model_exclude_none=True,
        summary="Call the patient-view service: one card with the categories commonly discussed for the chart's case",
        description=(
            "CDS Hooks 2.0. The case is read from `prefetch` (each key a FHIR resource, a searchset Bundle or null); "
            "a key left out is fetched from `fhirServer` with `fhirAuthorization`, when given. No liver metastases "
            'on the chart: `{"cards": []}`. A required input not found: one card naming it and the codes looked for.'
        ),
        responses={
            400: _error("Malformed request: not JSON, a missing or invalid field, or prefetch data that is not FHIR"),
            404: _error("No CDS service with this id"),
            412: _error(
                "Needed prefetch data is missing and cannot be fetched (no fhirServer with "
                "fhirAuthorization, or the fetch failed)"
            ),
            413: {"description": "Body too large"},
            415: _error("The body is not UTF-8"),
        },
    )
    async def call(
        service_id: str,
        hook_call: Annotated[
            CdsRequest,
            Body(
                openapi_examples={
                    "colorectal_prefetch": {
                        "summary": "Colorectal primary, two liver lesions (largest 25 mm), ECOG 1, all data prefetched",
                        "value": json.loads(EXAMPLE_FILE.read_text(encoding="utf-8")),
                    }
                }
            ),
        ],
        request: Request,
        response: Response,
        svc: ServiceDep,
    ) -> CdsResponse | Response:
        if service_id != SERVICE_ID:
            return error_response(
                404, "not_found", [problem("service_id", f"no CDS service {service_id!r}; GET {CDS_PREFIX} lists them")]
            )
        # Cards describe a patient: no shared cache may keep them.
        response.headers["Cache-Control"] = "no-store"
        try:
            return await patient_view(hook_call, svc, client, urls(request))
        except BadPrefetch as bad:
            return error_response(400, "invalid_request", bounded(bad.problems))
        except ChartUnavailable as unavailable:
            return error_response(412, "precondition_failed", unavailable.problems, {"Cache-Control": "no-store"})

    return routes
