"""POST /v1/explain/batch: many cases in, one result per case out, in order. An invalid case gets
its own error entry (same field/message shape as a 422 from /v1/explain) instead of failing the
whole batch. The response is assembled as bytes: each explanation is serialised once by pydantic,
with no second validation pass and no generic encoder walking a thousand nested dicts."""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import ErrorResponse, Problem, error_body, validation_problem
from app.routes.deps import ServiceDep
from app.settings import Settings
from schemas.case import Case
from schemas.explanation import Explanation

_explanation_json = Explanation.__pydantic_serializer__.to_json


class Explained(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="Position of the case in the request, from 0.")
    status: Literal["ok"]
    explanation: Explanation


class Invalid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="Position of the case in the request, from 0.")
    status: Literal["invalid"]
    error: Literal["invalid_request"]
    detail: list[Problem]


class BatchResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(description="Number of cases received.")
    explained: int
    invalid: int
    results: list[Annotated[Explained | Invalid, Field(discriminator="status")]] = Field(
        description="One entry per case, in request order."
    )


# A case that fails validation is kept as sent, so it can be reported on its own.
BatchItem = Annotated[Case | Any, Field(union_mode="left_to_right")]


def _validate(raw: Any) -> tuple[Case | None, list[Problem]]:
    """An item the batch model did not accept as a Case, validated on its own for its errors."""
    try:
        return Case.model_validate(raw), []
    except ValidationError as exc:
        problems = [validation_problem(e) for e in exc.errors()]
    for p in problems:
        if p.field == "body":
            p.field = "case"
        if p.type == "model_type":
            p.message = "each item must be a JSON object describing a case"
    return None, problems


def _invalid(index: int, problems: list[Problem]) -> bytes:
    """An `Invalid` entry: the index and status, then the same body as any 422 (app/errors.py)."""
    entry = {"index": index, "status": "invalid", **error_body("invalid_request", problems)}
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()


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
        description=f"One result per case, in request order ({limits}).",
        responses={
            413: {"model": ErrorResponse, "description": f"Body over {settings.max_batch_body_bytes} bytes"},
            422: {"model": ErrorResponse, "description": "Not a batch, or more cases than allowed"},
        },
    )
    def explain_batch(
        batch: Annotated[BatchRequest, Body()],
        svc: ServiceDep,
    ) -> Response:
        parts: list[bytes] = []
        explained = 0
        for index, item in enumerate(batch.cases):
            case, problems = (item, []) if isinstance(item, Case) else _validate(item)
            if case is None:
                parts.append(_invalid(index, problems))
                continue
            parts.append(b'{"index":%d,"status":"ok","explanation":%s}' % (index, _explanation_json(svc.explain(case))))
            explained += 1
        count = len(batch.cases)
        head = b'{"count":%d,"explained":%d,"invalid":%d,"results":[' % (count, explained, count - explained)
        return Response(content=head + b",".join(parts) + b"]}", media_type="application/json")

    return api
