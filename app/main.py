"""The FastAPI application. `create_app(settings)` builds it; the rulebook is loaded and
compiled in the lifespan, never at import, so a bad rulebook stops start-up with its message."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from app.body_policy import BodySizeLimit, JsonBodyPolicy
from app.cds.discovery import SERVICE_ID as CDS_SERVICE_ID
from app.compression import GzipAnswers
from app.errors import (
    ProblemError,
    ServiceNotReady,
    http_error,
    internal_error,
    not_ready,
    problem_error,
    validation_error,
)
from app.exercises.service import load_exercises
from app.head import HeadAsGet
from app.limits import Busy, Limits, busy
from app.metrics import Metrics, RequestMetrics
from app.observability import RequestContext, configure_logging
from app.openapi import customise_openapi
from app.openapi_naming import operation_id
from app.routes import (
    batch,
    catalogue,
    cds,
    docs,
    exercise_page,
    exercises,
    explain,
    fhir,
    health,
    page,
    problems,
    ready,
)
from app.routes import metrics as metrics_route
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
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        app.state.service = metrics.observed(build_service(settings))  # engine evaluations counted
        app.state.exercises = load_exercises(app.state.service, settings.exercises_dir, settings.quote_documents())
        yield

    # The whole middleware stack, outermost first. RequestContext is outermost, so every response
    # (401, 413, CORS preflight) carries the request id and the security headers and is logged;
    # CORS answers preflights before the API-key check; the body limit and then the JSON body policy
    # (UTF-8, no repeated keys, bounded nesting: app/body_policy.py) are innermost.
    middleware = [
        Middleware(RequestContext),
        Middleware(RequestMetrics, metrics=metrics),  # GET /metrics (app/metrics.py): every answer counted
        Middleware(SecurityHeaders),
        *security_middleware(settings),  # CORS, then the API key (each only when configured)
        Middleware(HeadAsGet),  # HEAD wherever GET is served; the layers above see the HEAD
        # Inside HeadAsGet, so a HEAD gets the headers of its GET's gzip answer.
        *([Middleware(GzipAnswers)] if settings.gzip else []),
        Middleware(RejectUnknownQuery),
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            path_limits={
                "/v1/explain/batch": settings.max_batch_body_bytes,
                f"/cds-services/{CDS_SERVICE_ID}": settings.cds_max_body_bytes,  # a chart's FHIR data
                "/v1/fhir/explain": settings.cds_max_body_bytes,  # a FHIR Bundle: the same chart data
            },
        ),
        Middleware(JsonBodyPolicy),
    ]
    app = FastAPI(
        title="livermets-explainer",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        middleware=middleware,
        # /docs and /redoc are served from the app's own files (app/routes/docs.py), not a CDN.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        generate_unique_id_function=operation_id,  # short, stable operation ids (app/openapi_naming.py)
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.limits = Limits(settings.max_concurrent_what_if, settings.max_concurrent_batches)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ServiceNotReady, not_ready)
    app.add_exception_handler(ProblemError, problem_error)  # a route's own refusal (app/errors.py)
    app.add_exception_handler(Busy, busy)
    app.add_exception_handler(StarletteHTTPException, http_error)  # 404, 405 and the rest
    app.add_exception_handler(Exception, internal_error)  # 500, as a problem document too
    customise_openapi(app, settings)
    for module in (explain, catalogue, exercises, health, page, problems, docs, metrics_route):
        app.include_router(module.router)
    app.include_router(batch.router(settings))
    app.include_router(ready.router)
    app.include_router(fhir.router)  # FHIR (mCODE) Bundle in (README "EHR integration")
    app.include_router(cds.router(settings))  # CDS Hooks 2.0 (README "EHR integration")
    app.include_router(exercise_page.router)  # the exercise page at /exercises (issue 15)
    return app


app = create_app()
