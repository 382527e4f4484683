"""Security headers on every response, optional API-key protection of /v1/*, and CORS by
allow-list (off unless origins are configured). All pure ASGI, so they cost microseconds."""

import hmac

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cds_access import CDS_PREFIX, OutsideCds, cds_cors, cds_jwt
from app.errors import error_response, problem
from app.metrics import METRICS_PATH
from app.settings import Settings

API_KEY_HEADER = "X-API-Key"
PROTECTED_PREFIX = "/v1/"

# API responses are JSON and never framed or scripted. The page (app/routes/page.py) and the docs
# pages (app/routes/docs.py) set their own policies, which are kept.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds the headers to every HTTP response. A Content-Security-Policy (or Cache-Control) that
    a route already set is kept: the browser page at `/` sets its own policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Explanations describe a patient's case: no shared cache may keep them.
        no_store = path.startswith(PROTECTED_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in ALWAYS if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_CSP))
                if no_store and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ProblemCORS(CORSMiddleware):
    """Starlette's CORS, its refused preflight (a text/plain 400) answered as a problem document."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")  # "origin, method, headers"
        message = f"this CORS preflight is not allowed ({refused}); see LIVERMETS_CORS_ALLOW_ORIGINS"
        headers = {k: v for k, v in response.headers.items() if k not in {"content-length", "content-type"}}
        return error_response(400, "cors_refused", [problem("header.origin", message)], headers=headers)


class ApiKeyRequired:
    """When an API key is configured, /v1/* and /metrics (what the service has been asked, how often)
    answer 401 without it. Health, readiness, docs, the OpenAPI document and the browser page stay open."""

    def __init__(self, app: ASGIApp, api_key: str, prefixes: tuple[str, ...] = (PROTECTED_PREFIX,)) -> None:
        self.app = app
        self.expected = api_key.encode()
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-api-key"), b"")
        # Constant-time comparison: response timing must not reveal how much of a guess matched.
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        missing = problem(API_KEY_HEADER, f"a valid API key is required in the {API_KEY_HEADER} header")
        await error_response(401, "unauthorized", [missing])(scope, receive, send)


def security_middleware(settings: Settings) -> list[Middleware]:
    """CORS and API-key protection as configured, outermost first, for create_app's stack (which
    puts RequestContext and SecurityHeaders outside them, so 401s and preflights get those too)."""
    stack: list[Middleware] = [*cds_cors(settings)]  # /cds-services has its own CORS (app/cds_access.py)
    if settings.cors_allow_origins:
        # Outside the API-key check: browsers send preflight requests without custom headers.
        stack.append(
            Middleware(
                OutsideCds,
                middleware=ProblemCORS,
                allow_origins=list(settings.cors_allow_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", API_KEY_HEADER, "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            )
        )
    stack.extend(cds_jwt(settings))
    if settings.api_key:
        # /cds-services takes the API key too, unless it is protected by the CDS clients' JWTs.
        prefixes = (
            (PROTECTED_PREFIX, METRICS_PATH)
            if settings.cds_jwt_issuers
            else (PROTECTED_PREFIX, METRICS_PATH, CDS_PREFIX)
        )
        stack.append(Middleware(ApiKeyRequired, api_key=settings.api_key, prefixes=prefixes))
    return stack
