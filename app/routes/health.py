from fastapi import APIRouter

from app.routes.deps import ServiceDep
from schemas.explanation import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness, with the rulebook in use")
async def healthz(svc: ServiceDep) -> Health:
    return Health(status="ok", rulebook=svc.explainer.stamp)
