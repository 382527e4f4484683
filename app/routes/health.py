from typing import Annotated

from fastapi import APIRouter, Depends

from app.core.service import ExplainerService
from app.routes.deps import service
from schemas.explanation import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness, with the rulebook in use")
async def healthz(svc: Annotated[ExplainerService, Depends(service)]) -> Health:
    return Health(status="ok", rulebook=svc.explainer.stamp)
