from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from app.errors import ErrorResponse
from app.routes.deps import LimitsDep, ServiceDep
from schemas.case import Case
from schemas.explanation import CompareRequest, Comparison, Explanation

_explanation_json = Explanation.__pydantic_serializer__.to_json

# Both operations take a case body: the same two error answers (their body is documented in app/openapi.py).
router = APIRouter(
    prefix="/v1",
    tags=["explain"],
    responses={413: {"description": "Body too large"}, 422: {"description": "Invalid case"}},
)

# The handlers are `async def` although the work is CPU-bound: the engine never releases the GIL,
# so a thread-pool hand-off would add cost and no concurrency (about +40% requests/s measured).

EXAMPLES: dict[str, dict[str, Any]] = {
    "colorectal_liver_only": {
        "summary": "Colorectal primary, two small liver metastases, nothing outside the liver",
        "value": {
            "primary_site": "colorectal",
            "lesion_count": 2,
            "largest_lesion_cm": 2.5,
            "extrahepatic_disease": "none",
            "liver_function": "normal",
            "performance_status": 0,
            "symptomatic": False,
            "kras_status": "wild_type",
        },
    },
    "colorectal_extensive": {
        "summary": "Colorectal primary with extensive disease outside the liver",
        "value": {
            "primary_site": "colorectal",
            "lesion_count": 6,
            "largest_lesion_cm": 4.0,
            "extrahepatic_disease": "extensive",
            "liver_function": "normal",
            "performance_status": 1,
            "symptomatic": True,
        },
    },
    "breast_unfit": {
        "summary": "Breast primary, unfit for an operation, receptor status unknown",
        "value": {
            "primary_site": "breast",
            "lesion_count": 2,
            "largest_lesion_cm": 1.8,
            "extrahepatic_disease": "limited",
            "liver_function": "impaired",
            "performance_status": 3,
        },
    },
}


@router.post(
    "/explain",
    response_model=Explanation,
    summary="Explain which treatment categories the sources describe as commonly discussed",
    responses={
        503: {
            "model": ErrorResponse,
            "description": "With `what_if=true`: too many what-if answers being computed at once on this "
            "server (`busy`, with Retry-After); or the rulebook is still loading (`not_ready`).",
        }
    },
)
async def explain(
    case: Annotated[Case, Body(openapi_examples=EXAMPLES)],
    svc: ServiceDep,
    limits: LimitsDep,
    what_if: Annotated[
        bool,
        Query(
            description="Also compute `what_if`: single-input changes that move a category (about 60 re-evaluations). "
            "Exactly `true` or `false` (lower case), given once; anything else is a 422."
        ),
    ] = False,
) -> Explanation | Response:
    if what_if:
        # Tens of evaluations: in a worker thread, a bounded number at once (app/limits.py), so the
        # event loop keeps answering other requests. Serialised by the model itself: FastAPI would
        # validate the whole answer again first.
        explanation = await limits.what_if.run(svc.explain, case, True)
        return Response(content=_explanation_json(explanation), media_type="application/json")
    # The same bytes the response model would serialise to (tests/test_answer_json.py), written from
    # fragments: several times faster than building and serialising the model.
    return Response(content=svc.explain_json(case), media_type="application/json")


COMPARE_EXAMPLES: dict[str, dict[str, Any]] = {
    "extrahepatic_disease": {
        "summary": "The same colorectal case without and with extensive disease outside the liver",
        "value": {
            "a": EXAMPLES["colorectal_liver_only"]["value"],
            "b": {**EXAMPLES["colorectal_liver_only"]["value"], "extrahepatic_disease": "extensive"},
        },
    }
}


@router.post(
    "/compare", response_model=Comparison, summary="Compare two cases: the categories that change list, and why"
)
async def compare(
    pair: Annotated[CompareRequest, Body(openapi_examples=COMPARE_EXAMPLES)], svc: ServiceDep
) -> Comparison:
    return svc.compare(pair.a, pair.b)
