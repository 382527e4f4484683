from typing import Annotated

from fastapi import Depends, Request

from app.core.service import ExplainerService
from app.errors import ServiceNotReady
from app.limits import Limits


async def service(request: Request) -> ExplainerService:
    # async on purpose: FastAPI runs a plain `def` dependency in its thread pool, and that extra
    # hand-off cost more than the whole /healthz answer (measured with wrk; see README Performance).
    # Before the lifespan has loaded the rulebook there is no service: answer 503, not a 500.
    svc: ExplainerService | None = getattr(request.app.state, "service", None)
    if svc is None:
        raise ServiceNotReady
    return svc


# What every route that needs the service declares: `svc: ServiceDep`.
ServiceDep = Annotated[ExplainerService, Depends(service)]


async def limits(request: Request) -> Limits:
    """The app's heavy-work limiters (app/limits.py)."""
    found: Limits = request.app.state.limits
    return found


LimitsDep = Annotated[Limits, Depends(limits)]
