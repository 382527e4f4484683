from fastapi import Request

from app.core.service import ExplainerService


def service(request: Request) -> ExplainerService:
    svc: ExplainerService = request.app.state.service
    return svc
