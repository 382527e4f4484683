"""Unknown query parameters on /v1/* are refused like unknown body fields (422), so a typo such as
`?whatif=true` is reported instead of being silently ignored. The parameters each operation
accepts are read from the app's own OpenAPI document, so a new parameter needs no change here
(app/openapi.py declares the resulting 422 on every /v1/ operation)."""

from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response, problem

PREFIX = "/v1/"


def _declared(api: FastAPI) -> dict[tuple[str, str], frozenset[str]]:
    declared: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in api.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            declared[(path, method.upper())] = frozenset(names)
    return declared


class RejectUnknownQuery:
    """The FastAPI app whose document lists the parameters is the one serving the request
    (`scope["app"]`), so the middleware can be declared before the app exists."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.declared: dict[tuple[str, str], frozenset[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("query_string") or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if self.declared is None:  # built on first use: the routes are all registered by then
            self.declared = _declared(scope["app"])
        allowed = self.declared.get((scope["path"], scope["method"]))
        sent = {name for name, _ in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)}
        unknown = sorted(sent - allowed) if allowed is not None else []
        if not unknown:
            await self.app(scope, receive, send)
            return
        listed = ", ".join(sorted(allowed or ())) or "none"
        detail = [
            problem(f"query.{name}", f"unknown query parameter {name!r}; allowed: {listed}", "extra_forbidden")
            for name in unknown
        ]
        await error_response(422, "invalid_request", detail)(scope, receive, send)
