"""Conditional GET for the catalogue (/v1/sources, /v1/categories, /v1/rules, /v1/about): answers
that change only when the rulebook does, so a client may keep them and ask again with the tag.

Each answer is serialised once per loaded rulebook and kept with its entity tag. The tag is strong
and names the rulebook and the representation: the first 16 hex digits of the rulebook digest, then
16 of the SHA-256 of the answer's bytes (so a new version of the service that shapes the answer
differently also gets a new tag). A request whose If-None-Match holds the tag (or `*`) gets 304
with no body. A gzip-coded answer carries the tag with `-gzip` added (app/compression.py), so each
coding has its own strong tag.

`Cache-Control: no-cache`: a client or cache may store the answer but must revalidate before each
use. The rulebook changes only with a restart of the service, but then every answer must change at
once: the rules a client shows next to a fresh explanation must be the rules that made it, and a
max-age would leave a window in which they are not. A revalidation is one short 304. It also keeps
the API key check (when a key is set) on every use, since a cache must ask the server each time."""

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app.core.service import ExplainerService

CACHE_CONTROL = "no-cache"
JSON = "application/json"

# Declared on each catalogue operation (its `responses`), so the contract says what clients may rely on.
OPENAPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "ETag": {
                "description": "Strong entity tag of this answer: it changes when the rulebook (its digest) or the "
                "representation changes. Send it back in If-None-Match to revalidate.",
                "schema": {"type": "string"},
            },
            "Cache-Control": {
                "description": f"`{CACHE_CONTROL}`: may be stored, but revalidate (If-None-Match) before each use.",
                "schema": {"type": "string"},
            },
        }
    },
    304: {
        "description": "Not Modified: the If-None-Match header holds this answer's current ETag; no body. "
        "The ETag and Cache-Control headers are sent again.",
    },
}

# Declared here rather than as a FastAPI Header parameter: any value is valid (an unknown tag is no
# match), and a declared parameter would make FastAPI publish a validation error that cannot happen.
OPENAPI_EXTRA: dict[str, Any] = {
    "parameters": [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "ETags of answers already held (or `*`): when one is current, the answer is 304 "
            "with no body.",
            "schema": {"type": "string"},
        }
    ]
}


def entity_tag(rulebook_digest: str, body: bytes) -> str:
    rulebook = rulebook_digest.removeprefix("sha256:")[:16]
    return f'"{rulebook}-{hashlib.sha256(body).hexdigest()[:16]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether If-None-Match names `tag` (weak comparison, as RFC 9110 says for If-None-Match)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


class CatalogueAnswers:
    """The serialised catalogue answers of one app, each built once for the service that is loaded."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[ExplainerService, bytes, str]] = {}

    def answer(self, request: Request, svc: ExplainerService, build: Callable[[], bytes]) -> Response:
        """The answer at this path (built by `build` the first time), or 304 when the client holds it."""
        path = request.url.path
        kept = self._kept.get(path)
        if kept is None or kept[0] is not svc:
            body = build()
            kept = (svc, body, entity_tag(svc.book.digest, body))
            self._kept[path] = kept
        _, body, tag = kept
        headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
        if matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=JSON, headers=headers)


def catalogue_answers(request: Request) -> CatalogueAnswers:
    """The app's store of catalogue answers (made on first use)."""
    state = request.app.state
    if not hasattr(state, "catalogue_answers"):
        state.catalogue_answers = CatalogueAnswers()
    found: CatalogueAnswers = state.catalogue_answers
    return found
