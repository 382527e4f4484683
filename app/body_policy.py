"""The input policy for request bodies, answered with the problem documents of app/errors.py: the
body-size limit (`BodySizeLimit`) and the rules every JSON body is read by (`JsonBodyPolicy`: UTF-8
only, no key repeated in an object, at most MAX_JSON_DEPTH levels of nesting)."""

import json
import sys
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import MAX_JSON_DEPTH, Problem, error_response, problem, shown_key


async def read_body(receive: Receive, limit: int | None = None) -> bytes | None:
    """The whole request body, as the middlewares below need it; None once it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then the connection's own messages."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodySizeLimit:
    """Refuses request bodies over the limit with 413, before the app reads them. `path_limits`
    gives some paths (the batch endpoint) their own limit instead of `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        body = await read_body(receive, limit)
        if body is None:
            await self._refuse(send, limit)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _refuse(self, send: Send, limit: int) -> None:
        response = error_response(
            413, "payload_too_large", [problem("body", f"request bodies are limited to {limit} bytes")]
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


# The JSON body policy ------------------------------------------------------------------------------------

V1_PREFIX = "/v1/"
_ENCODING_NAMES = {
    "utf-16": "UTF-16 (with a byte order mark)",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "utf-32": "UTF-32 (with a byte order mark)",
    "utf-32-le": "UTF-32LE",
    "utf-32-be": "UTF-32BE",
}
_UTF8_JSON = "send the body as UTF-8 JSON (Content-Type: application/json)"


class _Repeats(dict[str, Any]):
    """A JSON object in which some keys appeared more than once (`repeated`, in order)."""

    repeated: list[str]


def _repeated_keys(pairs: list[tuple[str, Any]]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    return repeated


def _repeat_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The dotted paths of every repeated key, in document order (called only when there is one, on a
    document already known to be at most MAX_JSON_DEPTH deep)."""
    found: list[tuple[str, ...]] = []
    if isinstance(value, dict):
        found += [(*path, key) for key in getattr(value, "repeated", ())]
        for key, item in value.items():
            found += _repeat_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _repeat_paths(item, (*path, str(index)))
    return found


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed document has more than `limit` levels of arrays and objects (level by level,
    without recursion, stopping at the first level past the limit)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            item
            for node in level
            for item in (node.values() if isinstance(node, dict) else node)
            if isinstance(item, (dict, list))
        ]
    return False


def _too_deep() -> Problem:
    message = f"the body is nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and objects)"
    return problem("body", message, "json_too_deep")


def json_body_refusal(body: bytes) -> tuple[int, str, list[Problem]] | None:
    """Why a JSON body breaks the input policy (status, error, problems), or None when it does not.
    A body that is not JSON at all is left to FastAPI, which reports it as ever (422 `json_invalid`)."""
    if not body:
        return None
    encoding = json.detect_encoding(body)
    if not encoding.startswith("utf-8"):  # utf-8, or utf-8-sig: a UTF-8 byte order mark, which is ignored
        message = f"the body is {_ENCODING_NAMES.get(encoding, encoding)} text: {_UTF8_JSON}"
        return 415, "unsupported_media_type", [problem("body", message, "unsupported_encoding")]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"the body is not valid JSON (it is not UTF-8 text: byte {exc.start} is not valid UTF-8)"
        return 422, "invalid_request", [problem("body", message, "json_invalid")]
    repeats = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeats
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        repeats = True
        marked = _Repeats(obj)
        marked.repeated = _repeated_keys(items)
        return marked

    try:
        value = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=pairs)
    except json.JSONDecodeError:
        return None
    except RecursionError:
        return 422, "invalid_request", [_too_deep()]
    except ValueError:  # an integer of more digits than Python reads (sys.get_int_max_str_digits())
        message = f"the body holds a number with more than {sys.get_int_max_str_digits()} digits, which is not read"
        return 422, "invalid_request", [problem("body", message, "json_invalid")]
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        return 422, "invalid_request", [_too_deep()]
    if repeats:
        detail = [
            problem(
                shown_key(".".join(path)),
                f"the key {shown_key(path[-1])!r} appears more than once in one JSON object; give each key once",
                "duplicate_key",
            )
            for path in _repeat_paths(value)
        ]
        return 422, "invalid_request", detail
    return None


def _charset(content_type: str) -> tuple[str, str | None]:
    """The media type (lower case) and the charset parameter (None when not given) of a Content-Type."""
    media, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').strip()
    return media.strip().lower(), charset


def _is_json(media: str) -> bool:
    # The media types FastAPI parses as JSON (fastapi/routing.py): application/json and application/*+json.
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _body_operations(app: Any) -> frozenset[tuple[str, str]]:
    return frozenset(
        (path, method.upper())
        for path, operations in app.openapi().get("paths", {}).items()
        for method, operation in operations.items()
        if path.startswith(V1_PREFIX) and "requestBody" in operation
    )


class JsonBodyPolicy:
    """Reads the JSON body of every /v1/ operation that takes one by the input policy before FastAPI
    parses it, and answers a body that breaks it itself: a charset other than UTF-8, or UTF-16/UTF-32
    text, 415; invalid UTF-8, a key repeated in one object (at any depth, named with its dotted path)
    or nesting deeper than MAX_JSON_DEPTH, 422. Innermost, so the body is already within its size
    limit. Other bodies pass untouched; the operations are read from the app's own OpenAPI document
    (`scope["app"]`, as app/strict_query.py does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.operations: frozenset[tuple[str, str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(V1_PREFIX):
            await self.app(scope, receive, send)
            return
        if self.operations is None:  # built on first use: the routes are all registered by then
            self.operations = _body_operations(scope["app"])
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1")
        media, charset = _charset(content_type)
        if (scope["path"], "POST") not in self.operations or not _is_json(media):
            await self.app(scope, receive, send)
            return
        if charset is not None and charset.lower() != "utf-8":
            why = f"charset {charset!r} is not supported: {_UTF8_JSON}"
            refusal = error_response(
                415, "unsupported_media_type", [problem("header.content-type", why, "unsupported_charset")]
            )
            await refusal(scope, receive, send)
            return
        body = await read_body(receive) or b""  # no limit here: BodySizeLimit, outside, applied one
        refused = json_body_refusal(body)
        if refused is not None:
            status, error, detail = refused
            await error_response(status, error, detail)(scope, _no_receive, send)
            return
        await self.app(scope, replaying(body, receive), send)
