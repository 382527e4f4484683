"""GET /problems/{code}: what each problem type means. A problem document's `type` is this path
(RFC 9457 asks that a type URI, dereferenced, describe the type); the table is app/errors.py's."""

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from app.errors import PROBLEM_TYPE_PREFIX, PROBLEM_TYPES

router = APIRouter(tags=["health"], include_in_schema=False)


class ProblemTypeOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    code: str
    title: str
    status: int
    description: str


@router.get(PROBLEM_TYPE_PREFIX + "{code}")
async def problem_type(code: str) -> ProblemTypeOut:
    kind = PROBLEM_TYPES.get(code)
    if kind is None:
        raise HTTPException(status_code=404)
    return ProblemTypeOut(
        type=PROBLEM_TYPE_PREFIX + code, code=code, title=kind.title, status=kind.status, description=kind.about
    )
