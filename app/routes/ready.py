"""Readiness: 503 until the lifespan has loaded and checked the rulebook, 200 after. Load
balancers and orchestrators send traffic to an instance only once it answers 200 here."""

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from app.errors import ErrorResponse, error_body, not_ready, rulebook_loading
from schemas.explanation import RulebookStamp

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ready"]
    rulebook: RulebookStamp


NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorResponse,
        "description": "The rulebook is not loaded yet",
        "content": {
            "application/json": {
                "example": error_body("not_ready", [rulebook_loading()]),
            }
        },
    }
}


@router.get(
    "/readyz", response_model=Readiness, responses=NOT_READY, summary="Readiness: 200 once the rulebook is loaded"
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    svc = getattr(request.app.state, "service", None)
    if svc is None:
        return await not_ready(request, RuntimeError("not ready"))
    return Readiness(status="ready", rulebook=svc.explainer.stamp)
