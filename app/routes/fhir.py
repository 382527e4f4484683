"""POST /v1/fhir/explain: a FHIR R4 Bundle (mCODE STU4) in, the usual explanation of the case it describes
out, with where each input came from. The mapping is app/fhir/ (no web framework); this only translates
its answers and errors into HTTP."""

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from app.core.service import ExplainerService
from app.errors import ErrorResponse, error_response, problem
from app.fhir.mapping import FhirInputError, Mapped, map_resources, resources_from_bundle
from app.routes.deps import LimitsDep, ServiceDep
from schemas.explanation import Explanation
from schemas.fhir import FhirExplanation

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "fhir" / "example_bundle.json"

router = APIRouter(
    prefix="/v1/fhir",
    tags=["fhir"],
    responses={
        413: {"description": "Body too large"},
        422: {
            "model": ErrorResponse,
            "description": "A malformed Bundle or resource (each problem names the resource, `Type/id` or "
            "`entry[i]`, and the element); a Bundle without a required input (`errors` entries of kind "
            "`missing_input`: primary site, liver metastases, lesion count, largest size or ECOG, each with the "
            "codes looked for); or a Bundle without liver metastases (kind `no_liver_metastases`).",
        },
        503: {
            "model": ErrorResponse,
            "description": "Too many Bundles being read at once on this server (`busy`, with Retry-After); or "
            "the rulebook is still loading (`not_ready`).",
        },
    },
)

EXAMPLES: dict[str, dict[str, Any]] = {
    "mcode_colorectal": {
        "summary": "mCODE colorectal: two liver lesions (largest 25 mm), ECOG 1 as an LA code, KRAS wild type",
        "value": json.loads(EXAMPLE_FILE.read_text(encoding="utf-8")),
    }
}


def _unexplainable(mapped: Mapped) -> Response:
    items = []
    if not mapped.liver_metastases:
        looked = next(m.looked_for for m in mapped.missing if m.field == "liver_metastases")
        message = (
            f"no liver metastases in the Bundle (looked for {looked}): this service explains liver metastases only"
        )
        items.append(problem("liver_metastases", message, "no_liver_metastases"))
    items += [
        problem(m.field, f"not found: looked for {m.looked_for}", "missing_input")
        for m in mapped.missing
        if m.field != "liver_metastases"
    ]
    return error_response(422, "invalid_request", items)


@router.post(
    "/explain",
    response_model=FhirExplanation,
    summary="Explain the case a FHIR R4 Bundle (mCODE) describes, with where each input came from",
)
async def fhir_explain(
    bundle: Annotated[
        dict[str, Any],
        Body(
            description="A FHIR R4 Bundle of type collection or searchset holding the patient's Conditions and "
            "Observations (mCODE STU4 profiles; README, EHR integration, lists the codes read).",
            openapi_examples=EXAMPLES,
        ),
    ],
    svc: ServiceDep,
    limits: LimitsDep,
) -> Response:
    # Validating a large Bundle takes a while (about 0.5 ms a resource): in a worker thread, a bounded
    # number at once (app/limits.py), so the event loop keeps answering other requests.
    return await limits.fhir.run(_answer, bundle, svc)


def _answer(bundle: dict[str, Any], svc: ExplainerService) -> Response:
    try:
        mapped = map_resources(resources_from_bundle(bundle))
    except FhirInputError as err:
        return error_response(422, "invalid_request", [problem(p.field, p.message, p.type) for p in err.problems])
    if mapped.case is None:
        return _unexplainable(mapped)
    explanation = svc.explain(mapped.case)
    answer = FhirExplanation.model_construct(
        **{name: getattr(explanation, name) for name in Explanation.model_fields}, mapped_from=mapped.mapped_from
    )
    return Response(content=answer.__pydantic_serializer__.to_json(answer), media_type="application/json")
