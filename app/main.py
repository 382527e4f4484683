"""The FastAPI application. `create_app(settings)` builds it; the rulebook is loaded and
compiled in the lifespan, never at import, so a bad rulebook stops start-up with its message."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from app.body_policy import BodySizeLimit, JsonBodyPolicy
from app.errors import (
    ProblemError,
    ServiceNotReady,
    http_error,
    internal_error,
    not_ready,
    problem_error,
    validation_error,
)
from app.head import HeadAsGet
from app.limits import Busy, Limits, busy
from app.observability import RequestContext, configure_logging
from app.openapi import customise_openapi
from app.openapi_naming import operation_id
from app.routes import batch, catalogue, explain, health, page, problems, ready
from app.security import SecurityHeaders, security_middleware
from app.settings import Settings
from app.startup import build_service
from app.strict_query import RejectUnknownQuery

DESCRIPTION = """
Educational decision aid for liver metastases (secondary liver cancer): for a case description,
which treatment categories five public source documents describe as **commonly discussed**, why,
and why the others are **not typically discussed**, each statement with a verbatim citation.

It is not medical advice and decides nothing: every case belongs in a multidisciplinary team
(MDT) meeting.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        app.state.service = build_service(settings)
        yield

    # The whole middleware stack, outermost first. RequestContext is outermost, so every response
    # (401, 413, CORS preflight) carries the request id and the security headers and is logged;
    # CORS answers preflights before the API-key check; the body limit and then the JSON body policy
    # (UTF-8, no repeated keys, bounded nesting: app/body_policy.py) are innermost.
    middleware = [
        Middleware(RequestContext),
        Middleware(SecurityHeaders),
        *security_middleware(settings),  # CORS, then the API key (each only when configured)
        Middleware(HeadAsGet),  # HEAD wherever GET is served; the layers above see the HEAD
        Middleware(RejectUnknownQuery),
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            path_limits={"/v1/explain/batch": settings.max_batch_body_bytes},
        ),
        Middleware(JsonBodyPolicy),
    ]
    app = FastAPI(
        title="livermets-explainer",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        middleware=middleware,
        generate_unique_id_function=operation_id,  # short, stable operation ids (app/openapi_naming.py)
    )
    app.state.settings = settings
    app.state.limits = Limits(settings.max_concurrent_what_if, settings.max_concurrent_batches)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ServiceNotReady, not_ready)
    app.add_exception_handler(ProblemError, problem_error)  # a route's own refusal (app/errors.py)
    app.add_exception_handler(Busy, busy)
    app.add_exception_handler(StarletteHTTPException, http_error)  # 404, 405 and the rest
    app.add_exception_handler(Exception, internal_error)  # 500, as a problem document too
    customise_openapi(app, settings)
    for module in (explain, catalogue, health, page, problems):
        app.include_router(module.router)
    app.include_router(batch.router(settings))
    app.include_router(ready.router)
    return app


app = create_app()
