"""Security headers on every response, optional API-key protection of /v1/*, and CORS by
allow-list (off unless origins are configured). All pure ASGI, so they cost microseconds."""

import hmac

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response, problem
from app.settings import Settings

API_KEY_HEADER = "X-API-Key"
PROTECTED_PREFIX = "/v1/"

# API responses are JSON and never framed or scripted. The docs pages load Swagger UI and
# ReDoc from their CDN, so they get a policy that allows exactly that.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    b"https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
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
        csp = DOCS_CSP if path in DOCS_PATHS else API_CSP
        # Explanations describe a patient's case: no shared cache may keep them.
        no_store = path.startswith(PROTECTED_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in ALWAYS if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
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
    """When an API key is configured, /v1/* answers 401 without it. Health, readiness, docs,
    the OpenAPI document and the browser page stay open."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
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
    stack: list[Middleware] = []
    if settings.cors_allow_origins:
        # Outside the API-key check: browsers send preflight requests without custom headers.
        stack.append(
            Middleware(
                ProblemCORS,
                allow_origins=list(settings.cors_allow_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", API_KEY_HEADER, "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            )
        )
    if settings.api_key:
        stack.append(Middleware(ApiKeyRequired, api_key=settings.api_key))
    return stack
