"""Who may call /cds-services, and from which browser origins (README "EHR integration").

- CORS on /cds-services only, on by default for any origin (CDS clients are often browser apps), allowing the
  Authorization and Content-Type headers; LIVERMETS_CDS_CORS_ALLOW_ORIGINS narrows it. The app-wide CORS of
  app/security.py (LIVERMETS_CORS_ALLOW_ORIGINS) is kept off these paths (`OutsideCds`), so each path has one.
- With LIVERMETS_CDS_JWT_ISSUERS set, every call but a CORS preflight needs a JWT signed by one of those
  issuers (app/cds/jwt_auth.py), its `aud` the URL called. Otherwise /cds-services follows the API-key
  setting of /v1/* (app/security.py's ApiKeyRequired is given both prefixes)."""

from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cds.jwt_auth import JwtVerifier, TokenRefused
from app.errors import error_response, problem
from app.settings import Settings

CDS_PREFIX = "/cds-services"


def is_cds_path(path: str) -> bool:
    return path == CDS_PREFIX or path.startswith(CDS_PREFIX + "/")


def public_base_url(scope: Scope, configured: str | None) -> str:
    """The base URL clients reach the service at: the configured one, else the request's own."""
    return configured or str(Request(scope).base_url).rstrip("/")


class OnlyOnCds:
    """Runs `middleware` for /cds-services paths, and passes every other path straight to the app."""

    def __init__(self, app: ASGIApp, /, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        self.app = app
        self.wrapped: ASGIApp = middleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_cds_path(scope["path"]):
            await self.wrapped(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class OutsideCds(OnlyOnCds):
    """Runs `middleware` for every path but /cds-services ones."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_cds_path(scope["path"]):
            await self.app(scope, receive, send)
        else:
            await self.wrapped(scope, receive, send)


class CdsJwtRequired:
    """401 for a /cds-services call without a valid client JWT (preflights pass: browsers send no token)."""

    def __init__(self, app: ASGIApp, verifier: JwtVerifier, base_url: str | None) -> None:
        self.app = app
        self.verifier = verifier
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_cds_path(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        authorization = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), b"")
        audience = public_base_url(scope, self.base_url) + scope["path"]
        try:
            await self.verifier.verify(authorization.decode("latin-1") or None, audience)
        except TokenRefused as refused:
            why = problem("header.authorization", str(refused), "invalid_token")
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            await error_response(401, "unauthorized", [why], headers=challenge)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def cds_cors(settings: Settings) -> list[Middleware]:
    if not settings.cds_cors_allow_origins:
        return []
    return [
        Middleware(
            OnlyOnCds,
            middleware=CORSMiddleware,
            allow_origins=list(settings.cds_cors_allow_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    ]


def cds_jwt(settings: Settings) -> list[Middleware]:
    if not settings.cds_jwt_issuers:
        return []
    verifier = JwtVerifier(settings.cds_jwt_issuers)
    return [Middleware(CdsJwtRequired, verifier=verifier, base_url=settings.public_base_url)]
