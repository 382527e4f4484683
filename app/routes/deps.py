from fastapi import Request

from app.core.service import ExplainerService
from app.errors import ServiceNotReady


def service(request: Request) -> ExplainerService:
    # Before the lifespan has loaded the rulebook there is no service: answer 503, not a 500.
    svc: ExplainerService | None = getattr(request.app.state, "service", None)
    if svc is None:
        raise ServiceNotReady
    return svc
