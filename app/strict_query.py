"""The query-string policy on /v1/*: unknown query parameters are refused like unknown body fields
(422), so a typo such as `?whatif=true` is reported instead of being silently ignored; a declared
parameter is given at most once (`?what_if=true&what_if=false` is not resolved silently either); and
a boolean parameter is exactly `true` or `false` (`yes`, `1`, `TRUE` or `on` are refused, not read as
true). The parameters each operation accepts, and their types, are read from the app's own OpenAPI
document, so a new parameter needs no change here (app/openapi.py declares the resulting 422 on every
/v1/ operation)."""

from collections import Counter
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import Problem, error_response, problem, shown_key, with_input

PREFIX = "/v1/"
BOOLEANS = ("true", "false")

# For each operation, its query parameters: name -> JSON Schema type ("boolean", "string", ...).
Declared = dict[tuple[str, str], dict[str, str]]


def _declared(api: FastAPI) -> Declared:
    declared: Declared = {}
    for path, operations in api.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            declared[(path, method.upper())] = {
                p["name"]: p.get("schema", {}).get("type", "")
                for p in operation.get("parameters", [])
                if p.get("in") == "query"
            }
    return declared


def _problems(sent: list[tuple[str, str]], allowed: dict[str, str]) -> list[Problem]:
    """What is wrong with the query parameters `sent` for an operation declaring `allowed`."""
    counts = Counter(name for name, _ in sent)
    listed = ", ".join(sorted(allowed)) or "none"
    problems = [
        problem(
            f"query.{shown_key(name)}",
            f"unknown query parameter {shown_key(name)!r}; allowed: {listed}",
            "extra_forbidden",
        )
        for name in sorted(set(counts) - set(allowed))
    ]
    problems += [
        problem(f"query.{name}", f"query parameter {name!r} is given {count} times; give it once", "duplicate_key")
        for name, count in counts.items()
        if name in allowed and count > 1
    ]
    problems += [
        with_input(
            problem(
                f"query.{name}",
                f"query parameter {name!r} must be true or false (lower case), not {value[:40]!r}",
                "bool_parsing",
            ),
            value,
        )
        for name, value in sent
        if allowed.get(name) == "boolean" and counts[name] == 1 and value not in BOOLEANS
    ]
    return problems


class RejectUnknownQuery:
    """The FastAPI app whose document lists the parameters is the one serving the request
    (`scope["app"]`), so the middleware can be declared before the app exists."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.declared: Declared | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("query_string") or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if self.declared is None:  # built on first use: the routes are all registered by then
            self.declared = _declared(scope["app"])
        allowed = self.declared.get((scope["path"], scope["method"]))
        if allowed is None:  # no such operation: the app answers (404, 405)
            await self.app(scope, receive, send)
            return
        sent = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        problems = _problems(sent, allowed)
        if not problems:
            await self.app(scope, receive, send)
            return
        await error_response(422, "invalid_request", problems)(scope, receive, send)
