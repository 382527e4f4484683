"""POST /v1/explain/batch: many cases in, one result per case out, in order. An invalid case gets
its own `invalid` entry, carrying the problem document a 422 from /v1/explain would (app/errors.py),
instead of failing the whole batch. Each entry is assembled as bytes by one function (`_entry`), from the same bytes
as POST /v1/explain answers (ExplainerService.explain_json).

Two representations of the same entries, chosen by the Accept header (`wants_ndjson`), both sent
entry by entry as computed (the first arrives long before the last, and the server holds one entry
at a time however large the batch):

- `application/json` (the default): `{"count", "explained", "invalid", "results": [entry, ...]}`,
  the counts known from validation before any case is explained;
- `application/x-ndjson`: the entries alone, one per line."""

import asyncio
import json
import math
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from starlette.types import Receive, Scope, Send

from app.core.service import ExplainerService
from app.errors import ErrorResponse, Problem, error_body, validation_problems
from app.limits import WorkLimiter
from app.routes.deps import LimitsDep, ServiceDep
from app.routes.explain import EXAMPLES
from app.settings import Settings
from schemas.case import Case
from schemas.explanation import Explanation

JSON = "application/json"
NDJSON = "application/x-ndjson"
_VARY = {"Vary": "Accept"}


class Explained(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="Position of the case in the request, from 0.")
    status: Literal["ok"]
    explanation: Explanation


class Invalid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="Position of the case in the request, from 0.")
    status: Literal["invalid"]
    problem: ErrorResponse = Field(
        description="The problem document (RFC 9457) POST /v1/explain would answer for this case with its 422."
    )


class BatchResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(description="Number of cases received.")
    explained: int
    invalid: int
    results: list[Annotated[Explained | Invalid, Field(discriminator="status")]] = Field(
        description="One entry per case, in request order."
    )


# The schema of one NDJSON line: one entry of BatchResponse.results (FastAPI names the components
# after the models; a test checks this is exactly the `results` item schema of the document).
NDJSON_LINE_SCHEMA: dict[str, Any] = {
    "oneOf": [{"$ref": "#/components/schemas/Explained"}, {"$ref": "#/components/schemas/Invalid"}],
    "discriminator": {
        "propertyName": "status",
        "mapping": {"invalid": "#/components/schemas/Invalid", "ok": "#/components/schemas/Explained"},
    },
}

# A case that fails validation is kept as sent, so it can be reported on its own. The published
# schema says what to send (a Case); an item that is not one gets an `invalid` entry, not a 422.
BatchItem = Annotated[Case | SkipJsonSchema[Any], Field(union_mode="left_to_right")]


def _validate(raw: Any) -> tuple[Case | None, list[Problem]]:
    """An item the batch model did not accept as a Case, validated on its own for its errors."""
    try:
        return Case.model_validate(raw), []
    except ValidationError as exc:
        problems = validation_problems(exc.errors())  # bounded like any 422 (app/errors.py)
    for p in problems:
        if p.field == "body":
            p.field = "case"
        if p.kind == "model_type":
            p.message = "each item must be a JSON object describing a case"
    return None, problems


def _invalid(index: int, problems: list[Problem]) -> bytes:
    """An `Invalid` entry: the index and status, then the same problem document as any 422 (app/errors.py)."""
    entry = {"index": index, "status": "invalid", "problem": error_body("invalid_request", problems)}
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()


Checked = tuple[Case | None, list[Problem]]


def _check(cases: Sequence[Any]) -> list[Checked]:
    """Every item as a Case, or the problems that stop it being one: cheap, and it gives the counts
    before any case is explained."""
    return [(item, []) if isinstance(item, Case) else _validate(item) for item in cases]


def _entry(index: int, checked: Checked, svc: ExplainerService) -> bytes:
    """One entry of `results` as bytes (an `Explained` or an `Invalid`). The JSON answer and the
    NDJSON lines are both made of these bytes, so they cannot differ."""
    case, problems = checked
    if case is None:
        return _invalid(index, problems)
    return b'{"index":%d,"status":"ok","explanation":%s}' % (index, svc.explain_json(case))


# Both answers are streamed: each entry is written as it is computed and the server holds one at a
# time, however large the batch. They run on the event loop, not in a worker thread: the engine never
# releases the GIL, so a thread gains nothing, and a sync generator (one thread hand-off per entry)
# streamed 1,000 cases more slowly in each of six runs against uvicorn (17-20 % on a quiet machine).
# The `sleep(0)` after each entry lets other requests run between cases, and lets a client's
# disconnect cancel the rest of the batch.


def _head(checked: Sequence[Checked]) -> bytes:
    """The start of the `BatchResponse` document: the counts (validation alone decides them)."""
    count, explained = len(checked), sum(case is not None for case, _ in checked)
    return b'{"count":%d,"explained":%d,"invalid":%d,"results":[' % (count, explained, count - explained)


def document_bytes(cases: Sequence[Any], svc: ExplainerService) -> bytes:
    """The whole `BatchResponse` at once, as streamed (the published response example)."""
    checked = _check(cases)
    return _head(checked) + b",".join(_entry(i, item, svc) for i, item in enumerate(checked)) + b"]}"


async def _json_document(cases: Sequence[Any], svc: ExplainerService) -> AsyncIterator[bytes]:
    """The `BatchResponse` document: the counts first, then the entries."""
    checked = _check(cases)
    yield _head(checked)
    for index, item in enumerate(checked):
        yield (b"," if index else b"") + _entry(index, item, svc)
        await asyncio.sleep(0)
    yield b"]}"


async def _ndjson_lines(cases: Sequence[Any], svc: ExplainerService) -> AsyncIterator[bytes]:
    """One line per entry (a slow reader holds back the computing)."""
    for index, item in enumerate(_check(cases)):
        yield _entry(index, item, svc) + b"\n"
        await asyncio.sleep(0)


class _InSlot(StreamingResponse):
    """A streamed answer that holds a slot of `limiter` from before its status line is sent (so a
    full server answers 503 instead) until its last byte, or until the client goes away."""

    def __init__(self, content: AsyncIterator[bytes], limiter: WorkLimiter, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.limiter.slot():
            await super().__call__(scope, receive, send)


def _quality(params: list[str]) -> float:
    """The q of a media range (1 when absent; 0 when it is not a number from 0 to 1)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if math.isfinite(q) and 0.0 <= q <= 1.0 else 0.0
    return 1.0


def wants_ndjson(accept: str | None) -> bool:
    """Whether the Accept header asks for NDJSON. Kept simple: NDJSON only when `application/x-ndjson`
    is named with a q above 0 that is at least the q JSON gets (from `application/json`,
    `application/*` or `*/*`, the most specific one listed; 0 if none is). Wildcards never select
    NDJSON; every other Accept (none, `*/*`, `text/html`, ...) gets JSON: there is no 406."""
    if not accept:
        return False
    ndjson_q = 0.0
    json_q: dict[int, float] = {}  # specificity (3 exact, 2 application/*, 1 */*) -> q
    for media_range in accept.split(","):
        media, *params = media_range.split(";")
        media = media.strip().lower()
        q = _quality(params)
        if media == NDJSON:
            ndjson_q = max(q, ndjson_q)
        elif (rank := {JSON: 3, "application/*": 2, "*/*": 1}.get(media)) is not None:
            json_q[rank] = max(q, json_q.get(rank, 0.0))
    return ndjson_q > 0.0 and ndjson_q >= (json_q[max(json_q)] if json_q else 0.0)


BATCH_EXAMPLES: dict[str, dict[str, Any]] = {
    "one_valid_one_invalid": {
        "summary": "Two cases: the first is explained, the second (an unknown primary site) gets an invalid entry",
        "value": {
            "cases": [
                EXAMPLES["colorectal_liver_only"]["value"],
                {**EXAMPLES["breast_unfit"]["value"], "primary_site": "liver"},
            ]
        },
    }
}


def router(settings: Settings) -> APIRouter:
    """Built per app: the case limit is configuration, and it is part of the published schema."""

    class BatchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", title="BatchRequest")

        cases: list[BatchItem] = Field(
            max_length=settings.max_batch_items,
            description=f"Up to {settings.max_batch_items} cases (LIVERMETS_MAX_BATCH_ITEMS), each shaped like "
            "the body of POST /v1/explain.",
        )

    api = APIRouter(prefix="/v1", tags=["explain"])
    limits = f"at most {settings.max_batch_items} cases and {settings.max_batch_body_bytes} bytes"

    @api.post(
        "/explain/batch",
        response_model=BatchResponse,
        summary="Explain many cases at once; invalid cases get their own error entry",
        description=f"One result per case, in request order ({limits}). With `Accept: {NDJSON}` the "
        "results are streamed instead, one JSON object per line, each line sent as soon as its case "
        "is computed.",
        responses={
            200: {
                "description": f"One result per case, in request order. `{JSON}` (the default): a "
                f"BatchResponse. `{NDJSON}` (when the Accept header prefers it): the entries of "
                "`results` alone, one JSON object per line, each line ending with a newline; "
                "an empty batch gives an empty body.",
                "content": {
                    NDJSON: {
                        "schema": {
                            **NDJSON_LINE_SCHEMA,
                            "description": "One JSON object per line (newline-delimited JSON): each line "
                            "is one entry of BatchResponse.results, in request order.",
                        }
                    }
                },
            },
            413: {"model": ErrorResponse, "description": f"Body over {settings.max_batch_body_bytes} bytes"},
            422: {"model": ErrorResponse, "description": "Not a batch, or more cases than allowed"},
            503: {
                "model": ErrorResponse,
                "description": "Too many batches being streamed at once on this server (`busy`, with "
                "Retry-After); or the rulebook is still loading (`not_ready`).",
            },
        },
    )
    async def explain_batch(
        batch: Annotated[BatchRequest, Body(openapi_examples=BATCH_EXAMPLES)],
        svc: ServiceDep,
        limits: LimitsDep,
        request: Request,
    ) -> Response:
        # async: FastAPI would run a plain `def` in a worker thread; both answers are computed on the
        # event loop as they stream (see _json_document), each holding a batch slot while it does.
        if wants_ndjson(",".join(request.headers.getlist("accept"))):
            return _InSlot(_ndjson_lines(batch.cases, svc), limits.batches, media_type=NDJSON, headers=_VARY)
        return _InSlot(_json_document(batch.cases, svc), limits.batches, media_type=JSON, headers=_VARY)

    return api
